// OnOtpSend's start-up configuration: the provider from the environment or EXTENSION_CONFIG,
// templates compiled and checked, problems named without values.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import { OtpSendEventSchema } from '../../src/events/otp-send/schema.js'
import { compileTemplate, escapeHtml } from '../../src/mail/templates.js'
import { fixture } from '../support/fixtures.js'
import { writeExtensionConfig } from '../support/endpoint.js'

const valid = {
  ENTRA_TENANT_ID: '11111111-2222-4333-8444-555555555555',
  ENTRA_AUDIENCE: 'a1b2c3d4-0000-4000-8000-00000000e0e0',
}

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig({ ...valid, ...env })
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  throw new Error('expected a ConfigError')
}

const values = {
  code: '48213907',
  recipient: 'avery',
  appName: 'Contoso <Shop> & "Friends"',
  expiryMinutes: '10',
}

describe('templates', () => {
  it('fills every placeholder, escaping values in HTML only, and keeps the subject on one line', () => {
    const render = compileTemplate({
      subject: '{{appName}}: {{ code }}',
      text: 'Hi {{recipient}}, {{code}} ({{expiryMinutes}} min) for {{appName}}',
      html: '<p>{{recipient}}</p><b>{{code}}</b><i>{{appName}}</i>',
    })
    if (Array.isArray(render)) throw new Error(render.join('; '))
    const mail = render({ ...values, appName: 'Contoso <Shop> & "Friends"\r\nBcc: x@evil.example' })
    expect(mail.subject).toBe('Contoso <Shop> & "Friends" Bcc: x@evil.example: 48213907')
    expect(mail.text).toBe(
      'Hi avery, 48213907 (10 min) for Contoso <Shop> & "Friends"\r\nBcc: x@evil.example',
    )
    expect(mail.html).toBe(
      '<p>avery</p><b>48213907</b><i>Contoso &lt;Shop&gt; &amp; &quot;Friends&quot;\r\nBcc: x@evil.example</i>',
    )
  })

  it('escapes a hostile display part', () => {
    expect(escapeHtml(`<img src=x onerror="alert('x')">`)).toBe(
      '&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;',
    )
  })

  it('names unknown placeholders, bodies without the code, and missing fields', () => {
    expect(
      compileTemplate({ subject: 'Hi {{name}}', text: 'no code here', html: '<p>{{code}}</p>' }),
    ).toEqual([
      'subject: unknown placeholder {{name}} (use {{code}}, {{recipient}}, {{appName}}, {{expiryMinutes}})',
      'text: has no {{code}} placeholder',
    ])
    expect(compileTemplate({ subject: 's', text: '{{code}}' })).toEqual([
      'html: Invalid input: expected string, received undefined',
    ])
  })

  it('ships en, sv, de and fr, each valid', () => {
    const config = loadConfig({
      ...valid,
      MAIL_PROVIDER: 'sendgrid',
      MAIL_FROM: 'no-reply@example.org',
      SENDGRID_API_KEY: 'SG.x',
    })
    expect([...(config.mail?.templates.keys() ?? [])]).toEqual(['en', 'sv', 'de', 'fr'])
    const sv = config.mail?.templates.get('sv')?.(values)
    expect(sv?.subject).toBe('Din kod för Contoso <Shop> & "Friends": 48213907')
    expect(sv?.html).toContain('Contoso &lt;Shop&gt; &amp; &quot;Friends&quot;')
  })
})

describe('provider settings', () => {
  it('leaves OnOtpSend unconfigured without a provider', () => {
    expect(loadConfig(valid).mail).toBeUndefined()
  })

  it('takes the provider from the environment over EXTENSION_CONFIG', () => {
    const path = writeExtensionConfig({ otpSend: { provider: 'acs', from: 'config@example.org' } })
    const config = loadConfig({
      ...valid,
      EXTENSION_CONFIG: path,
      MAIL_PROVIDER: 'smtp',
      MAIL_FROM: 'env@example.org',
      SMTP_URL: 'smtps://user:pa%40ss@mail.example.org',
    })
    expect(config.mail?.transport).toEqual({
      provider: 'smtp',
      url: 'smtps://user:pa%40ss@mail.example.org',
    })
    expect(config.mail?.from).toBe('env@example.org')
  })

  it('names what each provider lacks, and never prints a secret', () => {
    expect(problemsOf({ MAIL_PROVIDER: 'smtp' })).toEqual([
      'MAIL_FROM: is required when a mail provider is set (or otpSend.from)',
      'SMTP_URL: is required with MAIL_PROVIDER=smtp',
    ])
    const bad = problemsOf({
      MAIL_PROVIDER: 'smtp',
      MAIL_FROM: 'no-reply@example.org',
      SMTP_URL: 'http://user:hunter2@mail.example.org',
    })
    expect(bad).toEqual(['SMTP_URL: must be smtp://[user:pass@]host:port or smtps://…'])
    expect(bad.join()).not.toContain('hunter2')
    expect(problemsOf({ MAIL_PROVIDER: 'sendgrid', MAIL_FROM: 'a@example.org' })).toEqual([
      'SENDGRID_API_KEY: is required with MAIL_PROVIDER=sendgrid',
    ])
    expect(
      problemsOf({
        MAIL_PROVIDER: 'acs',
        MAIL_FROM: 'a@example.org',
        ACS_CONNECTION_STRING: 'accesskey=c2VjcmV0',
      }),
    ).toEqual(['ACS_CONNECTION_STRING: must hold endpoint=https://…;accesskey=…'])
    expect(problemsOf({ MAIL_PROVIDER: 'pigeon', MAIL_FROM: 'not an address' })).toEqual([
      expect.stringMatching(/^MAIL_PROVIDER: Invalid option/),
      'MAIL_FROM: must be an e-mail address',
    ])
  })

  it('names a missing or broken template file', () => {
    const folder = mkdtempSync(join(tmpdir(), 'templates-'))
    writeFileSync(
      join(folder, 'en.json'),
      JSON.stringify({ subject: 's', text: '{{code}}', html: '<p>{{cod}}</p>' }),
    )
    const path = writeExtensionConfig({ otpSend: { templates: folder, locales: ['en', 'nl'] } })
    expect(
      problemsOf({
        EXTENSION_CONFIG: path,
        MAIL_PROVIDER: 'sendgrid',
        MAIL_FROM: 'a@example.org',
        SENDGRID_API_KEY: 'SG.x',
      }),
    ).toEqual([
      `otpSend template ${join(folder, 'en.json')}: html: unknown placeholder {{cod}} (use {{code}}, {{recipient}}, {{appName}}, {{expiryMinutes}})`,
      `otpSend template ${join(folder, 'nl.json')}: file not found`,
    ])
  })
})

describe('the OnOtpSend request', () => {
  it('refuses a recipient that is not shaped like an address (no header smuggling)', () => {
    for (const identifier of [
      'avery@example.org\r\nBcc: x@evil.example',
      'avery example.org',
      'avery@@example.org',
      '@example.org',
    ]) {
      const event = fixture('otp-send')
      event.data.otpContext.identifier = identifier
      const parsed = OtpSendEventSchema.safeParse(event)
      expect(parsed.error?.issues[0]?.message, identifier).toBe('must be an e-mail address')
    }
    const ok = fixture('otp-send')
    ok.data.otpContext.identifier = 'Åsa.Öberg+otp@exämple.se'
    expect(OtpSendEventSchema.safeParse(ok).success).toBe(true)
  })
})
