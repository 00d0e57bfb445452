// OnPasswordSubmit (issue 17, hashes mode) through the real local host: the context decrypts with
// the allowlisted algorithms only, the answer follows the decision table and carries the nonce,
// attempts are limited, a repeated nonce is answered from the cache, and configuration fails
// closed naming the variable. Keys and hashes are made at test time.
import { createHmac, randomUUID } from 'node:crypto'
import { getHeapSnapshot } from 'node:v8'
import { TableClient } from '@azure/data-tables'
import bcrypt from 'bcryptjs'
import { CompactEncrypt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authenticationEvents } from '../../functions/index.js'
import { ConfigError } from '../../src/config.js'
import { hashRow, hashRowKeys } from '../../src/passwords/hash-table.js'
import { invoke, passwordContext, sampleEvent } from '../../src/testing/index.js'
import { startAzurite, type Azurite } from '../support/azurite.js'
import { startSilentServer } from '../support/silent-server.js'
import { startTestEndpoint, writeExtensionConfig, type TestEndpoint } from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'
import { writeHashesFile, writePasswordKey, type PasswordKey } from '../support/password.js'

// "U*U" and its bcrypt hash: the crypt_blowfish (Openwall) test vectors.
const BCRYPT_USER = {
  username: 'Avery@Example.org',
  hash: '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
}
// "my password": ASP.NET Core Identity's PasswordHasherTest (v3, SHA256, 10000 iterations).
const MY_PASSWORD = 'my password'
const ASPNET_USER = {
  username: 'weak@example.org',
  hash: 'AQAAAAEAACcQAAAAEAABAgMEBQYHCAkKCwwNDg+yWU7rLgUwPZb1Itsmra7cbxw2EFpwpVFIEtP+JIuUEw==',
}
// RFC 7914 §11 PBKDF2-HMAC-SHA256 vector (P="Password", S="NaCl", c=80000), as a PHC string.
const PBKDF2_USER = {
  username: 'strong@example.org',
  hash: `$pbkdf2-sha256$i=80000$${Buffer.from('NaCl').toString('base64').replace(/=+$/, '')}$${Buffer.from(
    '4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d',
    'hex',
  )
    .toString('base64')
    .replace(/=+$/, '')}`,
}

let issuer: TestIssuer
let key: PasswordKey
let hashes: string
let endpoint: TestEndpoint

beforeAll(async () => {
  issuer = await startTestIssuer()
  key = writePasswordKey()
  // A strong password's hash, made here: the published vectors are all of weak passwords.
  const strong = { username: 'migrate@example.org', hash: bcrypt.hashSync('Strong-Pass-1', 4) }
  hashes = writeHashesFile([BCRYPT_USER, ASPNET_USER, PBKDF2_USER, strong])
  endpoint = await startTestEndpoint(issuer, {
    PASSWORD_DECRYPTION_KEY_PATH: key.path,
    PASSWORD_HASHES_FILE: hashes,
    EXTENSION_CONFIG: writeExtensionConfig({
      passwordSubmit: {
        attemptLimit: { maxAttempts: 3 },
        block: {
          title: { en: 'Blocked', sv: 'Spärrad' },
          message: { en: 'Too many attempts.', sv: 'För många försök.' },
        },
      },
    }),
  })
}, 30_000)

afterAll(async () => {
  await endpoint?.close()
  await issuer?.close()
})

function submission(encryptedPasswordContext: string, locale = 'en-us') {
  const event = fixture('password-submit')
  event.data.encryptedPasswordContext = encryptedPasswordContext
  event.data.authenticationContext.client.locale = locale
  return event
}

async function submit(
  context: { username: string; password: string; nonce?: string },
  target: TestEndpoint = endpoint,
) {
  const nonce = context.nonce ?? randomUUID()
  const res = await target.post(
    'onPasswordSubmit',
    submission(await key.encrypt({ ...context, nonce })),
  )
  return { res, nonce }
}

const actionOf = (json: unknown) =>
  (json as { data: { actions: [{ '@odata.type': string }] } }).data.actions[0]['@odata.type']

