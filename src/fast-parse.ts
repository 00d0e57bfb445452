// A compiled fast path for the zod schemas that run on every request (the four events' requests and
// answers). zod stays the definition and the judge: a compiled parser either returns exactly what
// zod's parse would (same values, same keys in the same order) or gives up, and then zod runs and
// decides, with its own error. It never accepts what zod would refuse.
//
// Why: zod's generic machinery (a payload object and an issues array per field, a closure per
// check) cost about 5 µs of the 21 µs a token-issuance request spends in the pipeline (profiled
// with --cpu-prof, bench/). The compiled parser walks the input once and allocates only the output.
//
// What is compiled: object (stripping or strict), string, number, boolean, literal, optional,
// nullable, default, tuple, array, union, discriminated union and custom, with any of zod's checks
// (each run through zod's own check function, so `max(n)` counts code points exactly as zod does).
// Anything else (a preprocess pipe, a record, a lazy schema, a coercing string) is handed to zod's
// own safeParse for that part of the input: exact by construction, just not faster.
//
// Reads zod's internal `_zod` definitions (the surface zod documents for libraries built on
// zod/v4/core). test/fast-parse.test.ts compares both parsers on fixtures, mutations and random
// values, so an upgrade of zod that changes a meaning shows up there.
import type * as z from 'zod'

/** The compiled answer for input zod would refuse (or that the compiled parser cannot judge). */
const FAIL: unique symbol = Symbol('fast-parse: ask zod')
type Compiled = (input: unknown) => unknown

export type SafeParse<T> = (input: unknown) => z.ZodSafeParseResult<T>

/** `schema.safeParse`, with the compiled path first. Compile once per schema (at start-up). */
export function fastParser<S extends z.ZodType>(schema: S): SafeParse<z.output<S>> {
  const compiled = compileFastPath(schema)
  return (input) => {
    const out = compiled(input)
    return out === FAIL
      ? schema.safeParse(input)
      : { success: true, data: out as z.output<S>, error: undefined }
  }
}

/**
 * The compiled path alone: zod's output, or FAST_PATH_DECLINED exactly when zod refuses the input.
 * Exported for the tests that hold it to zod's answers.
 */
export function compileFastPath(schema: z.ZodType): (input: unknown) => unknown {
  return compile(schema, new Map())
}
export const FAST_PATH_DECLINED: symbol = FAIL

// ---- zod's internals, as far as they are read here ------------------------------------------------

interface Payload {
  value: unknown
  issues: unknown[]
}

interface CheckInternals {
  readonly def: { readonly check?: string; readonly when?: (payload: Payload) => boolean }
  readonly check: (payload: Payload) => unknown
}

interface Internals {
  readonly def: Readonly<Record<string, unknown>> & { readonly type: string }
  readonly traits: ReadonlySet<string>
  readonly optin?: 'optional' | 'defaulted'
  readonly optout?: 'optional'
}

const internals = (schema: unknown): Internals => (schema as { _zod: Internals })._zod
const schemaOf = (value: unknown): z.ZodType => value as z.ZodType

// ---- the compiler -----------------------------------------------------------------------------------

function compile(schema: z.ZodType, seen: Map<z.ZodType, Compiled>): Compiled {
  const known = seen.get(schema)
  if (known !== undefined) return known
  // A placeholder first, so that a schema reachable from itself (through a getter in a shape)
  // cannot recurse forever: the inner use calls the finished parser through it.
  const cell: { parse?: Compiled } = {}
  seen.set(schema, (input) => (cell.parse as Compiled)(input))
  const built = generate(schema, seen) ?? withChecks(schema, combinator(schema, seen))
  cell.parse = built
  seen.set(schema, built)
  return built
}

/** zod's own parse of this part of the input, for what is not compiled. */
function delegate(schema: z.ZodType): Compiled {
  return (input) => {
    const result = schema.safeParse(input)
    return result.success ? result.data : FAIL
  }
}

