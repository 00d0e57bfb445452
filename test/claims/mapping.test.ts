// The paths (JMESPath) and the transforms that turn a source's answer into a claim value.
import { describe, expect, it } from 'vitest'
import { compilePath, pathProblem } from '../../src/claims/path.js'
import {
  compileTransforms,
  MAX_MAP_ENTRIES,
  toClaimValue,
  TransformSchema,
  type Transform,
} from '../../src/claims/transforms.js'

const answer = {
  department: 'Sales',
  employee: { id: 4711, emails: ['a@example.org', 'b@example.org'] },
  value: [
    { displayName: 'app-readers', id: 'g1' },
    { displayName: 'Finance', id: 'g2' },
    { id: 'g3' }, // no name
    null,
  ],
}

describe('paths', () => {
  it.each([
    ['department', 'Sales'],
    ['employee.id', 4711],
    ['employee.emails[0]', 'a@example.org'],
    ['employee.emails[-1]', 'b@example.org'],
    ['employee.emails[5]', undefined],
    ['value[].displayName', ['app-readers', 'Finance']],
    ['value[].id', ['g1', 'g2', 'g3']],
    ['nothing.here', undefined],
    ['department.length', undefined], // no reaching into strings
    ['"@odata.type"', undefined], // a key that is not an identifier is quoted
    ['value[?displayName].id', ['g1', 'g2']],
    ['length(value)', 4],
    ['length(employee.id)', undefined], // a function given the wrong type: no value
  ])('%s reads %j', (path, expected) => {
    expect(compilePath(path).read(answer)).toEqual(expected)
  })

  it('reads an answer that is itself an array, and the whole answer with an empty path', () => {
    expect(compilePath('[].role').read([{ role: 'a' }, { role: 'b' }])).toEqual(['a', 'b'])
    expect(compilePath('').read('whole')).toBe('whole')
  })

  it.each(['a..b', 'a[x]', 'a b', 'a[]]', '.a'])('refuses %s', (path) => {
    expect(pathProblem(path)).toMatch(/^is not a JMESPath expression: /)
  })

  it.each(['constructor', '__proto__', 'employee.toString', 'value[].hasOwnProperty'])(
    'refuses %s, which would reach the prototype chain',
    (path) => {
      expect(pathProblem(path)).toMatch(/a name every JavaScript object inherits/)
    },
  )

  it('refuses a path over 256 characters', () => {
    expect(pathProblem('a'.repeat(257))).toBe('is longer than 256 characters')
  })
})

describe('transforms', () => {
  const apply = (value: unknown, transforms: Transform[]) =>
    toClaimValue(compileTransforms(transforms)(value))

  it.each<[unknown, Transform[], unknown]>([
    [4711, ['toString'], '4711'],
    [true, [], 'true'],
    ['Sales', ['lowercase'], 'sales'],
    [['a', 'b'], ['uppercase'], ['A', 'B']],
    [['a', 'b', 'a'], ['unique'], ['a', 'b']],
    [['a', 'b'], [{ join: ',' }], 'a,b'],
    ['a, b,,c', [{ split: ',' }], ['a', 'b', 'c']],
    ['x', [{ prefix: 'role:' }], 'role:x'],
    [
      ['app-a', 'b', 'app-c'],
      [{ filterPrefix: 'app-' }, { removePrefix: 'app-' }],
      ['a', 'c'],
    ],
    ['other', [{ filterPrefix: 'app-' }], undefined],
    [['a', 'b', 'c'], [{ pick: 1 }], 'b'],
    [['a', 'b', 'c'], ['first'], 'a'],
    [['a', 'b', 'c'], ['last'], 'c'],
    [[], ['first'], undefined],
  ])('%j with %j gives %j', (value, transforms, expected) => {
    expect(apply(value, transforms)).toEqual(expected)
  })

  it('ends with strings or string arrays only: objects, nulls and empty strings are no value', () => {
    expect(apply({ a: 1 }, [])).toBeUndefined()
    expect(apply(null, [])).toBeUndefined()
    expect(apply('', [])).toBeUndefined()
    expect(apply([{ a: 1 }, 'x', 2, ''], [])).toEqual(['x', '2'])
  })
})

describe('the map transform (finding 3: roles from group object IDs, not names)', () => {
  const ADMINS = '4e1b7c2a-5d3f-4a6b-8c9d-0e1f2a3b4c06'
  const READERS = '4e1b7c2a-5d3f-4a6b-8c9d-0e1f2a3b4c01'
  const roles = { map: { [ADMINS]: 'Admin', [READERS]: 'Reader' } }
  const apply = (value: unknown, transforms: Transform[]) =>
    toClaimValue(compileTransforms(transforms)(value))

  it('finding 3: replaces mapped values and drops every other one, in order', () => {
    expect(apply([READERS, 'g-unknown', ADMINS], [roles])).toEqual(['Reader', 'Admin'])
    expect(apply(ADMINS, [roles])).toBe('Admin')
    expect(apply('g-unknown', [roles])).toBeUndefined()
    expect(apply([ADMINS, ADMINS], [roles, 'unique'])).toEqual(['Admin'])
  })

  it('finding 3: matches exactly: a name, another case or a prototype key maps to nothing', () => {
    expect(apply(['app-Admins', 'Admin', ADMINS.toUpperCase()], [roles])).toBeUndefined()
    expect(apply(['constructor', 'toString', '__proto__'], [roles])).toBeUndefined()
    expect(apply([{ id: ADMINS }, null], [roles])).toBeUndefined()
    expect(apply([4711], [{ map: { '4711': 'Legacy' } }])).toEqual(['Legacy'])
  })

  it('finding 3: is bounded and validated in config', () => {
    const many = Object.fromEntries(
      Array.from({ length: MAX_MAP_ENTRIES + 1 }, (_, i) => [`g-${i}`, 'Reader']),
    )
    const problems = (transform: unknown) =>
      TransformSchema.safeParse(transform).error?.issues.map((issue) => issue.message) ?? []
    expect(problems({ map: many })).toContain(`at most ${MAX_MAP_ENTRIES} entries`)
    expect(problems({ map: { [READERS]: '' } })).not.toEqual([])
    expect(problems({ map: { '': 'Reader' } })).not.toEqual([])
    // A "__proto__" key is dropped by zod: it neither pollutes anything nor maps anything.
    const proto = TransformSchema.parse({ map: JSON.parse('{"__proto__": "Admin"}') })
    expect(apply(['__proto__', ADMINS], [proto])).toBeUndefined()
    expect(problems(roles)).toEqual([])
  })
})
