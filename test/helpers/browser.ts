/**
 * Debian's Chromium driven by playwright-core (no browser is ever downloaded). Absent Chromium
 * skips the browser tests with a clear message, and FAILS them under CI=true.
 */
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const IN_CI = process.env.CI === 'true'

/** For a test's `skip` option, decided before the tests run. */
export function browserSkipSync (): string | false {
  if (existsSync(CHROMIUM_PATH)) return false
  const message = `Chromium is not at ${CHROMIUM_PATH}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`
  if (IN_CI) throw new Error(`CI=true and the browser tests cannot run: ${message}`)
  console.log(`browser tests skipped: ${message}`)
  return `skipped: ${message}`
}

/**
 * One headless Chromium, quiet (no background traffic, no updates). playwright gives it a fresh
 * temporary profile and removes it on close.
 */
export async function launchChromium (): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync']
  })
}