describe('OnPasswordSubmit decision table', () => {
  it('a right password that meets the policy: MigratePassword, with the request nonce', async () => {
    const { res, nonce } = await submit({
      username: 'migrate@example.org',
      password: 'Strong-Pass-1',
    })
    expect(res.status).toBe(200)
    expect(res.json).toEqual({
      data: {
        '@odata.type': 'microsoft.graph.onPasswordSubmitResponseData',
        actions: [{ '@odata.type': 'microsoft.graph.passwordSubmit.MigratePassword' }],
        nonce,
      },
    })
  })

  it('a right password below the policy: UpdatePassword (PBKDF2 PHC and ASP.NET v3 hashes)', async () => {
    // "Password" and "my password" have two character classes of four: weak.
    const pbkdf2 = await submit({ username: PBKDF2_USER.username, password: 'Password' })
    expect(actionOf(pbkdf2.res.json)).toBe('microsoft.graph.passwordSubmit.UpdatePassword')
    const aspnet = await submit({ username: ASPNET_USER.username, password: MY_PASSWORD })
    expect(actionOf(aspnet.res.json)).toBe('microsoft.graph.passwordSubmit.UpdatePassword')
  })

  it('a wrong password, or an unknown user: Retry', async () => {
    const wrong = await submit({ username: 'strong@example.org', password: 'Password1!' })
    expect(actionOf(wrong.res.json)).toBe('microsoft.graph.passwordSubmit.Retry')
    const unknown = await submit({ username: 'nobody@example.org', password: 'Password1!' })
    expect(actionOf(unknown.res.json)).toBe('microsoft.graph.passwordSubmit.Retry')
  })

  it('matches the username case-insensitively (bcrypt $2a$ hash)', async () => {
    const { res } = await submit({ username: 'AVERY@example.ORG', password: 'U*U' })
    expect(actionOf(res.json)).toBe('microsoft.graph.passwordSubmit.UpdatePassword')
  })
})

describe('OnPasswordSubmit safety', () => {
  it('blocks past the attempt limit, with the localized block page', async () => {
    const username = `limited-${randomUUID()}@example.org`
    for (let i = 0; i < 3; i++) {
      const { res } = await submit({ username, password: 'wrong' })
      expect(actionOf(res.json)).toBe('microsoft.graph.passwordSubmit.Retry')
    }
    const nonce = randomUUID()
    const res = await endpoint.post(
      'onPasswordSubmit',
      submission(await key.encrypt({ username, password: 'wrong', nonce }), 'sv-se'),
    )
    expect(res.json).toEqual({
      data: {
        '@odata.type': 'microsoft.graph.onPasswordSubmitResponseData',
        actions: [
          {
            '@odata.type': 'microsoft.graph.passwordSubmit.Block',
            title: 'Spärrad',
            message: 'För många försök.',
          },
        ],
        nonce,
      },
    })
  })

  it('answers a repeated nonce with the first answer, without counting an attempt', async () => {
    const username = `repeat-${randomUUID()}@example.org`
    const jwe = await key.encrypt({ username, password: 'wrong' })
    for (let i = 0; i < 5; i++) {
      const res = await endpoint.post('onPasswordSubmit', submission(jwe))
      expect(actionOf(res.json)).toBe('microsoft.graph.passwordSubmit.Retry')
    }
    // Five calls with one nonce were one attempt: two more are within the limit of three.
    for (let i = 0; i < 2; i++) {
      const { res } = await submit({ username, password: 'wrong' })
      expect(actionOf(res.json)).toBe('microsoft.graph.passwordSubmit.Retry')
    }
    const { res } = await submit({ username, password: 'wrong' })
    expect(actionOf(res.json)).toBe('microsoft.graph.passwordSubmit.Block')
  })

  it('refuses a known nonce that comes with other credentials', async () => {
    const nonce = randomUUID()
    await submit({ username: 'a@example.org', password: 'one', nonce })
    const { res } = await submit({ username: 'a@example.org', password: 'two', nonce })
    expect(res.status).toBe(400)
    expect(res.json).toEqual({
      error: {
        code: 'ERR_INVALID_PASSWORD_CONTEXT',
        message: 'the password context cannot be read',
      },
    })
  })
})

