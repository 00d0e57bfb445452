// Every hash format OnPasswordSubmit reads, checked against published vectors (the source of each
// is named beside it): the right password verifies, a wrong one does not, and a string of no
// supported format is refused.
import { describe, expect, it } from 'vitest'
import { parseHash, readHash } from '../../src/passwords/hash-formats.js'
import { meetsEntraPolicy } from '../../src/passwords/strength.js'

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64')
const phc = (text: string) => text.replace(/=+$/, '')

// RFC 7914 §11, PBKDF2-HMAC-SHA256 (P="Password", S="NaCl", c=80000, dkLen=64).
const RFC7914_PBKDF2 =
  '4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d'
// RFC 7914 §12, scrypt (P="password", S="NaCl", N=1024, r=8, p=16, dkLen=64).
const RFC7914_SCRYPT =
  'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640'

const VECTORS: [format: string, hash: string, password: string, source: string][] = [
  [
    'bcrypt',
    '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
    'U*U',
    'crypt_blowfish wrapper.c tests',
  ],
  [
    'bcrypt',
    '$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK',
    'U*U*',
    'crypt_blowfish wrapper.c tests',
  ],
  [
    'bcrypt',
    '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
    'U*U',
    '$2b$ of the same (ASCII: identical to $2a$)',
  ],
  [
    'bcrypt',
    '$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
    'U*U',
    '$2y$ of the same (crypt_blowfish)',
  ],
  [
    'argon2i',
    '$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA',
    'password',
    'argon2 reference implementation, src/test.c',
  ],
  [
    'argon2id',
    '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
    'password',
    'argon2 reference implementation, src/test.c',
  ],
  [
    'scrypt',
    `$scrypt$ln=10,r=8,p=16$${phc(Buffer.from('NaCl').toString('base64'))}$${phc(b64(RFC7914_SCRYPT))}`,
    'password',
    'RFC 7914 §12, as a PHC string',
  ],
  [
    'pbkdf2',
    `$pbkdf2-sha256$i=80000$${phc(Buffer.from('NaCl').toString('base64'))}$${phc(b64(RFC7914_PBKDF2))}`,
    'Password',
    'RFC 7914 §11, as a PHC string',
  ],
  [
    'pbkdf2',
    `$pbkdf2-sha256$80000$${phc(Buffer.from('NaCl').toString('base64'))}$${phc(b64(RFC7914_PBKDF2)).replaceAll('+', '.')}`,
    'Password',
    'RFC 7914 §11, as passlib writes it (ab64)',
  ],
  [
    'django-pbkdf2',
    `pbkdf2_sha256$80000$NaCl$${b64(RFC7914_PBKDF2)}`,
    'Password',
    'RFC 7914 §11, in Django’s layout',
  ],
  [
    'aspnet-identity-v2',
    'AAABAgMEBQYHCAkKCwwNDg+ukCEMDf0yyQ29NYubggHIVY0sdEUfdyeM+E1LtH1uJg==',
    'my password',
    'aspnetcore PasswordHasherTest',
  ],
  [
    'aspnet-identity-v3',
    'AQAAAAEAACcQAAAAEAABAgMEBQYHCAkKCwwNDg+yWU7rLgUwPZb1Itsmra7cbxw2EFpwpVFIEtP+JIuUEw==',
    'my password',
    'aspnetcore PasswordHasherTest (SHA256)',
  ],
  [
    'aspnet-identity-v3',
    'AQAAAAIAAAAyAAAAEOMwvh3+FZxqkdMBz2ekgGhwQ4B6pZWND6zgESBuWiHw',
    'my password',
    'aspnetcore PasswordHasherTest (SHA512, 50 iterations)',
  ],
  [
    'aspnet-identity-v3',
    'AQAAAAAAAAD6AAAAEAhftMyfTJylOlZT+eEotFXd1elee8ih5WsjXaR3PA9M',
    'my password',
    'aspnetcore PasswordHasherTest (SHA1, 250 iterations)',
  ],
]

describe('legacy hash formats', () => {
  it.each(VECTORS)(
    '%s: %s verifies its password and no other (%#)',
    async (format, hash, password) => {
      const parsed = parseHash(hash)
      expect(parsed?.format).toBe(format)
      expect(await parsed?.verify(password)).toBe(true)
      expect(await parsed?.verify(`${password}x`)).toBe(false)
    },
  )

  it.each([
    ['MD5 hex', '5f4dcc3b5aa765d61d8327deb882cf99'],
    [
      'argon2d',
      '$argon2d$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA',
    ],
    ['bcrypt with a cost of 3', '$2a$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'],
    [
      'argon2 of 1 GiB',
      '$argon2id$v=19$m=1048576,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
    ],
    ['an ASP.NET v3 hash cut short', 'AQAAAAIAAAAyAAAAEOMwvh3+FZxqkdMBz2ekgGhwQ4A='],
    ['plain text', 'hunter2'],
  ])('refuses %s', (_name, hash) => {
    expect(parseHash(hash)).toBeUndefined()
  })
})

