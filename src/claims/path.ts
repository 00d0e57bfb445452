// The path syntax claims use to reach into a source's answer: keys separated by dots, "[]" to
// take every element of an array, "[n]" for one element (negative counts from the end).
//   "department"                    the user's department
//   "value[].displayName"           every group's name
//   "employee.emails[0]"            the first of an array
//   "[].role"                       every element of an answer that is itself an array
// Compiled once at start-up; evaluation never throws and never reaches the prototype chain.

type Step = { readonly key: string } | { readonly each: true } | { readonly index: number }

export interface CompiledPath {
  readonly text: string
  /** The value at the path; with "[]" steps, an array of every value found (missing ones skipped). */
  read(root: unknown): unknown
}

const SEGMENT = /^([A-Za-z0-9_$@-]*)((?:\[-?\d{0,4}\])*)$/

/** Why a path is invalid, or undefined. */
export function pathProblem(text: string): string | undefined {
  if (text.length > 256) return 'is longer than 256 characters'
  if (text === '') return undefined
  for (const segment of text.split('.')) {
    const match = SEGMENT.exec(segment)
    if (match === null || (match[1] === '' && match[2] === ''))
      return `"${segment}" is not a key, key[] or key[n]`
  }
  return undefined
}

export function compilePath(text: string): CompiledPath {
  const steps: Step[] = []
  if (text !== '') {
    for (const segment of text.split('.')) {
      const match = SEGMENT.exec(segment)
      if (match === null) throw new Error(`invalid path: ${text}`) // the schema checked it
      if (match[1] !== '' && match[1] !== undefined) steps.push({ key: match[1] })
      for (const [, inner] of (match[2] ?? '').matchAll(/\[(-?\d*)\]/g))
        steps.push(inner === '' || inner === undefined ? { each: true } : { index: Number(inner) })
    }
  }
  const fansOut = steps.some((step) => 'each' in step)
  if (!fansOut) {
    // One value at each step: walk it without the arrays the general case needs.
    return {
      text,
      read(root) {
        let value: unknown = root
        for (const step of steps) {
          if ('key' in step) {
            if (typeof value !== 'object' || value === null || Array.isArray(value))
              return undefined
            if (!Object.hasOwn(value, step.key)) return undefined
            value = (value as Record<string, unknown>)[step.key]
          } else {
            if (!Array.isArray(value) || !('index' in step)) return undefined
            value = (value as unknown[]).at(step.index)
          }
        }
        return value
      },
    }
  }
  return {
    text,
    read(root) {
      let current: unknown[] = [root]
      for (const step of steps) {
        const next: unknown[] = []
        for (const value of current) {
          if ('key' in step) {
            if (
              typeof value === 'object' &&
              value !== null &&
              !Array.isArray(value) &&
              Object.hasOwn(value, step.key)
            )
              next.push((value as Record<string, unknown>)[step.key])
          } else if (Array.isArray(value)) {
            if ('each' in step) next.push(...(value as unknown[]))
            else {
              const at = step.index < 0 ? value.length + step.index : step.index
              if (at >= 0 && at < value.length) next.push(value[at])
            }
          }
        }
        current = next
      }
      return fansOut ? current.filter((value) => value !== undefined && value !== null) : current[0]
    },
  }
}