describe('OnPasswordSubmit decryption', () => {
  const FIXED = {
    error: { code: 'ERR_INVALID_PASSWORD_CONTEXT', message: 'the password context cannot be read' },
  }

  it.each([
    ['RSA-OAEP', 'A128GCM'],
    ['RSA-OAEP', 'A192GCM'],
    ['RSA-OAEP-256', 'A256GCM'],
    ['RSA-OAEP-256', 'A128CBC-HS256'],
    ['RSA-OAEP', 'A256CBC-HS512'],
  ] as const)('accepts %s with %s', async (alg, enc) => {
    const jwe = await key.encrypt({ username: 'AVERY@example.org', password: 'U*U' }, { alg, enc })
    const res = await endpoint.post('onPasswordSubmit', submission(jwe))
    expect(res.status).toBe(200)
  })

  it('accepts a plaintext that is a nested unsigned JWT (as Microsoft’s sample reads it)', async () => {
    const jwe = await key.encrypt(
      { username: 'migrate@example.org', password: 'Strong-Pass-1' },
      { nested: true },
    )
    const res = await endpoint.post('onPasswordSubmit', submission(jwe))
    expect(actionOf(res.json)).toBe('microsoft.graph.passwordSubmit.MigratePassword')
  })

  it('refuses, with one fixed message, a wrong key, a tampered part and an algorithm off the list', async () => {
    const other = writePasswordKey()
    const wrongKey = await other.encrypt({ username: 'a@example.org', password: 'x' })
    const good = (await key.encrypt({ username: 'a@example.org', password: 'x' })).split('.')
    const tag = good[4] ?? ''
    const tampered = [
      ...good.slice(0, 4),
      `${tag.slice(0, -2)}${tag.endsWith('AA') ? 'BA' : 'AA'}`,
    ].join('.')
    const offList = await new CompactEncrypt(
      new TextEncoder().encode(JSON.stringify({ 'user-password': 'x', username: 'a', nonce: 'n' })),
    )
      .setProtectedHeader({ alg: 'A256KW', enc: 'A256GCM' })
      .encrypt(new Uint8Array(32))
    const notClaims = await new CompactEncrypt(new TextEncoder().encode('{"username": 1}'))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM' })
      .encrypt(key.publicKey)
    for (const jwe of [wrongKey, tampered, offList, notClaims]) {
      const res = await endpoint.post('onPasswordSubmit', submission(jwe))
      expect(res.status).toBe(400)
      expect(res.json).toEqual(FIXED)
    }
  })

  it('answers a context that is not a compact JWE (or too long) like any other: the one fixed 400', async () => {
    const real = await key.encrypt({ username: 'avery@example.org', password: 'U*U' })
    for (const context of [
      'a.b.c',
      '',
      'not a jwe at all',
      `${real}.extra`,
      real.replaceAll('.', '~'),
      `${real.split('.').slice(0, 4).join('.')}.`,
      `${real}${'A'.repeat(20_000)}`,
    ]) {
      const res = await endpoint.post('onPasswordSubmit', submission(context))
      expect(res.status).toBe(400)
      expect(res.json).toEqual(FIXED)
    }
  })
})

