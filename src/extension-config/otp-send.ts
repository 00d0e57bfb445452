// EXTENSION_CONFIG otpSend: how OnOtpSend e-mails are sent. The provider and its settings can
// also come from the environment (MAIL_PROVIDER, MAIL_FROM, SMTP_URL, ACS_*, SENDGRID_*), which
// wins; secrets (SMTP passwords, API keys, connection strings) come from the environment only.
import * as z from 'zod'
import { isHttpsUrl, isSecureUrl } from '../secure-url.js'
import { LocaleSchema } from './localized-text.js'

export const MAIL_PROVIDERS = ['acs', 'sendgrid', 'smtp'] as const
export type MailProvider = (typeof MAIL_PROVIDERS)[number]

export const OtpSendConfigSchema = z.strictObject({
  provider: z.enum(MAIL_PROVIDERS).optional().describe('MAIL_PROVIDER wins over this.'),
  from: z.email().max(320).optional().describe('The sender address; MAIL_FROM wins over this.'),
  fromName: z.string().min(1).max(128).optional().describe('The sender name shown to users.'),
  appName: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe("{{appName}}; default: the request's client app display name."),
  templates: z
    .string()
    .max(4096)
    .optional()
    .describe('A folder of <locale>.json templates (relative to the working directory).'),
  locales: z
    .array(LocaleSchema)
    .min(1)
    .max(50)
    .default(['en', 'sv', 'de', 'fr'])
    .describe('The template files that must exist; defaultLocale must be among them.'),
  expiryMinutes: z.number().int().min(1).max(60).default(10).describe('{{expiryMinutes}}.'),
  timeoutMs: z
    .number()
    .int()
    .min(100)
    .max(1800)
    .default(1500)
    .describe("The provider's own timeout; the request deadline (REQUEST_BUDGET_MS) caps it."),
  acsEndpoint: z
    .string()
    .refine(isHttpsUrl, 'must be an https URL')
    .optional()
    .describe('ACS_ENDPOINT wins over this (used with the managed identity).'),
  sendgridBaseUrl: z
    .string()
    .refine(isSecureUrl, 'must be an https URL (http only for loopback hosts)')
    .optional(),
  duplicateTtlSeconds: z
    .number()
    .int()
    .min(10)
    .max(3600)
    .default(600)
    .describe('The same recipient and code are e-mailed once in this window.'),
  rateLimit: z
    .strictObject({
      maxPerRecipient: z.number().int().min(1).max(1000).default(5),
      windowSeconds: z.number().int().min(10).max(86_400).default(600),
    })
    .default({ maxPerRecipient: 5, windowSeconds: 600 })
    .describe(
      'Sends per recipient and window, shared by instances through OTP_STORE_ENDPOINT or OTP_STORE_CONNECTION_STRING (else per instance); beyond it: 429 ERR_RATE_LIMITED.',
    ),
})
export type OtpSendConfig = z.infer<typeof OtpSendConfigSchema>