/**
 * The generated parser of one schema: straight-line JavaScript, one statement list per field,
 * built from the schema's own keys and limits (never from input), so that each call site sees one
 * shape and V8 can inline it. What cannot be written out inline is called as a compiled function.
 */
class Program {
  private readonly deps: unknown[] = []
  private names = 0
  readonly seen: Map<z.ZodType, Compiled>
  constructor(seen: Map<z.ZodType, Compiled>) {
    this.seen = seen
  }

  /** A value the generated code uses (a parser, a Set, a RegExp), by the name it has there. */
  dep(value: unknown): string {
    this.deps.push(value)
    return `d${this.deps.length - 1}`
  }

  name(prefix: string): string {
    return `${prefix}${this.names++}`
  }

  /** The parser, or undefined where code generation is switched off
   * (`--disallow-code-generation-from-strings`): then zod parses, as without this module. */
  build(body: string): Compiled | undefined {
    const names = this.deps.map((_, i) => `d${i}`)
    let factory: (...deps: unknown[]) => Compiled
    try {
      // The source holds only identifiers made here, JSON-quoted schema keys and checked integers.
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      factory = new Function(
        'FAIL',
        ...names,
        `"use strict"; return function fastParse(input) { let out; ${body} return out; };`,
      ) as (...deps: unknown[]) => Compiled
    } catch (err) {
      if (err instanceof EvalError) return undefined
      throw err
    }
    return factory(FAIL, ...this.deps)
  }
}

/** Nesting written out inline before a level becomes a call (bounds code size, ends recursion). */
const MAX_INLINE_DEPTH = 8

function generate(schema: z.ZodType, seen: Map<z.ZodType, Compiled>): Compiled | undefined {
  const program = new Program(seen)
  const code = emit(schema, 'input', 'out', program, 0)
  return code === undefined ? undefined : program.build(code)
}

/** Statements that set `out` to the output for the value in `input`, or return FAIL. */
function emitOrCall(
  schema: z.ZodType,
  input: string,
  out: string,
  p: Program,
  depth: number,
): string {
  const inline = emit(schema, input, out, p, depth)
  if (inline !== undefined) return inline
  const parse = p.dep(compile(schema, p.seen))
  return `${out} = ${parse}(${input}); if (${out} === FAIL) return FAIL;`
}

