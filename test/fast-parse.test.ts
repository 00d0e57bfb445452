// The compiled fast path (src/fast-parse.ts) against zod itself: for every input, it accepts exactly
// what zod accepts, with the same output (values, absent versus undefined keys, key order), and a
// refusal carries zod's own error. Checked on the recorded events and typical answers, on random
// mutations of them, on random JSON, and on schemas built to reach each rule the compiler mirrors.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import { compileFastPath, FAST_PATH_DECLINED, fastParser } from '../src/fast-parse.js'
import { EVENT_ROUTES, type EventRoute } from '../src/events/routes.js'
import { FIXTURE_ROUTES, fixture, type FixtureName } from './support/fixtures.js'

const compiledOf = new Map<z.ZodType, (input: unknown) => unknown>()

/** The compiled path and fastParser agree with schema.safeParse on `input`. */
function agree(schema: z.ZodType, input: unknown): void {
  let compiled = compiledOf.get(schema)
  if (compiled === undefined) {
    compiled = compileFastPath(schema)
    compiledOf.set(schema, compiled)
  }
  const zod = schema.safeParse(input)
  const fast = compiled(input)
  expect(fast !== FAST_PATH_DECLINED, 'accepted by the compiled path').toBe(zod.success)
  if (zod.success) {
    expect(canonical(fast)).toEqual(canonical(zod.data))
    expect(JSON.stringify(fast)).toBe(JSON.stringify(zod.data)) // key order, as sent on the wire
  }
  const parsed = fastParser(schema)(input)
  expect(parsed.success).toBe(zod.success)
  if (!parsed.success) expect(parsed.error.issues).toEqual(zod.error?.issues)
}

/**
 * A value as plain data that tells apart what the outputs may differ in: key order, an undefined
 * property versus an absent one, holes, -0, the prototype. (toStrictEqual would also compare
 * "constructor" properties by identity, and an attribute may be named "constructor".)
 */
function canonical(value: unknown): unknown {
  if (value === undefined) return ['undefined']
  if (typeof value === 'number') return ['number', Object.is(value, -0) ? '-0' : String(value)]
  if (Array.isArray(value))
    return ['array', ...Array.from(value, (item, i) => (i in value ? canonical(item) : ['hole']))]
  if (typeof value === 'object' && value !== null) {
    const proto = Object.getPrototypeOf(value) as unknown
    const kind = proto === Object.prototype ? 'object' : proto === null ? 'null-prototype' : 'other'
    return [
      kind,
      ...Reflect.ownKeys(value).map((key) => [String(key), canonical(Reflect.get(value, key))]),
    ]
  }
  return [typeof value, value]
}

// ---------------------------------------------------------------------------------------------
// Inputs: the recorded events and typical answers, and mutations of them.

const ROUTE_SCHEMAS = Object.entries(EVENT_ROUTES) as [
  EventRoute,
  (typeof EVENT_ROUTES)[EventRoute],
][]

const ANSWERS: Record<EventRoute, unknown[]> = {
  onTokenIssuanceStart: [
    answer('microsoft.graph.onTokenIssuanceStartResponseData', {
      '@odata.type': 'microsoft.graph.tokenIssuanceStart.provideClaimsForToken',
      claims: { correlationId: 'c', roles: ['a', 'b'], empty: [] },
    }),
  ],
  onAttributeCollectionStart: [
    answer('microsoft.graph.onAttributeCollectionStartResponseData', {
      '@odata.type': 'microsoft.graph.attributeCollectionStart.continueWithDefaultBehavior',
    }),
    answer('microsoft.graph.onAttributeCollectionStartResponseData', {
      '@odata.type': 'microsoft.graph.attributeCollectionStart.setPrefillValues',
      inputs: { city: 'Oslo', memberSince: 2019, newsletter: true },
    }),
    answer('microsoft.graph.onAttributeCollectionStartResponseData', {
      '@odata.type': 'microsoft.graph.attributeCollectionStart.showBlockPage',
      title: 'Closed',
      message: 'Sign-up is closed.',
    }),
  ],
  onAttributeCollectionSubmit: [
    answer('microsoft.graph.onAttributeCollectionSubmitResponseData', {
      '@odata.type': 'microsoft.graph.attributeCollectionSubmit.showValidationError',
      message: 'Please fix the fields.',
      attributeErrors: { postalCode: 'must be five digits' },
    }),
    answer('microsoft.graph.onAttributeCollectionSubmitResponseData', {
      '@odata.type': 'microsoft.graph.attributeCollectionSubmit.modifyAttributeValues',
      attributes: { displayName: 'Ada' },
    }),
    answer('microsoft.graph.onAttributeCollectionSubmitResponseData', {
      '@odata.type': 'microsoft.graph.attributeCollectionSubmit.showBlockPage',
      message: 'No.',
    }),
  ],
  onOtpSend: [
    answer('microsoft.graph.OnOtpSendResponseData', {
      '@odata.type': 'microsoft.graph.OtpSend.continueWithDefaultBehavior',
    }),
  ],
}

