/**
 * The statistics of the CPU view: a mean of paired differences with a 95 % confidence interval,
 * and the interval of a ratio of two such means, both by bootstrap (resampling the pairs), so
 * that no shape is assumed for the noise of a shared machine. The resampling is seeded: the
 * same measurements always give the same interval.
 */

export const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** An estimate and its 95 % confidence interval. */
export interface Interval {
  value: number
  low: number
  high: number
}

const RESAMPLES = 4000

/** mulberry32: a small seeded generator (Math.random cannot be seeded); the fuzz tests use it too. */
export function seeded (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function resampledMean (values: number[], random: () => number): number {
  let sum = 0
  for (let i = 0; i < values.length; i++) sum += values[Math.floor(random() * values.length)]
  return sum / values.length
}

/** The 2.5th and 97.5th percentiles of `estimates`. */
function percentiles (estimates: number[]): { low: number, high: number } {
  const sorted = estimates.filter(Number.isFinite).sort((a, b) => a - b)
  if (sorted.length === 0) return { low: NaN, high: NaN }
  return { low: sorted[Math.floor(sorted.length * 0.025)], high: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.975))] }
}

/** An offset not given is 0. */
const offsetMean = (offset: number[]): number => (offset.length === 0 ? 0 : mean(offset))
const resampledOffset = (offset: number[], random: () => number): number => (offset.length === 0 ? 0 : resampledMean(offset, random))

/**
 * mean(samples) − mean(offset) (no offset: 0) and its 95 % bootstrap interval, the two resampled
 * independently (measured on different servers); NaN for no samples, a point for one.
 */
export function meanInterval (samples: number[], offset: number[] = [], seed = 1): Interval {
  if (samples.length === 0) return { value: NaN, low: NaN, high: NaN }
  const random = seeded(seed)
  const estimates = Array.from({ length: RESAMPLES }, () => resampledMean(samples, random) - resampledOffset(offset, random))
  return { value: mean(samples) - offsetMean(offset), ...percentiles(estimates) }
}

/**
 * (mean(a) − mean(offset)) / (mean(b) − mean(offset)) and its 95 % bootstrap interval: `a`, `b`
 * and `offset` resampled independently, one draw of the offset serving both sides. A denominator
 * at or below zero has no meaningful ratio: NaN.
 */
export function ratioInterval (a: number[], b: number[], offset: number[] = [], seed = 1): Interval {
  if (a.length === 0 || b.length === 0) return { value: NaN, low: NaN, high: NaN }
  const random = seeded(seed)
  const ratio = (x: number, y: number, z: number): number => (y - z > 0 ? (x - z) / (y - z) : NaN)
  const estimates = Array.from({ length: RESAMPLES }, () => ratio(resampledMean(a, random), resampledMean(b, random), resampledOffset(offset, random)))
  return { value: ratio(mean(a), mean(b), offsetMean(offset)), ...percentiles(estimates) }
}

/**
 * A bar judged on an interval: passed only when the whole interval is at or under it, missed
 * when the whole interval is over it; otherwise the run cannot tell (the noise is wider than
 * the margin).
 */
export type Verdict = 'pass' | 'miss' | 'unresolved'

export function atMost (interval: Interval, bar: number): Verdict {
  if (interval.high <= bar) return 'pass'
  if (interval.low > bar) return 'miss'
  return 'unresolved'
}