/** Like emitOrCall, or undefined when this schema is not written out inline. */
function emit(
  schema: z.ZodType,
  input: string,
  out: string,
  p: Program,
  depth: number,
): string | undefined {
  if (depth > MAX_INLINE_DEPTH) return undefined
  const zod = internals(schema)
  const def = zod.def
  const is = (trait: string) => zod.traits.has(trait)
  if (def.coerce === true) return undefined
  let code: string | undefined
  let lengthy = false // the output is a string or an array: length checks can be decided inline
  switch (def.type) {
    case 'string':
      // A string format (z.guid(), z.email()) is a string plus itself as a check: emitted too.
      if (!is('$ZodString')) return undefined
      code = `if (typeof ${input} !== 'string') return FAIL; ${out} = ${input};`
      lengthy = true
      break
    case 'number':
      if (!is('$ZodNumber')) return undefined
      code = `if (typeof ${input} !== 'number' || !Number.isFinite(${input})) return FAIL; ${out} = ${input};`
      break
    case 'boolean':
      if (!is('$ZodBoolean')) return undefined
      code = `if (typeof ${input} !== 'boolean') return FAIL; ${out} = ${input};`
      break
    case 'literal':
      code = `if (!${p.dep(new Set(def.values as unknown[]))}.has(${input})) return FAIL; ${out} = ${input};`
      break
    case 'custom':
      // The test is the check itself (a custom schema is its own check, emitted below).
      if (!is('$ZodCustom')) return undefined
      code = `${out} = ${input};`
      break
    case 'optional': {
      const inner = schemaOf(def.innerType)
      // An optional default substitutes for absence, and exactOptional refuses undefined: zod's.
      if (is('$ZodExactOptional') || internals(inner).optin === 'defaulted') return undefined
      code = `if (${input} === undefined) ${out} = undefined; else { ${emitOrCall(inner, input, out, p, depth + 1)} }`
      break
    }
    case 'nullable':
      code = `if (${input} === null) ${out} = null; else { ${emitOrCall(schemaOf(def.innerType), input, out, p, depth + 1)} }`
      break
    case 'default': {
      if (!is('$ZodDefault')) return undefined // prefault parses its default: left to zod
      // zod reads the default on each use (a fresh shallow copy of an object default) and does not
      // parse it; so here.
      const fallback = `${p.dep(def)}.defaultValue`
      const inner = emitOrCall(schemaOf(def.innerType), input, out, p, depth + 1)
      code = `if (${input} === undefined) ${out} = ${fallback}; else { ${inner} if (${out} === undefined) ${out} = ${fallback}; }`
      break
    }
    case 'object':
      code = emitObject(schema, input, out, p, depth)
      break
    case 'array': {
      const [n, i, o] = [p.name('n'), p.name('i'), p.name('o')]
      const element = emitOrCall(schemaOf(def.element), i, o, p, depth + 1)
      code =
        `if (!Array.isArray(${input})) return FAIL;${emitSizeCap(schema, input, p)} ${out} = new Array(${input}.length);` +
        ` for (let ${n} = 0; ${n} < ${input}.length; ${n}++) { const ${i} = ${input}[${n}]; let ${o}; ${element} ${out}[${n}] = ${o}; }`
      lengthy = true
      break
    }
    case 'tuple': {
      const items = def.items as z.ZodType[]
      // Rest elements and optional items have length rules of their own: left to zod.
      if (def.rest !== null) return undefined
      if (items.some((item) => internals(item).optin ?? internals(item).optout)) return undefined
      const outs = items.map(() => p.name('t'))
      code =
        `if (!Array.isArray(${input}) || ${input}.length !== ${items.length}) return FAIL;` +
        (outs.length > 0 ? ` let ${outs.join(', ')};` : '') +
        items
          .map((item, j) => {
            const i = p.name('i')
            return ` { const ${i} = ${input}[${j}]; ${emitOrCall(item, i, outs[j] as string, p, depth + 1)} }`
          })
          .join('') +
        ` ${out} = [${outs.join(', ')}];`
      lengthy = true
      break
    }
    default:
      return undefined
  }
  return code === undefined ? undefined : code + emitChecks(schema, out, lengthy, p)
}

/**
 * zod refuses an array longer than its max before parsing a single element (capSize, zod 4.6: the
 * leading length checks); so here, which also spares the work on an oversized hostile array.
 */
function emitSizeCap(schema: z.ZodType, input: string, p: Program): string {
  const caps: { readonly max: number; readonly check: CheckInternals }[] = []
  for (const check of checksOf(schema)) {
    const def = check.def as CheckInternals['def'] & {
      readonly maximum?: unknown
      readonly length?: unknown
      readonly size?: unknown
    }
    if (def.check === undefined || !/_(length|size)$|_equals$/.test(def.check)) break
    const max = def.maximum ?? def.length ?? def.size
    if (typeof max === 'number' && max >= 0) caps.push({ max, check })
  }
  const cap = Math.min(...caps.map(({ max }) => max))
  if (caps.length === 0 || !isCount(cap)) return ''
  const refuses = p.dep((value: unknown[]) =>
    caps.some(
      ({ max, check }) => value.length > max && check.def.when?.({ value, issues: [] }) === true,
    ),
  )
  return ` if (${input}.length > ${cap} && ${refuses}(${input})) return FAIL;`
}

/**
 * zod's object rules (the JIT path of $ZodObjectJIT, zod 4.6): each declared key in declaration
 * order, `key in input` for presence, absent optional keys left out, defaults filled in, unknown
 * keys dropped (z.object) or refused (z.strictObject). `__proto__` is never written.
 */
