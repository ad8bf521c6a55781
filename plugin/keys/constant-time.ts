/**
 * Constant-time equality of two strings (MAC spellings): every character is looked at, whatever
 * differs, so the time taken says nothing about where two MACs part. Lengths are not secret
 * (a MAC's length is fixed by its algorithm) and are compared first.
 */
export function constantTimeEqual (a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return difference === 0
}
