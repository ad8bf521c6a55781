/**
 * A bounded run of the fuzzer (issue 8.5), so that CI exercises it: a few hundred mutated JWT and
 * signed requests against a real server on 127.0.0.1 (in a child process). `npm run fuzz --
 * --requests N` runs it at any size.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { failures, runFuzz } from './fuzz/run.js'

test('fuzz: 400 mutated requests — no 5xx, no crash, no forgery accepted, no key in the log', { timeout: 60_000 }, async () => {
  const report = await runFuzz({ requests: 400, concurrency: 8 })
  assert.deepEqual(failures(report), [], `seed ${report.seed}:\n${report.samples.join('\n')}`)
  assert.ok(report.requests >= 400)
  assert.ok(report.validAccepted > 0 && report.validAccepted === report.validSent, `valid accepted ${report.validAccepted}/${report.validSent}`)
  assert.ok(report.replaysRefused > 0, 'replays were tried and refused')
  // Most mutations must be refused; the accepted ones were judged benign (white space, case).
  const refused = Object.entries(report.statuses).filter(([status]) => Number(status) >= 400).reduce((sum, [, n]) => sum + n, 0)
  assert.ok(refused > report.requests / 3, `only ${refused} refusals`)
})
