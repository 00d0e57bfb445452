// OnOtpSend: deliver the one-time passcode through the configured provider (contract §6).
//   1. the same recipient and code are e-mailed once: a concurrent duplicate in this instance
//      waits for the first send and shares its outcome; one already sent answers 200 at once;
//      with a shared store, rows are keyed alike in every instance (storeKeys), and a call that
//      cannot get those keys skips the check and the limit (fails open; the loader logs it);
//   2. rate limit per recipient (429 ERR_RATE_LIMITED), in the shared store when there is one;
//   3. render the template for the request's locale and hand the message to the provider within
//      the request budget;
//   4. 200 only when the provider accepted it; otherwise 502/503/504 with a code, so that a
//      listener with fallbackToMicrosoftProviderOnError makes Entra send its own e-mail.
// Neither the code nor the address is ever logged or echoed: logs carry a keyed digest.
import { ANSWER_RESERVE_MS } from '../../deadline.js'
import { EndpointError, type ErrorCode } from '../../errors.js'
import { MailError, type MailFailure } from '../../mail/mailer.js'
import type { OtpMailing } from '../../mail/otp-mailing.js'
import { compileText } from '../../extension-config/localized-text.js'
import type { HandlerContext } from '../handler-context.js'
import { otpSent } from './actions.js'
import type { OtpSendEvent, OtpSendResponse } from './schema.js'

const CODE_OF: Record<MailFailure, ErrorCode> = {
  rejected: 'ERR_MAIL_REJECTED',
  unavailable: 'ERR_MAIL_UNAVAILABLE',
  timeout: 'ERR_MAIL_TIMEOUT',
}

