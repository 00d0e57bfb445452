// The sign-up sections of EXTENSION_CONFIG at start-up: hostile patterns refused with a clear
// message, every invalid field named, texts checked against the default locale.
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import { compilePattern, patternProblem } from '../../src/sign-up/safe-pattern.js'
import { writeExtensionConfig } from '../support/endpoint.js'

const valid = {
  ENTRA_TENANT_ID: '11111111-2222-4333-8444-555555555555',
  ENTRA_AUDIENCE: 'a1b2c3d4-0000-4000-8000-00000000e0e0',
}

/** The start-up problems for this EXTENSION_CONFIG, without the file path prefix. */
function problemsFor(extension: unknown, env: Record<string, string> = {}): string[] {
  const path = writeExtensionConfig(extension)
  try {
    loadConfig({ ...valid, ...env, EXTENSION_CONFIG: path })
  } catch (err) {
    if (err instanceof ConfigError)
      return err.problems.map((problem) => problem.replace(`EXTENSION_CONFIG: ${path}: `, ''))
    throw err
  }
  throw new Error('expected a ConfigError')
}

const ruleFor = (rule: object) => ({ attributeCollectionSubmit: { attributes: { city: rule } } })

describe('patterns', () => {
  it.each([
    ['(a)\\1', 'invalid escape sequence'],
    ['(?=a)b', 'invalid or unsupported Perl syntax'],
    ['(?<!a)b', 'invalid named capture'],
  ])('refuses %s, which needs a backtracking engine', (pattern, reason) => {
    const [problem] = problemsFor(ruleFor({ pattern }))
    expect(problem).toMatch(
      /^attributeCollectionSubmit\.attributes\.city\.pattern: pattern is not supported by the linear-time engine \(RE2 syntax, no lookaround or backreferences\): /,
    )
    expect(problem).toContain(reason)
  })

  it('refuses an over-long pattern', () => {
    expect(problemsFor(ruleFor({ pattern: 'a'.repeat(513) }))).toEqual([
      'attributeCollectionSubmit.attributes.city.pattern: pattern is longer than 512 characters',
    ])
  })

  it('accepts Unicode classes and leading inline flags, and matches whole values', () => {
    expect(patternProblem("^[\\p{L} .'-]+$")).toBeUndefined()
    expect(patternProblem('(?i)[a-z]{2}')).toBeUndefined()
    const code = compilePattern('(?i)[a-z]{2}')
    expect([code.matches('SE'), code.matches('SEK'), code.matches('x SE')]).toEqual([
      true,
      false,
      false,
    ])
  })

  it.each(['(a|aa)+b', '(a+)+b', '^(\\w+\\s?)*$', '(x+x+)+y'])(
    'accepts %s and runs it in linear time where a backtracking engine would not return',
    (pattern) => {
      expect(patternProblem(pattern)).toBeUndefined()
      expect(compilePattern(pattern).matches(`${'a'.repeat(5000)}!`)).toBe(false)
    },
  )
})

describe('invalid fields are named', () => {
  it('names typos, impossible bounds and bad values in both sections', () => {
    const problems = problemsFor({
      attributeCollectionStart: {
        prefill: { city: { value: 'Malmö', from: 'email' }, country: { from: 'password' } },
        block: [{ when: { emailDomain: { in: ['not a domain'] } } }],
      },
      attributeCollectionSubmit: {
        attributes: {
          givenName: { maxLenght: 5 },
          city: { minLength: 10, maxLength: 2, normalize: ['lowercase', 'uppercase'] },
          'bad name': { required: true },
          terms: { mustBeTrue: false },
        },
        block: [{ when: { clientAppId: { in: ['x'], notIn: ['y'] } }, message: 'm' }],
      },
    })
    expect(problems).toEqual(
      expect.arrayContaining([
        'attributeCollectionStart.prefill.city: set exactly one of "value" or "from"',
        expect.stringMatching(/^attributeCollectionStart\.prefill\.country\.from: Invalid option/),
        'attributeCollectionStart.block.0.when.emailDomain.in.0: must be a domain such as "contoso.com" or "*.contoso.com"',
        expect.stringMatching(/^attributeCollectionStart\.block\.0\.message: /),
        'attributeCollectionSubmit.attributes.givenName: Unrecognized key: "maxLenght"',
        'attributeCollectionSubmit.attributes.city.minLength: "minLength" is greater than "maxLength"',
        'attributeCollectionSubmit.attributes.city.normalize: "lowercase" and "uppercase" exclude each other',
        expect.stringMatching(
          /^attributeCollectionSubmit\.attributes\.bad name: attribute names are/,
        ),
        expect.stringMatching(/^attributeCollectionSubmit\.attributes\.terms\.mustBeTrue: /),
        'attributeCollectionSubmit.block.0.when.clientAppId.in.0: must be a GUID',
      ]),
    )
  })

  it('requires every text map to hold the default locale', () => {
    expect(
      problemsFor({
        defaultLocale: 'sv',
        attributeCollectionSubmit: {
          validationMessage: { en: 'Please correct the highlighted fields.' },
          attributes: { city: { message: { sv: 'Bara bokstäver.', EN: 'Letters only.' } } },
        },
      }),
    ).toEqual([
      'attributeCollectionSubmit.validationMessage: has no text for the default locale "sv"',
    ])
  })

  it('refuses a plain-http remote API that is not on loopback', () => {
    expect(
      problemsFor({
        attributeCollectionSubmit: {
          remoteValidation: {
            url: 'http://api.example.com/check',
            onFailure: { action: 'continue' },
          },
        },
      }),
    ).toEqual([
      'attributeCollectionSubmit.remoteValidation.url: must be an https URL (http only for loopback hosts)',
    ])
  })

  it('names the app setting a header secret needs, and never prints its value', () => {
    const extension = {
      attributeCollectionSubmit: {
        remoteValidation: {
          url: 'https://api.example.com/check',
          auth: { type: 'header', name: 'x-api-key', secretSetting: 'SIGNUP_API_KEY' },
          onFailure: { action: 'continue' },
        },
      },
    }
    expect(problemsFor(extension)).toEqual([
      'SIGNUP_API_KEY: is required (EXTENSION_CONFIG attributeCollectionSubmit.remoteValidation.auth.secretSetting names it)',
    ])
    const problems = problemsFor(extension, { SIGNUP_API_KEY: 'sekrit\nx-injected: 1' })
    expect(problems).toEqual([
      'SIGNUP_API_KEY: must be a single line (it is sent as an HTTP header)',
    ])
    expect(problems.join('\n')).not.toContain('sekrit')
    const config = loadConfig({
      ...valid,
      SIGNUP_API_KEY: 'sekrit',
      EXTENSION_CONFIG: writeExtensionConfig(extension),
    })
    expect(config.secrets).toEqual({ SIGNUP_API_KEY: 'sekrit' })
  })
})