describe('OnPasswordSubmit configuration', () => {
  it('answers 503 ERR_NOT_CONFIGURED without a key, and health stays 503 when the hashes are set', async () => {
    const bare = await startTestEndpoint(issuer, { PASSWORD_HASHES_FILE: hashes })
    try {
      const res = await bare.post(
        'onPasswordSubmit',
        submission(await key.encrypt({ username: 'a', password: 'b' })),
      )
      expect(res.status).toBe(503)
      expect((res.json as { error: { code: string } }).error.code).toBe('ERR_NOT_CONFIGURED')
      const health = await fetch(`${bare.url}/api/health`)
      expect(health.status).toBe(503)
    } finally {
      await bare.close()
    }
    const health = await fetch(`${endpoint.url}/api/health`)
    expect(health.status).toBe(200)
  })

  it('keeps health at 503 with a key but nothing to check with, as long as the route answers 503', async () => {
    const keyOnly = await startTestEndpoint(issuer, { PASSWORD_DECRYPTION_KEY_PATH: key.path })
    try {
      const res = await keyOnly.post(
        'onPasswordSubmit',
        submission(await key.encrypt({ username: 'a', password: 'b' })),
      )
      expect([res.status, (res.json as { error: { code: string } }).error.code]).toEqual([
        503,
        'ERR_NOT_CONFIGURED',
      ])
      expect((await fetch(`${keyOnly.url}/api/health`)).status).toBe(503)
      const unavailable = keyOnly.logs.find((line) => line.event === 'health_unavailable')
      expect(unavailable?.fields.reason).toMatch(/no OnPasswordSubmit password check/)
    } finally {
      await keyOnly.close()
    }
    // A handler written in code is the check: ready.
    const withCode = await startTestEndpoint(
      issuer,
      { PASSWORD_DECRYPTION_KEY_PATH: key.path },
      { code: { onPasswordSubmit: (_event, ctx) => ctx.retry() } },
    )
    try {
      expect((await fetch(`${withCode.url}/api/health`)).status).toBe(200)
      const res = await withCode.post(
        'onPasswordSubmit',
        submission(await key.encrypt({ username: 'a', password: 'b' })),
      )
      expect(actionOf(res.json)).toBe('microsoft.graph.passwordSubmit.Retry')
    } finally {
      await withCode.close()
    }
  })

  it('fails closed at start naming the variable and the line, never the content', async () => {
    const secretUser = 'zyx-secret-user@example.org'
    const cases: [Record<string, string>, string][] = [
      [
        {
          PASSWORD_DECRYPTION_KEY_PATH: key.path,
          PASSWORD_HASHES_FILE: writeHashesFile([
            BCRYPT_USER,
            `{"username": "${secretUser}", "hash": `,
          ]),
        },
        'PASSWORD_HASHES_FILE: line 2: not valid JSON',
      ],
      [
        {
          PASSWORD_DECRYPTION_KEY_PATH: key.path,
          PASSWORD_HASHES_FILE: writeHashesFile([
            '',
            { username: secretUser, hash: 'md5:0123456789abcdef' },
          ]),
        },
        'PASSWORD_HASHES_FILE: line 2: "hash" is not in a supported format (docs/password-migration.md)',
      ],
      [
        {
          PASSWORD_DECRYPTION_KEY_PATH: key.path,
          PASSWORD_HASHES_FILE: writeHashesFile([
            BCRYPT_USER,
            { username: secretUser, hash: BCRYPT_USER.hash.replace('$05$', '$31$') },
          ]),
        },
        'PASSWORD_HASHES_FILE: line 2: "hash" costs more than one check within the request budget allows (bcrypt cost 13, PBKDF2 1,200,000 iterations of SHA-256, 1,000,000 of SHA-1, 600,000 of SHA-512, scrypt N·r·p 2^20 and 128 MiB, argon2 64 MiB and m·t 192 MiB at most)',
      ],
      [
        { PASSWORD_DECRYPTION_KEY_PATH: hashes },
        'PASSWORD_DECRYPTION_KEY_PATH: is neither a PEM private key nor a readable PFX (or PASSWORD_DECRYPTION_KEY_PASSPHRASE is wrong)',
      ],
      [
        { PASSWORD_DECRYPTION_KEY_PATH: writePasswordKey({ passphrase: 'zyx-passphrase' }).path },
        'PASSWORD_DECRYPTION_KEY_PASSPHRASE: is required for an encrypted key',
      ],
      [{ PASSWORD_HASHES_FILE: `${hashes}.missing` }, 'PASSWORD_HASHES_FILE: file not found'],
    ]
    for (const [env, problem] of cases) {
      const err: unknown = await startTestEndpoint(issuer, env).then(
        async (started) => {
          await started.close()
          return undefined
        },
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(ConfigError)
      expect((err as ConfigError).problems).toEqual([problem])
      expect((err as ConfigError).message).not.toContain(secretUser)
    }
  })

  it('logs no outcome for a check that ends after the deadline (the caller got 504)', async () => {
    // bcrypt cost 12 takes hundreds of ms in bcryptjs: far past a 100 ms budget on any machine.
    const slowHash = bcrypt.hashSync('Strong-Pass-1', 12)
    const late = await startTestEndpoint(issuer, {
      PASSWORD_DECRYPTION_KEY_PATH: key.path,
      PASSWORD_HASHES_FILE: writeHashesFile([{ username: 'late@example.org', hash: slowHash }]),
      REQUEST_BUDGET_MS: '100',
    })
    try {
      const res = await late.post(
        'onPasswordSubmit',
        submission(await key.encrypt({ username: 'late@example.org', password: 'Strong-Pass-1' })),
      )
      expect(res.status).toBe(504)
      // The comparison runs to its end in the background; then it says it was late, and no more.
      await expect
        .poll(() => late.logs.some((line) => line.event === 'password_check_late'), {
          timeout: 20_000,
        })
        .toBe(true)
      const lateLine = late.logs.find((line) => line.event === 'password_check_late')
      expect(Object.keys(lateLine?.fields ?? {}).sort()).toEqual([
        'correlationId',
        'mode',
        'ms',
        'user',
      ])
      expect(late.logs.map((line) => line.event)).not.toContain('password_checked')
    } finally {
      await late.close()
    }
  }, 30_000)

  it('reads an encrypted PKCS#8 key with PASSWORD_DECRYPTION_KEY_PASSPHRASE', async () => {
    const encrypted = writePasswordKey({ passphrase: 'zyx-passphrase' })
    const started = await startTestEndpoint(issuer, {
      PASSWORD_DECRYPTION_KEY_PATH: encrypted.path,
      PASSWORD_DECRYPTION_KEY_PASSPHRASE: 'zyx-passphrase',
      PASSWORD_HASHES_FILE: hashes,
    })
    try {
      const res = await started.post(
        'onPasswordSubmit',
        submission(await encrypted.encrypt({ username: 'avery@example.org', password: 'U*U' })),
      )
      expect(res.status).toBe(200)
    } finally {
      await started.close()
    }
  })

  it('decrypts with either of two keys during a rotation', async () => {
    const next = writePasswordKey()
    const started = await startTestEndpoint(issuer, {
      PASSWORD_DECRYPTION_KEY_PATH: `${key.path},${next.path}`,
      PASSWORD_HASHES_FILE: hashes,
    })
    try {
      // No passwordSubmit section: hashes mode with the default limit, healthy once both loaded.
      expect((await fetch(`${started.url}/api/health`)).status).toBe(200)
      for (const k of [key, next]) {
        const res = await started.post(
          'onPasswordSubmit',
          submission(await k.encrypt({ username: 'avery@example.org', password: 'U*U' })),
        )
        expect(res.status).toBe(200)
      }
    } finally {
      await started.close()
    }
  })
})

describe('events.onPasswordSubmit (code API)', () => {
  const env = { PATH: process.env.PATH ?? '' }

  it('sees the decrypted username and password, and answers with the nonce', async () => {
    const events = authenticationEvents({ env }).onPasswordSubmit((event, ctx) =>
      event.username === 'code@example.org' && event.password === 'Right-Pass-1'
        ? ctx.migrate()
        : ctx.block('No', 'Not you.'),
    )
    const nonce = randomUUID()
    const body = sampleEvent('onPasswordSubmit', {
      data: {
        encryptedPasswordContext: await passwordContext({
          username: 'code@example.org',
          password: 'Right-Pass-1',
          nonce,
        }),
      },
    })
    const result = await invoke(events, 'onPasswordSubmit', body)
    expect(result.body).toEqual({
      data: {
        '@odata.type': 'microsoft.graph.onPasswordSubmitResponseData',
        actions: [{ '@odata.type': 'microsoft.graph.passwordSubmit.MigratePassword' }],
        nonce,
      },
    })
  })

  const codeBody = async (username: string, password: string, nonce: string = randomUUID()) =>
    sampleEvent('onPasswordSubmit', {
      data: {
        encryptedPasswordContext: await passwordContext({ username, password, nonce }),
        authenticationContext: { client: { locale: 'en-us' } },
      },
    })

  it('applies the attempt limit: over it, Block with the configured text, the handler not called', async () => {
    const calls: string[] = []
    const events = authenticationEvents({
      env: {
        ...env,
        EXTENSION_CONFIG: writeExtensionConfig({
          passwordSubmit: {
            attemptLimit: { maxAttempts: 2 },
            block: { title: { en: 'Blocked' }, message: { en: 'Too many attempts.' } },
          },
        }),
      },
    }).onPasswordSubmit((event, ctx) => {
      calls.push(event.password)
      return ctx.retry()
    })
    const actions: unknown[] = []
    for (const password of ['one', 'two', 'three']) {
      const result = await invoke(
        events,
        'onPasswordSubmit',
        await codeBody('limit@x.org', password),
      )
      actions.push((result.body as { data: { actions: unknown[] } }).data.actions[0])
    }
    expect(actions).toEqual([
      { '@odata.type': 'microsoft.graph.passwordSubmit.Retry' },
      { '@odata.type': 'microsoft.graph.passwordSubmit.Retry' },
      {
        '@odata.type': 'microsoft.graph.passwordSubmit.Block',
        title: 'Blocked',
        message: 'Too many attempts.',
      },
    ])
    expect(calls).toEqual(['one', 'two'])
    // Another user is not affected.
    const other = await invoke(events, 'onPasswordSubmit', await codeBody('other@x.org', 'four'))
    expect(other.status).toBe(200)
    expect(calls).toEqual(['one', 'two', 'four'])
  })

  it('answers a repeated nonce with the first answer, without calling the handler again', async () => {
    let calls = 0
    const events = authenticationEvents({ env }).onPasswordSubmit((_event, ctx) =>
      ++calls === 1 ? ctx.migrate() : ctx.retry(),
    )
    const nonce = randomUUID()
    const first = await invoke(events, 'onPasswordSubmit', await codeBody('n@x.org', 'P-1', nonce))
    const again = await invoke(events, 'onPasswordSubmit', await codeBody('n@x.org', 'P-1', nonce))
    expect(again).toEqual(first)
    expect(first.body).toMatchObject({
      data: { actions: [{ '@odata.type': 'microsoft.graph.passwordSubmit.MigratePassword' }] },
    })
    expect(calls).toBe(1)
    // The same nonce with other credentials is refused, as for the declarative check.
    const other = await invoke(events, 'onPasswordSubmit', await codeBody('n@x.org', 'P-2', nonce))
    expect(other).toMatchObject({
      status: 400,
      body: { error: { code: 'ERR_INVALID_PASSWORD_CONTEXT' } },
    })
    expect(calls).toBe(1)
  })

  it('keys the repeat cache with a key of its own, not LOG_HASH_KEY (nothing in memory to test guesses against)', async () => {
    const logHashKey = `operators-know-this-${randomUUID()}`
    const events = authenticationEvents({
      env: { ...env, LOG_HASH_KEY: logHashKey },
    }).onPasswordSubmit((_event, ctx) => ctx.retry())
    const nonce = randomUUID()
    const result = await invoke(events, 'onPasswordSubmit', await codeBody('k@x.org', 'P-9', nonce))
    expect(result.status).toBe(200)
    // What the cache would hold were it keyed with LOG_HASH_KEY: whoever knows the key and reads
    // the process's memory could test guessed passwords against the credentials' digest.
    // Buffers, not strings: their bytes are not in the heap, so only the endpoint's can be found.
    const withLogKey = (text: string) =>
      createHmac('sha256', logHashKey).update(`password\0${text}`).digest()
    const digests = [`nonce\0${nonce}`, 'credentials\0k@x.org\0P-9'].map(withLogKey)
    const found = new Set<number>()
    let tail = ''
    // The snapshot is taken now; the strings made while reading it are not in it.
    for await (const chunk of getHeapSnapshot() as AsyncIterable<Buffer>) {
      const text = tail + chunk.toString('latin1')
      digests.forEach((digest, i) => {
        if (text.includes(digest.toString('hex'))) found.add(i)
      })
      tail = text.slice(-64)
    }
    expect([...found]).toEqual([])
  }, 60_000)

  it('counts an attempt once when the handler falls back on ctx.defaults()', async () => {
    const events = authenticationEvents({
      env: {
        ...env,
        PASSWORD_HASHES_FILE: hashes,
        EXTENSION_CONFIG: writeExtensionConfig({
          passwordSubmit: { attemptLimit: { maxAttempts: 2 } },
        }),
      },
    }).onPasswordSubmit((_event, ctx) => ctx.defaults())
    const actions: string[] = []
    for (const password of ['Wrong-1', 'Strong-Pass-1', 'Strong-Pass-1']) {
      const result = await invoke(
        events,
        'onPasswordSubmit',
        await codeBody('migrate@example.org', password),
      )
      actions.push(actionOf(result.body))
    }
    expect(actions).toEqual([
      'microsoft.graph.passwordSubmit.Retry',
      'microsoft.graph.passwordSubmit.MigratePassword',
      'microsoft.graph.passwordSubmit.Block',
    ])
  })

  it('refuses an answer whose nonce is not the request’s (500 ERR_INVALID_RESPONSE)', async () => {
    const events = authenticationEvents({ env }).onPasswordSubmit((_event, ctx) => ({
      data: { ...ctx.retry().data, nonce: 'another-nonce' },
    }))
    const body = sampleEvent('onPasswordSubmit', {
      data: { encryptedPasswordContext: await passwordContext({ username: 'a', password: 'b' }) },
    })
    const result = await invoke(events, 'onPasswordSubmit', body)
    expect(result.status).toBe(500)
    expect(result.body).toMatchObject({ error: { code: 'ERR_INVALID_RESPONSE' } })
  })
})

describe('OnPasswordSubmit on Azure Table Storage (Azurite)', () => {
  let azurite: Azurite
  const started: TestEndpoint[] = []
  const limited = (env: Record<string, string>) =>
    startTestEndpoint(issuer, {
      PASSWORD_DECRYPTION_KEY_PATH: key.path,
      PASSWORD_HASHES_FILE: hashes,
      EXTENSION_CONFIG: writeExtensionConfig({
        passwordSubmit: { attemptLimit: { maxAttempts: 3 } },
      }),
      REQUEST_BUDGET_MS: '1500',
      ...env,
    }).then((endpoint) => {
      started.push(endpoint)
      return endpoint
    })

  beforeAll(async () => {
    azurite = await startAzurite()
  }, 30_000)
  afterAll(async () => {
    await Promise.all(started.map((endpoint) => endpoint.close()))
    await azurite?.stop()
  })

  it('counts attempts made on two instances (no LOG_HASH_KEY) against one limit', async () => {
    const store = { OTP_STORE_CONNECTION_STRING: azurite.connectionString }
    const [one, two] = await Promise.all([limited(store), limited(store)])
    const username = `shared-${randomUUID()}@example.org`
    const actions: string[] = []
    for (const target of [one, two, one, two, one]) {
      const { res } = await submit({ username, password: 'wrong' }, target)
      actions.push(actionOf(res.json))
    }
    expect(actions).toEqual([
      'microsoft.graph.passwordSubmit.Retry',
      'microsoft.graph.passwordSubmit.Retry',
      'microsoft.graph.passwordSubmit.Retry',
      'microsoft.graph.passwordSubmit.Block',
      'microsoft.graph.passwordSubmit.Block',
    ])
    // Another user is not affected, on either instance.
    const other = await submit({ username: 'migrate@example.org', password: 'Strong-Pass-1' }, two)
    expect(actionOf(other.res.json)).toBe('microsoft.graph.passwordSubmit.MigratePassword')
    for (const endpoint of [one, two])
      expect(endpoint.logs.map((line) => line.event)).not.toContain('password_store_unavailable')
  })

  it('without an OTP store, counts attempts on two instances in the hash table storage account', async () => {
    const tableName = `shared${randomUUID().replaceAll('-', '').slice(0, 12)}`
    await TableClient.fromConnectionString(azurite.connectionString, tableName, {
      allowInsecureConnection: true,
    }).createTable()
    const env = {
      PASSWORD_HASHES_FILE: '',
      PASSWORD_HASHES_CONNECTION_STRING: azurite.connectionString,
      PASSWORD_HASHES_TABLE: tableName,
    }
    const [one, two] = await Promise.all([limited(env), limited(env)])
    const username = `hash-store-${randomUUID()}@example.org`
    const actions: string[] = []
    for (const target of [one, two, one, two]) {
      const { res } = await submit({ username, password: 'wrong' }, target)
      actions.push(actionOf(res.json))
    }
    expect(actions).toEqual([
      'microsoft.graph.passwordSubmit.Retry',
      'microsoft.graph.passwordSubmit.Retry',
      'microsoft.graph.passwordSubmit.Retry',
      'microsoft.graph.passwordSubmit.Block',
    ])
    for (const endpoint of [one, two]) {
      const events = endpoint.logs.map((line) => line.event)
      expect(events).not.toContain('password_store_unavailable')
      expect(events).not.toContain('password_attempts_per_instance')
    }
    // The counts are in a table of their own, not among the hashes.
    const rows = TableClient.fromConnectionString(azurite.connectionString, tableName, {
      allowInsecureConnection: true,
    }).listEntities()
    for await (const row of rows) expect(row.partitionKey).not.toMatch(/^password/)
  })

  it('warns at start that the attempt limit is per instance when no table store is set', async () => {
    const alone = await limited({})
    const warning = alone.logs.find((line) => line.event === 'password_attempts_per_instance')
    expect(warning?.level).toBe('warn')
    const shared = await limited({ OTP_STORE_CONNECTION_STRING: azurite.connectionString })
    expect(shared.logs.map((line) => line.event)).not.toContain('password_attempts_per_instance')
  })

  it('still limits per instance when the store cannot be reached, and says so in the log', async () => {
    const dead = azurite.connectionString.replace(`:${azurite.port}/`, ':1/')
    const endpoint = await limited({ OTP_STORE_CONNECTION_STRING: dead })
    const username = `store-down-${randomUUID()}@example.org`
    const actions: string[] = []
    for (let i = 0; i < 4; i++) {
      const { res } = await submit({ username, password: 'wrong' }, endpoint)
      actions.push(actionOf(res.json))
    }
    expect(actions.slice(0, 3)).toEqual(Array(3).fill('microsoft.graph.passwordSubmit.Retry'))
    expect(actions[3]).toBe('microsoft.graph.passwordSubmit.Block')
    const unavailable = endpoint.logs.filter((line) => line.event === 'password_store_unavailable')
    expect(unavailable.length).toBeGreaterThan(0)
    expect(JSON.stringify(endpoint.logs)).not.toContain(username)
  })

  it('finds hashes in PASSWORD_HASHES_CONNECTION_STRING by the normalised username', async () => {
    const table = TableClient.fromConnectionString(azurite.connectionString, 'legacyhashes', {
      allowInsecureConnection: true,
    })
    await table.createTable()
    // Characters Table keys forbid are fine in a username: rows are named by its digest.
    const odd = 'Odd/User#1?\\@Example.org'
    for (const [username, hash] of [
      ['migrate@example.org', bcrypt.hashSync('Strong-Pass-1', 4)],
      [odd, BCRYPT_USER.hash],
    ] as const)
      await table.createEntity(hashRow(username, hash))
    await table.createEntity({ ...hashRowKeys('broken@example.org'), hash: 'md5:00' })
    const endpoint = await limited({
      PASSWORD_HASHES_FILE: '',
      PASSWORD_HASHES_CONNECTION_STRING: azurite.connectionString,
      PASSWORD_HASHES_TABLE: 'legacyhashes',
    })
    const cases = [
      ['MIGRATE@example.org', 'Strong-Pass-1', 'MigratePassword'],
      ['migrate@example.org', 'Wrong-Pass-1', 'Retry'],
      [odd.toLowerCase(), 'U*U', 'UpdatePassword'],
      ['nobody@example.org', 'Strong-Pass-1', 'Retry'],
    ] as const
    for (const [username, password, action] of cases) {
      const { res } = await submit({ username, password }, endpoint)
      expect(actionOf(res.json)).toBe(`microsoft.graph.passwordSubmit.${action}`)
    }
    // A row whose hash no format reads is the legacy store failing, not a wrong password.
    const { res } = await submit({ username: 'broken@example.org', password: 'x' }, endpoint)
    expect(res.status).toBe(503)
    expect(res.json).toEqual({
      error: {
        code: 'ERR_PASSWORD_CHECK_UNAVAILABLE',
        message: 'the legacy password check failed',
      },
    })
  })

  it('a missing table is the store failing (503, never Retry); health is 503 until it exists', async () => {
    const tableName = `missing${randomUUID().replaceAll('-', '').slice(0, 12)}`
    const endpoint = await limited({
      PASSWORD_HASHES_FILE: '',
      PASSWORD_HASHES_CONNECTION_STRING: azurite.connectionString,
      PASSWORD_HASHES_TABLE: tableName,
    })
    const health = async () => (await fetch(`${endpoint.url}/api/health`)).status
    expect(await health()).toBe(503)
    const { res } = await submit({ username: 'nobody@example.org', password: 'Pass-1' }, endpoint)
    expect([res.status, (res.json as { error: { code: string } }).error.code]).toEqual([
      503,
      'ERR_PASSWORD_CHECK_UNAVAILABLE',
    ])
    const failed = endpoint.logs.find((line) => line.event === 'password_hashes_table_failed')
    expect(failed?.fields).toEqual({ table: tableName, reason: 'TableNotFound' })
    const unavailable = endpoint.logs.find((line) => line.event === 'health_unavailable')
    expect(unavailable?.fields.reason).toMatch(/^password_hashes_table_failed: /)
    const checkFailed = endpoint.logs.find((line) => line.event === 'password_check_failed')
    expect(checkFailed?.fields.reason).toMatch(/TableNotFound/)
    // The table appears (the import ran): the next check, a minute on, finds it.
    await TableClient.fromConnectionString(azurite.connectionString, tableName, {
      allowInsecureConnection: true,
    }).createTable()
    expect(await health()).toBe(503)
    endpoint.clockOffsetMs += 60_000
    await expect.poll(health).toBe(200)
    const after = await submit({ username: 'nobody@example.org', password: 'Pass-1' }, endpoint)
    expect(actionOf(after.res.json)).toBe('microsoft.graph.passwordSubmit.Retry')
    expect(JSON.stringify(endpoint.logs)).not.toMatch(/nobody@|Pass-1/)
  })

  it('answers 503 when the hash table is down and 504 when it is slow, never Retry', async () => {
    const dead = await limited({
      PASSWORD_HASHES_FILE: '',
      PASSWORD_HASHES_CONNECTION_STRING: azurite.connectionString.replace(
        `:${azurite.port}/`,
        ':1/',
      ),
    })
    const down = await submit({ username: 'down@example.org', password: 'Strong-Pass-1' }, dead)
    expect(down.res.status).toBe(503)
    expect((down.res.json as { error: { code: string } }).error.code).toBe(
      'ERR_PASSWORD_CHECK_UNAVAILABLE',
    )
    const silent = await startSilentServer()
    try {
      const slow = await limited({
        PASSWORD_HASHES_FILE: '',
        PASSWORD_HASHES_CONNECTION_STRING: azurite.connectionString.replace(
          `:${azurite.port}/`,
          `:${silent.port}/`,
        ),
        REQUEST_BUDGET_MS: '400',
      })
      const started = performance.now()
      const { res } = await submit({ username: 'slow@example.org', password: 'Pass-1' }, slow)
      expect(res.status).toBe(504)
      expect((res.json as { error: { code: string } }).error.code).toBe(
        'ERR_PASSWORD_CHECK_TIMEOUT',
      )
      expect(performance.now() - started).toBeLessThan(1000)
      const failed = slow.logs.find((line) => line.event === 'password_check_failed')
      expect(failed?.fields).toMatchObject({ mode: 'hashes', code: 'ERR_PASSWORD_CHECK_TIMEOUT' })
      expect(JSON.stringify([...slow.logs, ...dead.logs])).not.toMatch(/slow@|down@/)
    } finally {
      await silent.close()
    }
  })

  it('refuses PASSWORD_HASHES_FILE with PASSWORD_HASHES_CONNECTION_STRING at start', async () => {
    const err: unknown = await limited({
      PASSWORD_HASHES_CONNECTION_STRING: azurite.connectionString,
    }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect((err as ConfigError).problems).toEqual([
      'PASSWORD_HASHES_FILE: set it or PASSWORD_HASHES_CONNECTION_STRING, not both',
    ])
  })
})
