// Keyed digests of recipients, for logs, rate limits and the duplicate check: a log line can
// follow one recipient across calls without holding the address, and nobody without the key can
// test guesses against it. LOG_HASH_KEY shares the key between instances; without it each process
// makes a random one for its logs, and the shared OTP store's rows are keyed with a key kept in
// the store itself (src/mail/table-key.ts), so that instances sharing a table agree on them.
import { createHmac, randomBytes } from 'node:crypto'

export interface RecipientKeys {
  /** 16 hex characters of HMAC(recipient): what logs carry, and the rate limit's key. */
  recipient(address: string): string
  /** HMAC(recipient, code): the duplicate check's key. */
  message(address: string, code: string): string
}

export function createRecipientKeys(secret: string | Uint8Array | undefined): RecipientKeys {
  const key =
    secret === undefined
      ? randomBytes(32)
      : typeof secret === 'string'
        ? Buffer.from(secret, 'utf8')
        : secret
  const mac = (data: string) => createHmac('sha256', key).update(data).digest('hex')
  const normal = (address: string) => address.trim().toLowerCase()
  return {
    recipient: (address) => mac(`r\0${normal(address)}`).slice(0, 16),
    message: (address, code) => mac(`m\0${normal(address)}\0${code}`),
  }
}

/**
 * The keys of the shared store's rows, for a call with `budgetMs` left: undefined when they cannot
 * be had in time (the store is unreachable; the caller fails open for that call).
 */
export type StoreKeys = (budgetMs: number) => Promise<RecipientKeys | undefined>

/** Keys that need no store: LOG_HASH_KEY, or one process's own (memory store). */
export const fixedStoreKeys =
  (keys: RecipientKeys): StoreKeys =>
  () =>
    Promise.resolve(keys)

/**
 * Keys from a secret read from the store once and cached. The first read starts now (the
 * endpoint's warm-up waits for `ready`); a call waits for a read in progress at most its budget,
 * and after a failed read the next call tries again. Failures are reported, never the key.
 */
export function loadedStoreKeys(
  load: (budgetMs: number) => Promise<Uint8Array>,
  onError: (err: unknown) => void,
  warmUpMs: number,
): { readonly keys: StoreKeys; readonly ready: Promise<void> } {
  let loaded: RecipientKeys | undefined
  let loading: Promise<RecipientKeys | undefined> | undefined
  const start = (budgetMs: number) =>
    (loading ??= load(budgetMs).then(
      (secret) => (loaded = createRecipientKeys(secret)),
      (err: unknown) => {
        loading = undefined
        onError(err)
        return undefined
      },
    ))
  const ready = start(warmUpMs).then(() => undefined)
  return {
    ready,
    keys(budgetMs) {
      if (loaded !== undefined) return Promise.resolve(loaded)
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<undefined>((resolve) => {
        timer = setTimeout(
          () => {
            onError(new SharedKeyTimeout('no shared key within the call budget'))
            resolve(undefined)
          },
          Math.max(1, budgetMs),
        )
      })
      return Promise.race([start(budgetMs), late]).finally(() => clearTimeout(timer))
    },
  }
}

export class SharedKeyTimeout extends Error {
  override readonly name = 'SharedKeyTimeout'
}
