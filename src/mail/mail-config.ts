// OnOtpSend's settings, resolved at start-up from the environment (which wins) and EXTENSION_CONFIG
// otpSend, with the templates compiled. Problems name variables, fields and files, never values:
// SMTP_URL may hold a password, the others are keys.
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { OtpSendConfig } from '../extension-config/otp-send.js'
import type { MailProvider } from '../extension-config/otp-send.js'
import { LOOPBACK_HOSTS } from '../secure-url.js'
import { compileTemplate, type RenderMail } from './templates.js'

export type MailTransportConfig =
  | { readonly provider: 'smtp'; readonly url: string }
  | { readonly provider: 'sendgrid'; readonly apiKey: string; readonly baseUrl: string }
  | { readonly provider: 'acs'; readonly connectionString: string }
  | { readonly provider: 'acs'; readonly endpoint: string; readonly clientId: string | undefined }

export interface MailConfig {
  readonly transport: MailTransportConfig
  readonly from: string
  readonly fromName: string | undefined
  readonly appName: string | undefined
  readonly templates: ReadonlyMap<string, RenderMail>
  readonly defaultLocale: string
  readonly expiryMinutes: number
  readonly timeoutMs: number
  readonly duplicateTtlMs: number
  readonly rateLimit: { readonly max: number; readonly windowMs: number }
}

export interface MailEnv {
  readonly MAIL_PROVIDER?: MailProvider | undefined
  readonly MAIL_FROM?: string | undefined
  readonly SMTP_URL?: string | undefined
  readonly ACS_CONNECTION_STRING?: string | undefined
  readonly ACS_ENDPOINT?: string | undefined
  readonly SENDGRID_API_KEY?: string | undefined
  readonly SENDGRID_BASE_URL?: string | undefined
  readonly AZURE_CLIENT_ID?: string | undefined
}

/** The shipped templates: en, sv, de, fr. */
export const DEFAULT_TEMPLATES = 'config/mail-templates'

export function readMailConfig(
  env: MailEnv,
  extension: { readonly otpSend: OtpSendConfig; readonly defaultLocale: string },
  paths: { readonly cwd: string; readonly packageRoot: string },
  problems: string[],
): MailConfig | undefined {
  const otp = extension.otpSend
  const provider = env.MAIL_PROVIDER ?? otp.provider
  if (provider === undefined) return undefined // OnOtpSend answers 503 ERR_NOT_CONFIGURED
  const before = problems.length

  const from = env.MAIL_FROM ?? otp.from
  if (from === undefined)
    problems.push('MAIL_FROM: is required when a mail provider is set (or otpSend.from)')

  const transport = readTransport(provider, env, otp.acsEndpoint, otp.sendgridBaseUrl, problems)

  if (!otp.locales.includes(extension.defaultLocale))
    problems.push(
      `EXTENSION_CONFIG otpSend.locales: must include the default locale "${extension.defaultLocale}"`,
    )
  const folder =
    otp.templates === undefined
      ? join(paths.packageRoot, DEFAULT_TEMPLATES)
      : resolve(paths.cwd, otp.templates)
  const templates = new Map<string, RenderMail>()
  for (const locale of otp.locales) {
    const file = join(folder, `${locale}.json`)
    let json: unknown
    try {
      json = JSON.parse(readFileSync(file, 'utf8'))
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT'
      problems.push(`otpSend template ${file}: ${missing ? 'file not found' : 'not valid JSON'}`)
      continue
    }
    const compiled = compileTemplate(json)
    if (Array.isArray(compiled))
      for (const problem of compiled) problems.push(`otpSend template ${file}: ${problem}`)
    else templates.set(locale, compiled)
  }

  if (problems.length > before || from === undefined || transport === undefined) return undefined
  return {
    transport,
    from,
    fromName: otp.fromName,
    appName: otp.appName,
    templates,
    defaultLocale: extension.defaultLocale,
    expiryMinutes: otp.expiryMinutes,
    timeoutMs: otp.timeoutMs,
    duplicateTtlMs: otp.duplicateTtlSeconds * 1000,
    rateLimit: {
      max: otp.rateLimit.maxPerRecipient,
      windowMs: otp.rateLimit.windowSeconds * 1000,
    },
  }
}

function readTransport(
  provider: MailProvider,
  env: MailEnv,
  acsEndpoint: string | undefined,
  sendgridBaseUrl: string | undefined,
  problems: string[],
): MailTransportConfig | undefined {
  switch (provider) {
    case 'smtp': {
      const url = env.SMTP_URL
      if (url === undefined) {
        problems.push('SMTP_URL: is required with MAIL_PROVIDER=smtp')
        return undefined
      }
      const problem = smtpUrlProblem(url)
      if (problem !== undefined) {
        problems.push(`SMTP_URL: ${problem}`)
        return undefined
      }
      return { provider, url }
    }
    case 'sendgrid': {
      if (env.SENDGRID_API_KEY === undefined) {
        problems.push('SENDGRID_API_KEY: is required with MAIL_PROVIDER=sendgrid')
        return undefined
      }
      return {
        provider,
        apiKey: env.SENDGRID_API_KEY,
        baseUrl: env.SENDGRID_BASE_URL ?? sendgridBaseUrl ?? 'https://api.sendgrid.com',
      }
    }
    case 'acs': {
      if (env.ACS_CONNECTION_STRING !== undefined) {
        if (!/(^|;)\s*endpoint=https:\/\/[^;]+/i.test(env.ACS_CONNECTION_STRING)) {
          problems.push('ACS_CONNECTION_STRING: must hold endpoint=https://…;accesskey=…')
          return undefined
        }
        return { provider, connectionString: env.ACS_CONNECTION_STRING }
      }
      const endpoint = env.ACS_ENDPOINT ?? acsEndpoint
      if (endpoint === undefined) {
        problems.push(
          'ACS_CONNECTION_STRING: is required with MAIL_PROVIDER=acs (or ACS_ENDPOINT with a managed identity)',
        )
        return undefined
      }
      return { provider, endpoint, clientId: env.AZURE_CLIENT_ID }
    }
  }
}

/** smtp://[user:pass@]host[:port] or smtps://…; the message never repeats the URL. */
export function smtpUrlProblem(url: string): string | undefined {
  if (!URL.canParse(url)) return 'must be smtp://[user:pass@]host:port or smtps://…'
  const parsed = new URL(url)
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:')
    return 'must be smtp://[user:pass@]host:port or smtps://…'
  if (parsed.hostname === '') return 'has no host'
  if (parsed.pathname !== '' && parsed.pathname !== '/') return 'must not have a path'
  return undefined
}

export const isLoopbackSmtp = (url: string) => LOOPBACK_HOSTS.has(new URL(url).hostname)
