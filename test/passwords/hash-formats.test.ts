// Every hash format OnPasswordSubmit reads, checked against published vectors (the source of each
// is named beside it): the right password verifies, a wrong one does not, and a string of no
// supported format is refused.
import { describe, expect, it } from 'vitest'
import { parseHash } from '../../src/passwords/hash-formats.js'
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