// Costs a request's budget (REQUEST_BUDGET_MS, 750 ms by default) cannot pay for on a small
// instance: refused at load as too costly, not loaded to time out at every sign-in. Parsing only:
// none of these is ever computed.
const SALT = phc(Buffer.from('NaCl').toString('base64'))
const DIGEST = phc(b64(RFC7914_PBKDF2))
const pbkdf2Phc = (digest: string, iterations: number) =>
  `$pbkdf2-${digest}$i=${iterations}$${SALT}$${DIGEST}`
const aspnetV3 = (prf: number, iterations: number) => {
  const header = Buffer.alloc(13)
  header[0] = 0x01
  header.writeUInt32BE(prf, 1)
  header.writeUInt32BE(iterations, 5)
  header.writeUInt32BE(16, 9)
  return Buffer.concat([header, Buffer.alloc(16, 1), Buffer.alloc(32, 2)]).toString('base64')
}

describe('hash costs', () => {
  it.each([
    ['bcrypt cost 14', '$2a$14$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'],
    ['bcrypt cost 31', '$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'],
    ['PBKDF2-SHA256, 10,000,000 iterations', pbkdf2Phc('sha256', 10_000_000)],
    ['PBKDF2-SHA256, 1,200,001 iterations', pbkdf2Phc('sha256', 1_200_001)],
    ['PBKDF2-SHA1, 1,000,001 iterations', pbkdf2Phc('sha1', 1_000_001)],
    ['PBKDF2-SHA512, 600,001 iterations', pbkdf2Phc('sha512', 600_001)],
    ['Django, 10,000,000 iterations', `pbkdf2_sha256$10000000$NaCl$${b64(RFC7914_PBKDF2)}`],
    ['ASP.NET v3 SHA512, 1,000,000 iterations', aspnetV3(2, 1_000_000)],
    ['scrypt N=2^18, r=8', `$scrypt$ln=18,r=8,p=1$${SALT}$${DIGEST}`],
    ['scrypt N=2^17, r=8, p=2', `$scrypt$ln=17,r=8,p=2$${SALT}$${DIGEST}`],
    ['argon2id 128 MiB', `$argon2id$v=19$m=131072,t=1,p=1$c29tZXNhbHQ$${DIGEST}`],
    ['argon2id 64 MiB, t=4', `$argon2id$v=19$m=65536,t=4,p=1$c29tZXNhbHQ$${DIGEST}`],
  ])('refuses %s as too costly', (_name, hash) => {
    expect(readHash(hash)).toBe('too-costly')
    expect(parseHash(hash)).toBeUndefined()
  })

  it.each([
    ['bcrypt cost 13', '$2b$13$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW', 'bcrypt'],
    [
      "Django's default (1,000,000)",
      `pbkdf2_sha256$1000000$NaCl$${b64(RFC7914_PBKDF2)}`,
      'django-pbkdf2',
    ],
    [
      "Django 6's (1,200,000)",
      `pbkdf2_sha256$1200000$NaCl$${b64(RFC7914_PBKDF2)}`,
      'django-pbkdf2',
    ],
    ['ASP.NET v3 SHA512, 100,000 (.NET 7+)', aspnetV3(2, 100_000), 'aspnet-identity-v3'],
    ['scrypt N=2^17, r=8, p=1', `$scrypt$ln=17,r=8,p=1$${SALT}$${DIGEST}`, 'scrypt'],
    [
      'argon2id 64 MiB, t=3 (RFC 9106)',
      `$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$${DIGEST}`,
      'argon2id',
    ],
  ])('accepts %s', (_name, hash, format) => {
    expect(parseHash(hash)?.format).toBe(format)
  })
})

describe("External ID's password policy", () => {
  it.each([
    ['Strong-Pass-1', true],
    ['abcDEF12', true],
    ['abc def!', false], // two classes: lower-case and symbols
    ['Ab1!', false], // too short
    ['Åbcdefg1', false], // outside the documented character set
    [`Aa1${'x'.repeat(254)}`, false], // 257 characters
  ])('%s meets it: %s', (password, strong) => {
    expect(meetsEntraPolicy(password)).toBe(strong)
  })
})
