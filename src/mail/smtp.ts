// SMTP through nodemailer, one pooled transport per process. TLS is required: smtps:// (implicit
// TLS, port 465 by default) or smtp:// with STARTTLS (port 587 by default), which nodemailer is
// told to insist on, except towards a loopback host (a local relay or a test server).
import { abortAfter } from '../outbound/abort-after.js'
import nodemailer from 'nodemailer'
import { LOOPBACK_HOSTS } from '../secure-url.js'
import { MailError, withinTime, type Mailer } from './mailer.js'

/** How long one SMTP stage may take; the request's own budget is enforced on top (withinTime). */
const STAGE_TIMEOUT_MS = 2_000

interface SmtpError {
  readonly code?: string
  readonly responseCode?: number
}

export function createSmtpMailer(url: string): Mailer {
  const parsed = new URL(url)
  const implicitTls = parsed.protocol === 'smtps:'
  const loopback = LOOPBACK_HOSTS.has(parsed.hostname)
  const transport = nodemailer.createTransport({
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port === '' ? (implicitTls ? 465 : 587) : Number(parsed.port),
    secure: implicitTls,
    requireTLS: !implicitTls && !loopback,
    ...(parsed.username === ''
      ? {}
      : {
          auth: {
            user: decodeURIComponent(parsed.username),
            pass: decodeURIComponent(parsed.password),
          },
        }),
    pool: true,
    maxConnections: 4,
    connectionTimeout: STAGE_TIMEOUT_MS,
    greetingTimeout: STAGE_TIMEOUT_MS,
    socketTimeout: STAGE_TIMEOUT_MS,
    tls: { minVersion: 'TLSv1.2' },
    disableFileAccess: true,
    disableUrlAccess: true,
  })
  return {
    provider: 'smtp',
    async send(mail, signal, timeoutMs) {
      try {
        await withinTime(
          transport.sendMail({
            from:
              mail.fromName === undefined ? mail.from : { name: mail.fromName, address: mail.from },
            // An address object, not a string: nodemailer parses a string as an address list
            // (the schema already refuses anything that would parse as more than one address).
            to: { name: '', address: mail.to },
            subject: mail.subject,
            text: mail.text,
            html: mail.html,
            // nodemailer 10 aborts the SMTP session on this signal (its typings predate it).
            ...({
              // Left to fire: aborting a session that already ended does nothing.
              signal: abortAfter(signal, timeoutMs).signal,
            } as object),
          }),
          signal,
          timeoutMs,
        )
      } catch (err) {
        if (err instanceof MailError) throw err
        const { code, responseCode } = err as SmtpError
        if (responseCode !== undefined) {
          // 4xx: try again later; 5xx: refused (RFC 5321 §4.2.1).
          throw new MailError(
            responseCode >= 500 ? 'rejected' : 'unavailable',
            `the SMTP server answered ${responseCode}`,
            { status: responseCode, cause: err },
          )
        }
        // EABORT: our own signal (the budget or the request deadline) ended the session.
        const timedOut = code === 'ETIMEDOUT' || code === 'EABORT'
        throw new MailError(
          timedOut ? 'timeout' : 'unavailable',
          timedOut
            ? `no confirmation from the SMTP server within ${Math.round(timeoutMs)} ms`
            : `the SMTP connection failed${code === undefined ? '' : ` (${code})`}`,
          { cause: err },
        )
      }
    },
    async verify(timeoutMs) {
      try {
        await withinTime(transport.verify(), new AbortController().signal, timeoutMs)
      } catch (err) {
        if (err instanceof MailError) throw err
        const { code, responseCode } = err as SmtpError
        throw new MailError(
          'unavailable',
          responseCode !== undefined
            ? `the SMTP server answered ${responseCode}`
            : `the SMTP connection failed${code === undefined ? '' : ` (${code})`}`,
          { status: responseCode, cause: err },
        )
      }
    },
    close() {
      transport.close()
      return Promise.resolve()
    },
  }
}
