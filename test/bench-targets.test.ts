/**
 * The benchmark's verdicts (bench/targets.ts, bench/stats.ts): what a scenario adds over its
 * control route is the mean of its paired differences with a 95 % bootstrap interval; a ratio
 * to the cheapest peer is a ratio of means with its interval; a bar is passed only when the whole
 * interval is under it, missed when the whole interval is over it, and otherwise unresolved; a
 * missing scenario is "not measured", never passed.
 */
import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import { atMost, meanInterval, ratioInterval } from '../bench/stats.js'
import { addedRatio, judge, type Judged, type ScenarioResult } from '../bench/targets.js'

function scenario (differences: number[]): ScenarioResult {
  const added = differences.reduce((sum, d) => sum + d, 0) / differences.length
  return { rps: 1, p50Ms: 1, p99Ms: 1, cpuUsPerReq: 20 + added, ratioToBare: 1, addedCpuUs: added, differences, rounds: [{ rps: 1, cpuUsPerReq: 20 + added, addedCpuUs: added }] }
}

/** `n` differences around `center`, spread by `spread` either side (deterministic). */
const around = (center: number, spread: number, n = 24): number[] => Array.from({ length: n }, (_, i) => center + spread * Math.sin(i * 2.1))

test('the interval of a mean holds the mean, narrows with less noise, and is the same on every call', () => {
  const noisy = meanInterval(around(5, 6))
  const quiet = meanInterval(around(5, 1))
  assert.ok(noisy.low < noisy.value && noisy.value < noisy.high)
  assert.ok(quiet.high - quiet.low < (noisy.high - noisy.low) / 3)
  assert.deepEqual(meanInterval(around(5, 6)), noisy)
  assert.deepEqual(meanInterval([2, 2, 2]), { value: 2, low: 2, high: 2 })
  assert.ok(Number.isNaN(meanInterval([]).value))
})

test('a bar is passed only by the whole interval, missed only by the whole interval', () => {
  assert.equal(atMost({ value: 1, low: 0.5, high: 1.4 }, 1.5), 'pass')
  assert.equal(atMost({ value: 2, low: 1.6, high: 2.5 }, 1.5), 'miss')
  assert.equal(atMost({ value: 1, low: 0.2, high: 1.8 }, 1.5), 'unresolved')
  assert.equal(atMost({ value: 2, low: 1.2, high: 2.8 }, 1.5), 'unresolved')
})

test('the ratio is of the means against the cheapest peer, with an interval around it', () => {
  const results: Judged = {
    scenarios: {
      'jwt-cold': scenario(around(10, 2)),
      'fastify-jwt': scenario(around(40, 2)),
      'jose-hs256': scenario(around(20, 2))
    }
  }
  const found = addedRatio(results, 'jwt-cold', ['fastify-jwt', 'jose-hs256'])
  assert.equal(found?.peer, 'jose-hs256')
  const mean = (values: number[]): number => values.reduce((sum, v) => sum + v, 0) / values.length
  assert.equal(found?.ratio.value, mean(around(10, 2)) / mean(around(20, 2)))
  assert.ok(found!.ratio.low < found!.ratio.value && found!.ratio.value < found!.ratio.high)
  // A peer that adds nothing on average leaves no meaningful ratio.
  assert.ok(Number.isNaN(ratioInterval([1, 2], [0, 0]).value))
})

test('targets pass, miss or stay unresolved on the intervals, and a missing peer is not measured', () => {
  const verdicts = judge({
    scenarios: {
      'jwt-cold': scenario(around(7, 1)),
      'fastify-jwt': scenario(around(20, 1)),
      'signature-hmac': scenario(around(10, 1)),
      'jwt-cached': scenario(around(1.6, 3))
    },
    micro: { ed25519PathRatio: 1.05 }
  })
  const byTarget = Object.fromEntries(verdicts.map((v) => [v.target.split(' ')[0] + (v.target.includes('Ed25519') ? '-ed' : ''), v.verdict]))
  assert.equal(byTarget['jwt-cold'], 'pass') // 0.35x, the interval well under 0.6x
  assert.equal(byTarget['signature-hmac'], 'not measured') // no http-message-signatures run
  assert.equal(byTarget['jwt-cached'], 'unresolved') // 1.6 us, but the interval spans 1.5 us
  assert.equal(byTarget['Ed25519-ed'], 'pass')
  const missed = judge({ scenarios: { 'jwt-cached': scenario(around(4, 1)) } })
  assert.equal(missed.find((v) => v.target.startsWith('jwt-cached'))?.verdict, 'miss')
  assert.match(missed.find((v) => v.target.startsWith('jwt-cached'))!.value, /^4\.\d\d us \(95 % interval [\d.]+ to [\d.]+\)$/)
})