function emitObject(
  schema: z.ZodType,
  input: string,
  out: string,
  p: Program,
  depth: number,
): string | undefined {
  const def = internals(schema).def
  const catchall = def.catchall as z.ZodType | undefined
  const strict = catchall !== undefined && internals(catchall).def.type === 'never'
  if (catchall !== undefined && !strict) return undefined
  const shape = def.shape as Record<string, z.ZodType>
  if (Object.getOwnPropertySymbols(shape).length > 0) return undefined
  const keys = Object.keys(shape)
  let code = `if (typeof ${input} !== 'object' || ${input} === null || Array.isArray(${input})) return FAIL; ${out} = {};`
  for (const key of keys) {
    if (key === '__proto__') continue
    const field = shape[key] as z.ZodType
    const { optin, optout } = internals(field)
    const k = JSON.stringify(key)
    const [i, o] = [p.name('i'), p.name('o')]
    const parse = `const ${i} = ${input}[${k}]; let ${o}; ${emitOrCall(field, i, o, p, depth + 1)}`
    if (optin !== undefined && optout === 'optional') {
      // An absent key is left out whatever the schema makes of undefined.
      if (optin !== 'optional') return undefined // a defaulted optional: left to zod
      code += ` if (${k} in ${input}) { ${parse} ${out}[${k}] = ${o}; }`
    } else if (optin === undefined) {
      code += ` if (!(${k} in ${input})) return FAIL; { ${parse} ${out}[${k}] = ${o}; }`
    } else if (optin === 'defaulted') {
      code += ` { ${parse} ${out}[${k}] = ${o}; }`
    } else {
      code += ` { ${parse} if (${o} !== undefined || ${k} in ${input}) ${out}[${k}] = ${o}; }`
    }
  }
  if (strict) {
    const declared = p.dep(new Set(keys))
    code += ` for (const key in ${input}) if (!${declared}.has(key)) return FAIL;`
  }
  return code
}

/** The schemas zod runs as a whole (unions), their options compiled. */
function combinator(schema: z.ZodType, seen: Map<z.ZodType, Compiled>): Compiled | undefined {
  const def = internals(schema).def
  if (def.type !== 'union') return undefined
  return def.discriminator === undefined
    ? compileUnion(schema, seen)
    : compileDiscriminatedUnion(schema, seen)
}

/**
 * A union answers with its first option that accepts the input. Compiled options are exact (they
 * fail exactly when zod fails: an uncompiled part is zod itself), so trying them in order is
 * zod's own rule. One difference is left: after a failed check zod still runs the later ones, so a
 * later refinement that throws makes zod's whole parse throw, where here the option just fails and
 * the next is tried. No schema of ours has a refinement that throws.
 */
function compileUnion(schema: z.ZodType, seen: Map<z.ZodType, Compiled>): Compiled | undefined {
  const zod = internals(schema)
  if (!zod.traits.has('$ZodUnion') || zod.traits.has('$ZodXor')) return undefined
  const options = (zod.def.options as z.ZodType[]).map((option) => compile(option, seen))
  return (input) => {
    for (const option of options) {
      const out = option(input)
      if (out !== FAIL) return out
    }
    return FAIL
  }
}

/** zod picks the one option whose discriminator literal is the input's value, and runs only it. */
function compileDiscriminatedUnion(
  schema: z.ZodType,
  seen: Map<z.ZodType, Compiled>,
): Compiled | undefined {
  const zod = internals(schema)
  if (!zod.traits.has('$ZodDiscriminatedUnion') || zod.def.unionFallback === true) return undefined
  const key = zod.def.discriminator as string
  const byValue = new Map<unknown, Compiled>()
  for (const option of zod.def.options as z.ZodType[]) {
    const shape = internals(option).def.shape as Record<string, z.ZodType> | undefined
    const tag = shape?.[key]
    // Only a plain literal tag maps values to options as plainly as this.
    if (internals(option).def.type !== 'object' || tag === undefined) return undefined
    const tagDef = internals(tag).def
    if (tagDef.type !== 'literal') return undefined
    for (const value of tagDef.values as unknown[]) {
      if (value === undefined || byValue.has(value)) return undefined
      byValue.set(value, compile(option, seen))
    }
  }
  return (input) => {
    if (!isObject(input)) return FAIL
    const option = byValue.get((input as Record<string, unknown>)[key])
    return option === undefined ? FAIL : option(input)
  }
}