function answer(dataType: string, action: Record<string, unknown>) {
  return { data: { '@odata.type': dataType, actions: [action] } }
}

const fixturesOf = (route: EventRoute) =>
  (Object.keys(FIXTURE_ROUTES) as FixtureName[]).filter((name) => FIXTURE_ROUTES[name] === route)

/** Strings at and around the schemas' bounds, in ASCII and in surrogate pairs (2 units each). */
const BOUNDS = [0, 1, 2, 3, 20, 32, 33, 40, 63, 64, 65, 128, 129, 256, 257, 320, 321, 1024, 1025]
const edgeString = fc.oneof(
  fc.constantFrom(...BOUNDS).map((n) => 'a'.repeat(n)),
  fc.constantFrom(...BOUNDS).map((n) => '😀'.repeat(n)),
  fc.constantFrom(...BOUNDS).map((n) => `${'😀'.repeat(Math.floor(n / 2))}a`),
  fc.constantFrom(
    '00000000-0000-0000-0000-000000000000',
    '00000000-0000-0000-0000-00000000000g',
    'ada@example.org',
    'a,b@x',
    'city',
    'extension_5f1c0e0b8d2a4e3c9a7b6c5d4e3f2a1b_memberSince',
    '_hidden',
    '',
  ),
  fc.string({ maxLength: 8 }),
)
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  edgeString,
  fc.constantFrom(null, true, false, 0, -0, 1.5, 2 ** 53, -(2 ** 53), [], {}),
  fc.array(edgeString, { maxLength: 3 }),
  fc.dictionary(edgeString, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
)
const anyKey = fc.oneof(
  edgeString,
  fc.constantFrom(
    '__proto__',
    'constructor',
    'toString',
    'type',
    'data',
    '@odata.type',
    '@odata.Type',
    'user',
    'displayName',
    'value',
    'onetimecode',
    'attributes',
  ),
)

type Path = (string | number)[]
type Mutation =
  | { readonly kind: 'delete'; readonly pick: number }
  | { readonly kind: 'replace'; readonly pick: number; readonly value: unknown }
  | { readonly kind: 'add'; readonly pick: number; readonly key: string; readonly value: unknown }
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), pick: fc.nat(), value: anyValue }),
  fc.record({ kind: fc.constant('add' as const), pick: fc.nat(), key: anyKey, value: anyValue }),
)

function pathsOf(value: unknown, at: Path = []): Path[] {
  if (Array.isArray(value))
    return value.flatMap((item, i) => [[...at, i], ...pathsOf(item, [...at, i])])
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([k, v]) => [[...at, k], ...pathsOf(v, [...at, k])])
  return []
}

/** Sets an own, enumerable property even for "__proto__", as JSON.parse does. */
function put(target: object, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  })
}

function mutate(root: unknown, mutation: Mutation): unknown {
  // fast-check hands out its constants ([] and {}) again and again: copies, never the instances.
  const m = 'value' in mutation ? { ...mutation, value: structuredClone(mutation.value) } : mutation
  const candidates = [[], ...pathsOf(root)]
  const path = candidates[m.pick % candidates.length] as Path
  if (m.kind === 'add') {
    const target = path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], root)
    if (typeof target === 'object' && target !== null && !Array.isArray(target))
      put(target, m.key, m.value)
    return root
  }
  if (path.length === 0) return m.kind === 'replace' ? m.value : root
  const parent = path
    .slice(0, -1)
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], root) as Record<
    string,
    unknown
  >
  const key = path.at(-1) as string | number
  if (m.kind === 'replace') put(parent, key, m.value)
  else if (Array.isArray(parent)) parent.splice(Number(key), 1)
  else delete parent[key]
  return root
}