test('figures are taken over bare: its route − control offset is subtracted from every scenario and from both sides of a ratio', async () => {
  const { addedInterval, withAddedFigures } = await import('../bench/targets.js')
  const results: Judged = {
    scenarios: {
      bare: scenario(around(-6, 1)),
      'jwt-cached': scenario(around(-1, 1)),
      'jwt-cold': scenario(around(24, 1)),
      'fastify-jwt': scenario(around(54, 1))
    }
  }
  const mean = (values: number[]): number => values.reduce((sum, v) => sum + v, 0) / values.length
  const cached = addedInterval(results, 'jwt-cached')
  assert.ok(Math.abs(cached.value - (mean(around(-1, 1)) - mean(around(-6, 1)))) < 1e-9) // about 5, not -1
  assert.ok(cached.low > 3 && cached.high < 7)
  assert.equal(addedInterval(results, 'bare').value, mean(around(-6, 1))) // bare's own figure: the offset
  const ratio = addedRatio(results, 'jwt-cold', ['fastify-jwt'])!.ratio.value
  assert.ok(Math.abs(ratio - 0.5) < 0.01, `ratio ${ratio}`) // (24 + 6) / (54 + 6), not 24 / 54
  withAddedFigures(results)
  assert.equal((results.scenarios['jwt-cached'] as ScenarioResult).addedCpuUs, Math.round(cached.value * 100) / 100)
  const verdict = judge(results).find((v) => v.target.startsWith('jwt-cached'))
  assert.equal(verdict?.verdict, 'miss') // about 5 us over bare
})

test('a scenario measured at a rate of its own is taken over bare at that rate, not at the others\' rate', async () => {
  const { addedInterval } = await import('../bench/targets.js')
  const mean = (values: number[]): number => values.reduce((sum, v) => sum + v, 0) / values.length
  const bare = { ...scenario(around(-1, 1)), rate: 8000, byRate: { 8000: around(-1, 1), 1300: around(4, 1) } }
  const results: Judged = {
    scenarios: {
      bare,
      'jwt-cold': { ...scenario(around(9, 1)), rate: 8000, byRate: { 8000: around(9, 1), 1300: around(24, 1) } },
      'fastify-jwt': { ...scenario(around(19, 1)), rate: 8000, byRate: { 8000: around(19, 1), 1300: around(29, 1) } },
      'jose-hs256': { ...scenario(around(12, 1)), rate: 8000 }, // not measured at 1300
      'signature-ed25519': { ...scenario(around(204, 1)), rate: 1300 },
      // Written before rates had groups: no rate, bare's own differences.
      'jwt-cached': scenario(around(0, 1))
    }
  }
  const over = (samples: number[], offset: number[]): number => mean(samples) - mean(offset)
  const near = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9
  assert.ok(near(addedInterval(results, 'jwt-cold').value, over(around(9, 1), around(-1, 1))))
  assert.ok(near(addedInterval(results, 'jwt-cold', 1300).value, over(around(24, 1), around(4, 1))))
  assert.ok(near(addedInterval(results, 'signature-ed25519').value, over(around(204, 1), around(4, 1))))
  assert.ok(near(addedInterval(results, 'jwt-cached').value, over(around(0, 1), around(-1, 1))))
  assert.equal(addedInterval(results, 'bare').value, mean(around(-1, 1)))
  assert.ok(Number.isNaN(addedInterval(results, 'jose-hs256', 1300).value))
  // At its own rate the cheapest peer is jose-hs256; at 1300 req/s only fastify-jwt was measured.
  const atOwn = addedRatio(results, 'jwt-cold', ['fastify-jwt', 'jose-hs256'])!
  assert.equal(atOwn.peer, 'jose-hs256')
  assert.ok(near(atOwn.ratio.value, over(around(9, 1), around(-1, 1)) / over(around(12, 1), around(-1, 1))))
  const atLow = addedRatio(results, 'jwt-cold', ['fastify-jwt', 'jose-hs256'], 1300)!
  assert.equal(atLow.peer, 'fastify-jwt')
  assert.ok(near(atLow.ratio.value, over(around(24, 1), around(4, 1)) / over(around(29, 1), around(4, 1))))
})

test('the webhook receive-log targets: >= 0.8x the plain insert loop for single events and for batches; not measured without PostgreSQL', () => {
  const receiveVerdicts = (webhooks: Parameters<typeof judge>[0]['webhooks']) =>
    judge({ scenarios: {}, webhooks }).filter((v) => v.target.startsWith('webhook receive log')).map((v) => [v.value, v.verdict])
  assert.deepEqual(receiveVerdicts({ receive: { single: { ratio: 0.85 }, batch100: { ratio: 0.79 } } }), [['0.85x', 'pass'], ['0.79x', 'miss']])
  assert.deepEqual(receiveVerdicts({ skipped: 'PostgreSQL is not reachable' }), [['not measured', 'not measured'], ['not measured', 'not measured']])
})

test('a full run writes its headline into the README between the markers, and only there', async () => {
  const { withHeadline } = await import('../bench/report.js')
  const results = {
    machine: { cpu: 'CPU', cores: 2 },
    node: 'v20',
    date: '2026-12-01T00:00:00.000Z',
    settings: { mode: 'full', rounds: 1, seconds: 1, warmupSeconds: 1, connections: 1 },
    scenarios: { 'jwt-cold': scenario([7, 7]), 'fastify-jwt': scenario([20, 20]), 'jwt-cached': scenario([1, 1]) },
    targets: []
  }
  const readme = 'before\n<!-- bench-headline:start (written by npm run bench) -->\nold table\n<!-- bench-headline:end -->\nafter\n'
  const written = withHeadline(readme, results)
  assert.match(written, /^before\n/)
  assert.match(written, /after\n$/)
  assert.doesNotMatch(written, /old table/)
  assert.match(written, /\| a new HS256 JWT per request \| `jwt-cold` \| 7\.0 \(7\.0 to 7\.0\) \| `fastify-jwt` \| 20\.0 \(20\.0 to 20\.0\) \| 0\.35× \(0\.35 to 0\.35\) \|/)
  assert.throws(() => withHeadline('no markers', results), /markers/)
})
