// Optional features load their libraries only when configured: a mail provider, the OTP store's
// table client, an Azure credential. Each is imported when the endpoint is built, in the
// background, and `ready` joins the endpoint's warm-up, so that the first call that needs it
// does not pay the import inside its budget; an endpoint that does not use them never loads them
// (the cold start of the plain endpoint is what Entra's first call after a scale-out waits for).
import type { Mailer, OutgoingMail } from './mail/mailer.js'
import type { ClaimResult, DuplicateStore } from './mail/duplicate-store.js'
import type { RateLimiter } from './mail/rate-limit.js'

export interface Lazy<T> {
  readonly value: Promise<T>
  /** Settles (never rejects) once the import is done, whatever its outcome. */
  readonly ready: Promise<void>
}

export function lazy<T>(load: () => Promise<T>): Lazy<T> {
  const value = load()
  return {
    value,
    ready: value.then(
      () => undefined,
      () => undefined,
    ),
  }
}

/** One part of what a Lazy loads, itself lazy. */
export function lazyPart<T, P>(loaded: Lazy<T>, pick: (value: T) => P): Lazy<P> {
  const value = loaded.value.then(pick)
  value.catch(() => undefined) // the failure is the whole's, reported where `value` is awaited
  return { value, ready: loaded.ready }
}

/** A Mailer whose implementation is still being imported: each call waits for it. */
export function lazyMailer(provider: Mailer['provider'], loaded: Lazy<Mailer>): Mailer {
  return {
    provider,
    async send(mail: OutgoingMail, signal: AbortSignal, timeoutMs: number) {
      return (await loaded.value).send(mail, signal, timeoutMs)
    },
    async close() {
      await (await loaded.value).close?.()
    },
  }
}

/** A DuplicateStore whose implementation is still being imported. */
export function lazyDuplicateStore(loaded: Lazy<DuplicateStore>): DuplicateStore {
  return {
    async claim(key, now, budgetMs): Promise<ClaimResult> {
      return (await loaded.value).claim(key, now, budgetMs)
    },
    async markSent(key, now) {
      return (await loaded.value).markSent(key, now)
    },
    async release(key) {
      return (await loaded.value).release(key)
    },
    async state(key, now, budgetMs) {
      return (await loaded.value).state(key, now, budgetMs)
    },
  }
}

/** A RateLimiter whose implementation is still being imported. */
export function lazyRateLimiter(loaded: Lazy<RateLimiter>): RateLimiter {
  return {
    async take(key, now, budgetMs) {
      return (await loaded.value).take(key, now, budgetMs)
    },
    async refund(key, at) {
      return (await loaded.value).refund(key, at)
    },
  }
}