describe('fast path: the route schemas', () => {
  for (const [route, spec] of ROUTE_SCHEMAS) {
    const events = fixturesOf(route)

    it(`${route}: takes the recorded events and typical answers on the compiled path, as zod reads them`, () => {
      const request = compileFastPath(spec.request)
      const response = compileFastPath(spec.response)
      for (const name of events) {
        expect(request(fixture(name))).not.toBe(FAST_PATH_DECLINED)
        agree(spec.request, fixture(name))
      }
      for (const reply of ANSWERS[route]) {
        expect(response(structuredClone(reply))).not.toBe(FAST_PATH_DECLINED)
        agree(spec.response, structuredClone(reply))
      }
    })

    it(`${route}: agrees with zod on mutated events and answers`, () => {
      const seeds = [
        ...events.map((name) => ({ schema: spec.request, make: () => fixture(name) as unknown })),
        ...ANSWERS[route].map((reply) => ({
          schema: spec.response,
          make: () => structuredClone(reply),
        })),
      ]
      fc.assert(
        fc.property(
          fc.nat(),
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          (pick, mutations) => {
            const seed = seeds[pick % seeds.length] as (typeof seeds)[number]
            agree(seed.schema, mutations.reduce(mutate, seed.make()))
          },
        ),
        { numRuns: Number(process.env.FAST_PARSE_RUNS ?? 400) },
      )
    })

    it(`${route}: agrees with zod on random JSON`, () => {
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
          agree(spec.request, value)
          agree(spec.response, value)
        }),
        { numRuns: 150 },
      )
    })
  }
})