const isObject = (value: unknown) =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

// ---- checks -----------------------------------------------------------------------------------------

/** The schema's checks, in zod's order: the schema itself first when it is one (z.custom, z.guid). */
function checksOf(schema: z.ZodType): CheckInternals[] {
  const zod = internals(schema)
  const own = (zod.def.checks as unknown[] | undefined) ?? []
  return [...(zod.traits.has('$ZodCheck') ? [schema] : []), ...own].map(
    (check) => (check as { _zod: CheckInternals })._zod,
  )
}

/** A combinator's parse followed by its checks; zod's own parse when there is no combinator. */
function withChecks(schema: z.ZodType, parse: Compiled | undefined): Compiled {
  if (parse === undefined) return delegate(schema)
  const checks = checksOf(schema)
  if (checks.length === 0) return parse
  return (input) => {
    let out = parse(input)
    for (const check of checks) {
      if (out === FAIL) return FAIL
      out = runZodCheck(check, out)
    }
    return out
  }
}

/**
 * The checks, as statements, in order, each on the value the previous one left: a zod check may
 * rewrite it (.trim(), .toLowerCase(), .overwrite(), z.url()), and the output is what the last
 * one left. Where the outcome is plain without zod it is decided inline: a string no longer in
 * UTF-16 units than zod's maximum in code points fits it, an array's length is its length, a regex
 * is a regex; but only before any check that could have rewritten the value. Every other case (and
 * every doubtful one) calls zod's own check.
 */
function emitChecks(schema: z.ZodType, out: string, lengthy: boolean, p: Program): string {
  let code = ''
  let plain = lengthy // the value is still the parsed string or array: inline shortcuts hold
  for (const check of checksOf(schema)) {
    const def = check.def as CheckInternals['def'] & {
      readonly maximum?: unknown
      readonly minimum?: unknown
      readonly format?: unknown
      readonly pattern?: unknown
    }
    const run = `${out} = ${p.dep((value: unknown) => runZodCheck(check, value))}(${out}); if (${out} === FAIL) return FAIL;`
    const { maximum, minimum, pattern } = def
    if (plain && def.check === 'max_length' && isCount(maximum)) {
      code += ` if (${out}.length > ${maximum}) { ${run} }`
    } else if (plain && def.check === 'min_length' && isCount(minimum)) {
      // A code point is one or two units: twice the minimum in units is enough code points.
      code += ` if (${out}.length < ${2 * minimum}) { ${run} }`
    } else if (
      plain &&
      def.check === 'string_format' &&
      def.format === 'regex' &&
      def.when === undefined &&
      pattern instanceof RegExp &&
      internals(schema).def.type === 'string'
    ) {
      const regex = p.dep(pattern)
      code += ` ${regex}.lastIndex = 0; if (!${regex}.test(${out})) return FAIL;`
    } else {
      code += ` ${run}`
      // Only zod's length and number checks are known to leave the value as it is.
      plain &&= def.check !== undefined && KEEPS_VALUE.has(def.check)
    }
  }
  return code
}

/** zod checks that only judge the value (every other kind may replace it, as overwrite does). */
const KEEPS_VALUE = new Set(['max_length', 'min_length', 'length_equals', 'number_format'])

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0

/**
 * zod's own check on one value: the value it leaves (rewritten or not), or FAIL when it refuses.
 * As in zod's runChecks, a check with a condition runs only when the condition holds.
 */
function runZodCheck(check: CheckInternals, value: unknown): unknown {
  const payload: Payload = { value, issues: [] }
  if (check.def.when !== undefined && !check.def.when(payload)) return value
  const result = check.check(payload)
  // zod's safeParse throws on an asynchronous check; so here, rather than trying another option.
  if (result instanceof Promise)
    throw new Error('fast-parse: asynchronous checks are not supported')
  return payload.issues.length === 0 ? payload.value : FAIL
}
