/**
 * `linked-services keygen --algorithm HMAC_SHA256|HMAC_SHA512|ED25519`: a new key, printed as the
 * JSON fields of an app record, in the original's column format (HMAC: hex of 64 random bytes,
 * like the original's generator; Ed25519: hex of the PKCS#8 / SPKI PEM text).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import type { Algorithm } from '../../types/index.js'
import { ALGORITHMS } from '../keys/algorithms.js'
import { CliError, parseCommandArgs, type Command } from './io.js'

export const KEYGEN_HELP = `Usage: linked-services keygen --algorithm HMAC_SHA256|HMAC_SHA512|ED25519 [--format hex-pem|pem]

Prints a new key as JSON: { "algorithm", "privateKey", "publicKey" }, ready to paste into an app
record. HMAC: "privateKey" is the hex of 64 random bytes (the shared secret: both services hold
it); "publicKey" is null. ED25519: a key pair; by default hex of the PEM text (the original's
format), with --format pem the PEM text itself. Keep "privateKey" on the signing side only and
give the peer "publicKey".

Options:
  --algorithm <name>  HMAC_SHA256, HMAC_SHA512 or ED25519 (required)
  --format <format>   ED25519 key encoding: hex-pem (default) or pem
  -h, --help          show this help
`

export const runKeygen: Command = async (argv, _env, io) => {
  const { values, positionals } = parseCommandArgs(argv, {
    algorithm: { type: 'string', short: 'a' },
    format: { type: 'string' },
    help: { type: 'boolean', short: 'h' }
  })
  if (values.help === true) {
    io.stdout(KEYGEN_HELP)
    return 0
  }
  if (positionals.length > 0) throw new CliError(`unexpected arguments: ${positionals.join(' ')}`)
  const algorithm = String(values.algorithm ?? '').toUpperCase().replace(/-/g, '_') as Algorithm
  if (!ALGORITHMS.includes(algorithm)) throw new CliError('--algorithm must be HMAC_SHA256, HMAC_SHA512 or ED25519')
  const format = (values.format as string | undefined) ?? 'hex-pem'
  if (format !== 'hex-pem' && format !== 'pem') throw new CliError('--format must be hex-pem or pem')

  if (algorithm !== 'ED25519') {
    io.stdout(JSON.stringify({ algorithm, privateKey: randomBytes(64).toString('hex'), publicKey: null }, null, 2))
    return 0
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { format: 'pem', type: 'pkcs8' },
    publicKeyEncoding: { format: 'pem', type: 'spki' }
  })
  const encode = (pem: string): string => format === 'pem' ? pem : Buffer.from(pem).toString('hex')
  io.stdout(JSON.stringify({ algorithm, privateKey: encode(privateKey), publicKey: encode(publicKey) }, null, 2))
  return 0
}
