// OnOtpSend: the one-time code in this app's own words (Swedish or English), through the mail
// provider the endpoint's settings configure (MAIL_PROVIDER, MAIL_FROM, …). Without one, or when
// the provider fails, ctx.fail() answers 503: a listener with fallbackToMicrosoftProviderOnError
// then has Entra send its own mail. Never logs the code or the address.
import type { HandlerOf, OtpSendView } from 'entra-auth-extension'

/** Time kept back from the request budget to answer Entra after the provider. */
const ANSWER_RESERVE_MS = 100

export interface OtpMail {
  readonly subject: string
  readonly text: string
  readonly html: string
}

/** The template: the subject, a text part and an HTML part, in the request's language. */
export function otpMail(event: OtpSendView): OtpMail {
  const code = escapeHtml(event.code)
  if (event.locale?.startsWith('sv') === true)
    return {
      subject: `Din kod till Contoso: ${event.code}`,
      text: `Din engångskod är ${event.code}. Den gäller i tio minuter.`,
      html: `<p>Din engångskod är <strong>${code}</strong>.</p><p>Den gäller i tio minuter.</p>`,
    }
  return {
    subject: `Your Contoso code: ${event.code}`,
    text: `Your one-time code is ${event.code}. It is valid for ten minutes.`,
    html: `<p>Your one-time code is <strong>${code}</strong>.</p><p>It is valid for ten minutes.</p>`,
  }
}

export const sendCode: HandlerOf<'onOtpSend'> = async (event, ctx) => {
  if (ctx.mailer === undefined || ctx.sender === undefined)
    return ctx.fail('no mail provider is configured')
  try {
    await ctx.mailer.send(
      { to: event.email, ...ctx.sender, ...otpMail(event) },
      ctx.signal,
      Math.max(1, ctx.remainingMs() - ANSWER_RESERVE_MS),
    )
  } catch (err) {
    // The error's name says enough (MailError: refused, unavailable or too slow); its message is
    // not logged, so that nothing the provider echoed can reach the log.
    return ctx.fail(`the mail provider failed (${err instanceof Error ? err.name : typeof err})`)
  }
  return ctx.continue()
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
