/**
 * Ed25519 public key validation, done once when an app is loaded (never per request): the 32
 * bytes must decode to a curve point in canonical form, and that point must lie in the prime-order
 * subgroup. That refuses the small-order keys (for which any signature of a chosen form verifies)
 * and the mixed-order ones that libraries disagree on. BigInt arithmetic: slow, but only at load.
 */
const P = 2n ** 255n - 19n
const D = mod(-121665n * inverse(121666n))
const L = 2n ** 252n + 27742317777372353535851937790883648493n
const SQRT_M1 = power(2n, (P - 1n) / 4n)

function mod (a: bigint): bigint {
  const r = a % P
  return r >= 0n ? r : r + P
}

function power (base: bigint, exponent: bigint): bigint {
  let result = 1n
  let b = mod(base)
  let e = exponent
  while (e > 0n) {
    if (e & 1n) result = mod(result * b)
    b = mod(b * b)
    e >>= 1n
  }
  return result
}

function inverse (a: bigint): bigint {
  return power(a, P - 2n)
}

type Point = readonly [bigint, bigint, bigint, bigint] // extended coordinates X, Y, Z, T

function add (p: Point, q: Point): Point {
  const [x1, y1, z1, t1] = p
  const [x2, y2, z2, t2] = q
  const a = mod((y1 - x1) * (y2 - x2))
  const b = mod((y1 + x1) * (y2 + x2))
  const c = mod(2n * D * t1 * t2)
  const d = mod(2n * z1 * z2)
  const e = b - a
  const f = d - c
  const g = d + c
  const h = b + a
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)]
}

function multiply (p: Point, scalar: bigint): Point {
  let result: Point = [0n, 1n, 1n, 0n]
  let addend = p
  let k = scalar
  while (k > 0n) {
    if (k & 1n) result = add(result, addend)
    addend = add(addend, addend)
    k >>= 1n
  }
  return result
}

function isIdentity ([x, y, z]: Point): boolean {
  return mod(x) === 0n && mod(y - z) === 0n
}

/** Decodes a 32-byte point encoding (RFC 8032 5.1.3); null when it is not a canonical point. */
function decode (bytes: Uint8Array): Point | null {
  if (bytes.length !== 32) return null
  let y = 0n
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? bytes[i] & 0x7f : bytes[i])
  const sign = (bytes[31] >> 7) & 1
  if (y >= P) return null
  const u = mod(y * y - 1n)
  const v = mod(D * y * y + 1n)
  let x = mod(u * power(v, 3n) * power(u * power(v, 7n), (P - 5n) / 8n))
  const check = mod(v * x * x)
  if (check === mod(-u)) x = mod(x * SQRT_M1)
  else if (check !== u) return null
  if (x === 0n && sign === 1) return null
  if (Number(x & 1n) !== sign) x = P - x
  return [x, y, 1n, mod(x * y)]
}

export type PointVerdict = 'valid' | 'not-a-point' | 'small-order' | 'not-in-prime-subgroup'

export function checkEd25519PublicKey (bytes: Uint8Array): PointVerdict {
  const point = decode(bytes)
  if (point === null) return 'not-a-point'
  if (isIdentity(multiply(point, 8n))) return 'small-order'
  if (!isIdentity(multiply(point, L))) return 'not-in-prime-subgroup'
  return 'valid'
}
