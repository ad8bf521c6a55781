/**
 * The key this service signs outgoing calls with, for one app record: one cache serves the JWTs
 * (signJwt, the client) and the signed requests (signRequest). Parsing a PEM or checking a curve
 * point costs far more than signing, and stores hand out a fresh copy of a record on every read,
 * so keys are remembered by record object (checked against the record's key fields, which a
 * caller may change in place) and by key material (bounded).
 */
import type { AppRecord } from '../../types/index.js'
import { SigningError } from '../errors.js'
import { resolveAppKeys, type SigningKey } from './app-keys.js'
import { KeyFormatError } from './parse.js'

const byRecord = new WeakMap<AppRecord, { material: string, key: SigningKey }>()
const byMaterial = new Map<string, SigningKey>()
const MAX_CACHED_KEYS = 256

/** The app's current key; throws SigningError when the record holds none or it cannot be read. */
export function signingKeyFor (app: AppRecord): SigningKey {
  if (app === null || typeof app !== 'object' || typeof app.slug !== 'string') throw new SigningError('no app record')
  const material = [app.algorithm, app.kid ?? '', app.privateKey ?? '', app.publicKey ?? ''].join('\0')
  const known = byRecord.get(app)
  if (known !== undefined && known.material === material) return known.key
  let key = byMaterial.get(material) ?? null
  if (key === null) {
    try {
      // Only the current key signs: a broken previous key must not stop outgoing calls.
      key = resolveAppKeys({ slug: app.slug, algorithm: app.algorithm, privateKey: app.privateKey, publicKey: app.publicKey, kid: app.kid }).signing
    } catch (error) {
      const why = error instanceof KeyFormatError ? error.message : 'its keys cannot be read'
      throw new SigningError(`app ${app.slug}: ${why}`)
    }
    if (key === null) throw new SigningError(`app ${app.slug} holds no private key to sign with`)
    if (byMaterial.size >= MAX_CACHED_KEYS) byMaterial.delete(byMaterial.keys().next().value as string)
    byMaterial.set(material, key)
  }
  byRecord.set(app, { material, key })
  return key
}
