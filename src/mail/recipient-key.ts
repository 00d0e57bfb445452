// Keyed digests of recipients, for logs, rate limits and the duplicate check: a log line can
// follow one recipient across calls without holding the address, and nobody without the key can
// test guesses against it. LOG_HASH_KEY shares the key between instances (so hashes and the
// shared duplicate store agree); without it each process makes a random one.
import { createHmac, randomBytes } from 'node:crypto'

export interface RecipientKeys {
  /** 16 hex characters of HMAC(recipient): what logs carry. */
  recipient(address: string): string
  /** HMAC(recipient, code): the duplicate check's key. */
  message(address: string, code: string): string
}

export function createRecipientKeys(secret: string | undefined): RecipientKeys {
  const key = secret === undefined ? randomBytes(32) : Buffer.from(secret, 'utf8')
  const mac = (data: string) => createHmac('sha256', key).update(data).digest('hex')
  const normal = (address: string) => address.trim().toLowerCase()
  return {
    recipient: (address) => mac(`r\0${normal(address)}`).slice(0, 16),
    message: (address, code) => mac(`m\0${normal(address)}\0${code}`),
  }
}