describe('fast path: each rule it mirrors', () => {
  it('counts string lengths in code points, as zod does', () => {
    const max = z.string().max(3)
    const min = z.string().min(2)
    for (const s of ['abc', 'abcd', '😀😀😀', '😀😀😀😀', '😀a', '', 'a', '😀', '😀😀']) {
      agree(max, s)
      agree(min, s)
    }
  })

  it('bounds arrays and checks each element', () => {
    const schema = z.array(z.string().max(2)).min(1).max(2)
    for (const input of [[], ['a'], ['a', 'b'], ['a', 'b', 'c'], ['abc'], [1], 'ab', { 0: 'a' }])
      agree(schema, input)
  })

  it('tests a global regex from its start every time', () => {
    const schema = z.string().regex(/^a/g)
    for (const input of ['ab', 'ab', 'ab', 'ba', 'ab']) agree(schema, input)
  })

  it('tells absent, undefined and null apart (optional, nullable, nullish, default)', () => {
    const schema = z.object({
      optional: z.string().optional(),
      nullable: z.string().nullable(),
      nullish: z.string().nullish(),
      defaulted: z.string().default('d'),
      defaultedObject: z.object({ a: z.number().default(1) }).default({ a: 2 }),
    })
    const inputs = [
      { nullable: null },
      { nullable: 'x', optional: undefined, nullish: null, defaulted: undefined },
      { optional: 'o', nullable: 'n', nullish: 'u', defaulted: 'x', defaultedObject: {} },
      { optional: null, nullable: null },
      { nullable: undefined },
      {},
    ]
    for (const input of inputs) agree(schema, input)
  })

  it('hands out a fresh copy of an object default each time', () => {
    const parse = compileFastPath(z.object({ bag: z.object({}).default({}) }))
    const first = parse({}) as { bag: Record<string, unknown> }
    first.bag.changed = true
    expect(canonical(parse({}))).toEqual(canonical({ bag: {} }))
  })

  it('strips unknown keys, refuses them when strict, and never writes __proto__', () => {
    const strip = z.object({ a: z.string() })
    const strict = z.strictObject({ a: z.string() })
    const withProto = JSON.parse('{"a":"x","__proto__":{"polluted":true}}') as unknown
    for (const input of [{ a: 'x' }, { a: 'x', b: 1 }, withProto, { b: 1 }, [], null, 'a']) {
      agree(strip, input)
      agree(strict, input)
    }
    const out = compileFastPath(strip)(withProto) as Record<string, unknown>
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(out.polluted).toBeUndefined()
  })

  it('reads keys as zod does, through the prototype ("constructor" in {})', () => {
    const schema = z.object({ constructor: z.string().optional(), toString: z.unknown() })
    for (const input of [{}, { constructor: 'c' }, { toString: 1 }]) agree(schema, input)
  })

  it('puts the output keys in the order of the schema, not of the input', () => {
    const schema = z.object({ b: z.number(), a: z.number() })
    agree(schema, { a: 1, b: 2 })
    expect(Object.keys(compileFastPath(schema)({ a: 1, b: 2 }) as object)).toEqual(['b', 'a'])
  })

  it('answers a union with its first option that accepts', () => {
    const schema = z.union([
      z.object({ a: z.string() }),
      z.object({ a: z.string(), b: z.number() }),
      z.string().max(2),
      z.number().int(),
    ])
    for (const input of [{ a: 'x', b: 1 }, { b: 1 }, 'ab', 'abc', 3, 3.5, null])
      agree(schema, input)
  })

  it('picks the option of a discriminated union by its tag', () => {
    const schema = z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('a'), n: z.number() }),
      z.strictObject({ kind: z.literal(['b', 'c']), s: z.string() }),
    ])
    const inputs = [
      { kind: 'a', n: 1 },
      { kind: 'b', s: 's' },
      { kind: 'c', s: 's' },
      { kind: 'c', n: 1 },
      { kind: 'd' },
      {},
      [],
      'a',
    ]
    for (const input of inputs) agree(schema, input)
  })

  it('holds tuples to their length', () => {
    const schema = z.tuple([z.string(), z.number()])
    for (const input of [['a', 1], ['a'], ['a', 1, 2], [1, 'a'], {}]) agree(schema, input)
  })

  it('runs refinements, custom schemas and zod checks it does not know inline', () => {
    const schema = z
      .object({
        even: z.number().refine((n) => n % 2 === 0),
        custom: z.custom<string>((v) => typeof v === 'string' && v.startsWith('x')),
        positive: z.number().positive().int(),
        email: z.email(),
        guid: z.guid(),
        super: z.string().superRefine((s, ctx) => {
          if (s === 'bad') ctx.addIssue({ code: 'custom', message: 'bad' })
        }),
      })
      .refine((o) => o.even !== 4)
    const good = {
      even: 2,
      custom: 'xy',
      positive: 3,
      email: 'a@example.org',
      guid: '00000000-0000-0000-0000-000000000000',
      super: 'ok',
    }
    const inputs = [
      good,
      { ...good, even: 3 },
      { ...good, even: 4 },
      { ...good, custom: 'y' },
      { ...good, positive: -1 },
      { ...good, positive: 1.5 },
      { ...good, positive: 2 ** 53 },
      { ...good, email: 'no' },
      { ...good, guid: 'no' },
      { ...good, super: 'bad' },
      { ...good, even: Number.NaN },
      { ...good, positive: Number.POSITIVE_INFINITY },
    ]
    for (const input of inputs) agree(schema, input)
  })

  it('leaves to zod what it does not compile: records, pipes, catchalls, exactOptional, prefault', () => {
    const schema = z.object({
      record: z.record(z.string().regex(/^[a-z]+$/), z.number()).optional(),
      piped: z.preprocess((v) => (typeof v === 'string' ? v.trim() : v), z.string().min(1)),
      loose: z.object({ a: z.string() }).catchall(z.number()).optional(),
      exact: z.string().exactOptional(),
      prefaulted: z.string().min(2).prefault('xy'),
      defaultedOptional: z.string().default('d').optional(),
    })
    const inputs = [
      { piped: ' a ' },
      { piped: '  ' },
      { piped: 'a', record: { ab: 1 } },
      { piped: 'a', record: { Ab: 1 } },
      { piped: 'a', loose: { a: 'x', n: 1 } },
      { piped: 'a', loose: { a: 'x', n: 'no' } },
      { piped: 'a', exact: undefined },
      { piped: 'a', exact: 'e' },
      { piped: 'a', prefaulted: 'x' },
      { piped: 'a', defaultedOptional: undefined },
      {},
    ]
    for (const input of inputs) agree(schema, input)
    // A field whose absence is allowed in but not promised out (a pipe from an optional): left
    // out when absent, kept when present, even as undefined.
    const partly = z.object({
      transformed: z
        .string()
        .optional()
        .transform((v) => v),
      plain: z.string(),
    })
    for (const input of [
      { plain: 'p' },
      { plain: 'p', transformed: undefined },
      { plain: 'p', transformed: 't' },
    ])
      agree(partly, input)
  })

  it('carries a value rewritten by a check (trim, case, overwrite, URL) into later checks', () => {
    const cases: [z.ZodType, unknown[]][] = [
      [z.object({ name: z.string().trim().min(1) }), [{ name: '   ' }, { name: ' x ' }]],
      [
        z
          .string()
          .toLowerCase()
          .regex(/^[a-z]+$/),
        ['ABC', 'abc', 'A1'],
      ],
      [z.string().toUpperCase().max(2), ['ab', 'abc']],
      [z.url().min(20), [`https://a.co${' '.repeat(20)}`, 'https://example.com/long/path']],
      [z.url({ normalize: true }), ['HTTPS://A.com', 'https://exa\tmple.com', 'no']],
      [z.string().overwrite((v) => `${v}!`), ['hi']],
      [z.union([z.string().trim().min(1), z.number()]), ['   ', ' a ', 1]],
      [
        z
          .string()
          .overwrite((v) => (v === 'n' ? (null as unknown as string) : v))
          .max(3),
        ['n', 'abcd', 'ab'],
      ],
    ]
    for (const [schema, inputs] of cases) for (const input of inputs) agree(schema, input)
  })

  it('refuses an array past its max before parsing its elements, as zod does', () => {
    const schema = z.array(z.string().refine(() => Promise.resolve(true))).max(1)
    agree(schema, ['a', 'b']) // zod refuses without running the asynchronous refinement
    expect(() => compileFastPath(schema)(['a'])).toThrow()
    expect(() => schema.safeParse(['a'])).toThrow()
  })

  it('parses a recursive schema', () => {
    interface Tree {
      name: string
      children?: Tree[]
    }
    const Tree: z.ZodType<Tree> = z.object({
      name: z.string().max(4),
      get children() {
        return z.array(Tree).max(3).optional()
      },
    })
    let deep: Tree = { name: 'leaf' }
    for (let i = 0; i < 30; i++) deep = { name: 'node', children: [deep, { name: 'x' }] }
    agree(Tree, deep)
    agree(Tree, { name: 'a', children: [{ name: 'b', children: [{ name: 'too long' }] }] })
  })

  it('throws on an asynchronous refinement, as zod does', () => {
    const schema = z.object({ a: z.string().refine(() => Promise.resolve(true)) })
    expect(() => schema.safeParse({ a: 'x' })).toThrow()
    expect(() => compileFastPath(schema)({ a: 'x' })).toThrow()
  })
})