export function createOtpSendHandler(mailing?: OtpMailing) {
  if (mailing === undefined) {
    return function handleOtpSend(
      _event: OtpSendEvent,
      _context: HandlerContext,
    ): Promise<OtpSendResponse> {
      return Promise.reject(
        new EndpointError('ERR_NOT_CONFIGURED', 'no e-mail provider is configured for OnOtpSend'),
      )
    }
  }
  const { config, mailer, duplicates, limiter, keys, storeKeys } = mailing
  // Locale → template, with the same fallback as every other text (sv-se → sv → default).
  const templateFor = compileText(
    Object.fromEntries([...config.templates.keys()].map((locale) => [locale, locale])),
    config.defaultLocale,
  )
  // The shared store gets a third of what is left at most: the provider needs the rest.
  const storeBudget = (context: HandlerContext) =>
    Math.max(1, (context.remainingMs() - ANSWER_RESERVE_MS) / 3)
  /** Sends in flight in this instance, by message key: a concurrent duplicate shares the outcome. */
  const inFlight = new Map<string, Promise<void>>()

  /**
   * Claims the message in the store: true to send it, false when it was sent (or another
   * instance sent it while this call waited for its outcome, within the budget).
   */
  async function claimMessage(messageKey: string, context: HandlerContext): Promise<boolean> {
    for (;;) {
      const claim = await duplicates.claim(messageKey, context.now(), storeBudget(context))
      if (claim === 'claimed') return true
      if (claim === 'sent') {
        context.log.info('otp_duplicate', { provider: mailer.provider, state: 'sent' })
        return false
      }
      // Another instance is sending it: wait for its outcome within our budget.
      let state: 'sent' | 'pending' | 'free' = 'pending'
      while (state === 'pending') {
        if (context.remainingMs() <= ANSWER_RESERVE_MS)
          throw new EndpointError('ERR_MAIL_TIMEOUT', 'another instance is still sending this code')
        await new Promise((resolve) => setTimeout(resolve, 25))
        state = await duplicates.state(messageKey, context.now(), storeBudget(context))
      }
      if (state === 'sent') return false
    }
  }

  async function deliver(event: OtpSendEvent, context: HandlerContext) {
    const { identifier, oneTimeCode } = event.data.otpContext
    const { authenticationContext } = event.data
    // The store's rows are keyed alike in every instance; without the keys (the store cannot be
    // reached, already logged) this call skips the duplicate check: it fails open.
    const shared = await storeKeys(storeBudget(context))
    const messageKey = shared?.message(identifier, oneTimeCode)
    if (messageKey !== undefined && !(await claimMessage(messageKey, context))) return
    const release = () => {
      if (messageKey !== undefined) duplicates.release(messageKey).catch(() => undefined)
    }
    // Counted only for a message that is really going out: Entra's retries of one code are free.
    // Keyed like the store's rows, so that instances sharing a store share the count; without
    // the keys this call is not counted (fails open, as the duplicate check does).
    const limitKey = shared?.recipient(identifier)
    const countedAt = context.now()
    if (
      limitKey !== undefined &&
      !(await limiter.take(limitKey, countedAt, storeBudget(context)))
    ) {
      release()
      context.log.warn('otp_rate_limited', { recipient: keys.recipient(identifier) })
      throw new EndpointError('ERR_RATE_LIMITED', 'too many codes were sent to this recipient')
    }
    const locale = templateFor(authenticationContext.client?.locale)
    const render = config.templates.get(locale) ?? config.templates.get(config.defaultLocale)
    if (render === undefined) throw new Error(`no template for ${locale}`) // checked at start-up
    const mail = render({
      code: oneTimeCode,
      recipient: identifier.slice(0, Math.max(0, identifier.lastIndexOf('@'))) || identifier,
      appName:
        config.appName ??
        authenticationContext.clientServicePrincipal?.appDisplayName ??
        authenticationContext.clientServicePrincipal?.displayName ??
        'your account',
      expiryMinutes: String(config.expiryMinutes),
    })
    const started = context.now()
    const timeoutMs = Math.min(config.timeoutMs, context.remainingMs() - ANSWER_RESERVE_MS)
    try {
      if (timeoutMs <= 0) throw new MailError('timeout', 'no time left in the request budget')
      await mailer.send(
        { to: identifier, from: config.from, fromName: config.fromName, ...mail },
        context.signal,
        timeoutMs,
      )
    } catch (err) {
      // Given back in the background, like the release.
      if (limitKey !== undefined) limiter.refund(limitKey, countedAt).catch(() => undefined)
      // Released in the background: the answer must not wait for the store.
      release()
      const error =
        err instanceof MailError
          ? err
          : new MailError('unavailable', 'the send failed', { cause: err })
      context.log.warn('otp_send_failed', {
        provider: mailer.provider,
        failure: error.failure,
        reason: error.message,
        ...(error.status === undefined ? {} : { providerStatus: error.status }),
        recipient: keys.recipient(identifier),
        locale,
        ms: context.now() - started,
      })
      throw new EndpointError(CODE_OF[error.failure], `the e-mail was not sent: ${error.message}`, {
        cause: err,
      })
    }
    // Marked in the background: the provider has the message, and Entra must hear so within the
    // budget whatever the store does (a retry meanwhile finds the claim pending, then sent).
    if (messageKey !== undefined)
      duplicates.markSent(messageKey, context.now()).catch(() => undefined)
    context.log.info('otp_sent', {
      provider: mailer.provider,
      recipient: keys.recipient(identifier),
      locale,
      ms: context.now() - started,
    })
  }

  return async function handleOtpSend(
    event: OtpSendEvent,
    context: HandlerContext,
  ): Promise<OtpSendResponse> {
    const { identifier, oneTimeCode } = event.data.otpContext
    const localKey = keys.message(identifier, oneTimeCode)
    const shared = inFlight.get(localKey)
    if (shared !== undefined) {
      context.log.info('otp_duplicate', { provider: mailer.provider, state: 'in-flight' })
      await shared
      return otpSent()
    }
    const sending = deliver(event, context)
    inFlight.set(localKey, sending)
    try {
      await sending
    } finally {
      inFlight.delete(localKey)
    }
    return otpSent()
  }
}
