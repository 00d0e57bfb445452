// Where a claim's value is in a source's answer: a JMESPath expression (jmespath.org, the query
// language of `az … --query`), evaluated by @jmespath-community/jmespath.
//   "department"                    the user's department
//   "value[].displayName"           every group's name
//   "employee.emails[0]"            the first of an array
//   "[].role"                       every element of an answer that is itself an array
//   "value[?securityEnabled].id"    the IDs of the security groups only
// Parsed when the configuration loads (a bad expression is a config error on its "path"), never
// per request. Evaluation never throws and never reaches what JavaScript objects inherit.
import { compile, TreeInterpreter, type JSONValue } from '@jmespath-community/jmespath'

type Expression = ReturnType<typeof compile>

export const MAX_PATH_LENGTH = 256

export interface CompiledPath {
  readonly text: string
  /** The value at the path, or undefined where the answer has none (JMESPath's null). */
  read(root: unknown): unknown
}

/** Why a path is invalid, or undefined. */
export function pathProblem(text: string): string | undefined {
  if (text.length > MAX_PATH_LENGTH) return `is longer than ${MAX_PATH_LENGTH} characters`
  if (text === '') return undefined
  let tree: Expression
  try {
    tree = compile(text)
  } catch (err) {
    const reason = err instanceof Error ? err.message : 'cannot be parsed'
    return `is not a JMESPath expression: ${reason}`
  }
  const inherited = inheritedField(tree)
  return inherited === undefined
    ? undefined
    : `reads "${inherited}", a name every JavaScript object inherits, which a path cannot read`
}

/** Compiles a path that pathProblem accepted (the config schema checks first); "" is the answer. */
export function compilePath(text: string): CompiledPath {
  if (text === '') return { text, read: (root) => root }
  const tree = compile(text)
  return {
    text,
    read(root) {
      let found: JSONValue
      try {
        found = TreeInterpreter.search(tree, root as JSONValue)
      } catch {
        // A function given a type it does not take (length() of a number): this answer has no
        // value at the path, as when a key is missing.
        return undefined
      }
      return found === null ? undefined : found
    },
  }
}

/**
 * The library reads a field as `value[name]`, so "constructor" or "__proto__" would reach the
 * prototype chain: such names are refused when the configuration loads.
 */
function inheritedField(node: unknown): string | undefined {
  if (typeof node !== 'object' || node === null) return undefined
  const { type, name } = node as { type?: unknown; name?: unknown }
  if (type === 'Field' && typeof name === 'string' && name in Object.prototype) return name
  for (const child of Object.values(node)) {
    const found = inheritedField(child)
    if (found !== undefined) return found
  }
  return undefined
}