describe('fast path: where code generation is switched off', () => {
  it('parses with zod, with the same answers', async () => {
    const script = `
      import { readFileSync } from 'node:fs'
      const { fastParser } = await import('./src/fast-parse.ts')
      const { TokenIssuanceStartEventSchema: schema } = await import('./src/events/token-issuance-start/schema.ts')
      const event = JSON.parse(readFileSync('test/fixtures/events/token-issuance-start.json', 'utf8'))
      const parse = fastParser(schema)
      let blocked = false
      try { new Function('return 1') } catch { blocked = true }
      process.stdout.write(JSON.stringify({
        blocked,
        ok: parse(event).success,
        same: JSON.stringify(parse(event).data) === JSON.stringify(schema.parse(event)),
        refused: parse({ ...event, data: {} }).error?.issues,
        zodRefused: schema.safeParse({ ...event, data: {} }).error?.issues,
      }))
    `
    const child = spawn(
      process.execPath,
      [
        '--disallow-code-generation-from-strings',
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        script,
      ],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    const [code] = (await once(child, 'close')) as [number]
    expect(code).toBe(0)
    const answer = JSON.parse(out) as Record<string, unknown>
    expect(answer).toMatchObject({ blocked: true, ok: true, same: true })
    expect(answer.refused).toEqual(answer.zodRefused)
    expect(answer.refused).not.toEqual([])
  })
})
