/**
 * The benchmark's verdicts (bench/targets.ts): what a scenario adds over bare, compared with the
 * cheapest peer for the same job round by round, then the median; a missing scenario is judged
 * "not measured", never passed.
 */
import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import { addedRatio, judge, type Judged } from '../bench/targets.js'

function scenario (added: number[]): { rps: number, p50Ms: number, p99Ms: number, cpuUsPerReq: number, ratioToBare: number, addedCpuUs: number, rounds: Array<{ rps: number, cpuUsPerReq: number, addedCpuUs: number }> } {
  const sorted = [...added].sort((a, b) => a - b)
  return { rps: 1, p50Ms: 1, p99Ms: 1, cpuUsPerReq: 20, ratioToBare: 1, addedCpuUs: sorted[Math.floor(sorted.length / 2)], rounds: added.map((a) => ({ rps: 1, cpuUsPerReq: 20 + a, addedCpuUs: a })) }
}

test('the ratio is taken against the cheapest peer, per round, then the median', () => {
  const results: Judged = {
    scenarios: {
      'jwt-cold': scenario([10, 12, 30]),
      'fastify-jwt': scenario([40, 40, 40]),
      'jose-hs256': scenario([20, 24, 30])
    }
  }
  const found = addedRatio(results, 'jwt-cold', ['fastify-jwt', 'jose-hs256'])
  assert.equal(found?.peer, 'jose-hs256')
  assert.equal(found?.ratio, 0.5) // rounds: 10/20, 12/24, 30/30 -> median 0.5
})

test('targets pass and miss on the figures, and a missing peer is not measured', () => {
  const verdicts = judge({
    scenarios: {
      'jwt-cold': scenario([7, 7, 7]),
      'fastify-jwt': scenario([20, 20, 20]),
      'signature-hmac': scenario([10, 10, 10]),
      'jwt-cached': scenario([1.6, 1.6, 1.6])
    },
    micro: { ed25519PathRatio: 1.05 }
  })
  const byTarget = Object.fromEntries(verdicts.map((v) => [v.target.split(' ')[0] + (v.target.includes('Ed25519') ? '-ed' : ''), v.pass]))
  assert.equal(byTarget['jwt-cold'], true) // 0.35x
  assert.equal(byTarget['signature-hmac'], null) // no http-message-signatures run
  assert.equal(byTarget['jwt-cached'], false) // 1.6 us > 1.5 us
  assert.equal(byTarget['Ed25519-ed'], true)
})

test('the webhook receive-log targets: >= 0.8x the plain insert loop for single events and for batches; not measured without PostgreSQL', () => {
  const receiveVerdicts = (webhooks: Parameters<typeof judge>[0]['webhooks']) =>
    judge({ scenarios: {}, webhooks }).filter((v) => v.target.startsWith('webhook receive log')).map((v) => [v.value, v.pass])
  assert.deepEqual(receiveVerdicts({ receive: { single: { ratio: 0.85 }, batch100: { ratio: 0.79 } } }), [['0.85x', true], ['0.79x', false]])
  assert.deepEqual(receiveVerdicts({ skipped: 'PostgreSQL is not reachable' }), [['not measured', null], ['not measured', null]])
})

test('a full run writes its headline into the README between the markers, and only there', async () => {
  const { withHeadline } = await import('../bench/report.js')
  const results = {
    machine: { cpu: 'CPU', cores: 2 },
    node: 'v20',
    date: '2026-12-01T00:00:00.000Z',
    settings: { mode: 'full', rounds: 1, seconds: 1, warmupSeconds: 1, connections: 1 },
    scenarios: { 'jwt-cold': scenario([7]), 'fastify-jwt': scenario([20]), 'jwt-cached': scenario([1]) },
    targets: []
  }
  const readme = 'before\n<!-- bench-headline:start (written by npm run bench) -->\nold table\n<!-- bench-headline:end -->\nafter\n'
  const written = withHeadline(readme, results)
  assert.match(written, /^before\n/)
  assert.match(written, /after\n$/)
  assert.doesNotMatch(written, /old table/)
  assert.match(written, /\| a new HS256 JWT per request \| `jwt-cold` \| 7\.0 \| `fastify-jwt` \| 20\.0 \| 0\.35× \|/)
  assert.throws(() => withHeadline('no markers', results), /markers/)
})
