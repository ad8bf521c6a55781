/**
 * The python3 that runs the original's libraries in the interop tests: one with PyJWT and
 * cryptography (Debian: python3-jwt, which .ci/run installs when missing). Under CI a missing
 * one is a failing test; elsewhere the tests skip with the reason.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'

function findPython (): string | null {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(candidate, ['-c', 'import jwt, cryptography'], { stdio: 'ignore' })
      return candidate
    } catch {}
  }
  return null
}

/** `python` to run, and `skip` for the tests that need it (false when it is there). */
export function pythonWithPyJwt (): { python: string, skip: false } | { python: null, skip: string } {
  const python = findPython()
  if (python !== null) return { python, skip: false }
  const missing = 'no python3 with PyJWT and cryptography here (apt-get install python3-jwt)'
  if (process.env.CI === 'true') test('python3 with PyJWT is available under CI', () => assert.fail(missing))
  return { python: null, skip: missing }
}
