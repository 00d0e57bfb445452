// Reference tables of docs/ that are generated, not written: `npm run docs` rewrites each between
// its markers, and test/docs.test.ts fails when a committed table differs from the generated one.
// The environment table comes from the `.meta()` of each variable in the environment schemas.
import { readFileSync } from 'node:fs'
import { format, resolveConfig } from 'prettier'
import type * as z from 'zod'
import { EnvSchema } from '../../src/config.js'
import { ERROR_CODES, ERROR_MEANINGS, statusOf } from '../../src/errors.js'
import { LocalEnvSchema } from '../../src/http/local-server.js'
import { FINDING_CODES, FINDINGS } from '../registration/findings.js'
import { extensionConfigReference } from './config-reference.js'

export interface GeneratedDoc {
  readonly file: string
  /** The file with every generated region filled in, formatted as the repo formats Markdown. */
  readonly generate: (current: string) => Promise<string>
}

interface VariableMeta {
  readonly defaultText?: string
  readonly description?: string
}

/** | variable | default | meaning |, one row per variable the endpoint and the local host read. */
export function environmentTable(): string {
  const shapes: Record<string, z.ZodType> = { ...EnvSchema.shape, ...LocalEnvSchema.shape }
  const rows = Object.entries(shapes).map(([name, schema]) => {
    const meta = (schema.meta() ?? {}) as VariableMeta
    if (meta.description === undefined || meta.defaultText === undefined)
      throw new Error(`${name}: the schema has no .meta({ defaultText, description })`)
    return `| \`${name}\` | ${meta.defaultText} | ${meta.description} |`
  })
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n')
}

/** | status | code | meaning |, one row per code of src/errors.ts. */
export function errorCodeTable(): string {
  const rows = ERROR_CODES.map(
    (code) => `| ${statusOf(code)} | \`${code}\` | ${ERROR_MEANINGS[code]} |`,
  )
  return ['| status | code | meaning |', '| --- | --- | --- |', ...rows].join('\n')
}

/** | finding | severity | what is wrong | usual fix |, one row per code of tools/registration/findings.ts. */
export function findingTable(): string {
  const rows = FINDING_CODES.map((code) => {
    const f = FINDINGS[code]
    return `| \`${code}\` | ${f.severities.join(' or ')} | ${f.meaning} | ${f.fix || '-'} |`
  })
  return [
    '| finding | severity | what is wrong | usual fix |',
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n')
}

function replaceRegion(text: string, name: string, content: string): string {
  const start = `<!-- generated: ${name} (npm run docs) -->`
  const end = `<!-- end of generated: ${name} -->`
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  if (from < 0 || to < from) throw new Error(`no region "${name}" (${start} … ${end})`)
  return `${text.slice(0, from + start.length)}\n\n${content}\n\n${text.slice(to)}`
}

async function formatted(file: string, text: string): Promise<string> {
  const options = (await resolveConfig(file)) ?? {}
  return format(text, { ...options, filepath: file })
}

export const GENERATED_DOCS: readonly GeneratedDoc[] = [
  {
    file: 'docs/operations.md',
    generate: (current) =>
      formatted('docs/operations.md', replaceRegion(current, 'error codes', errorCodeTable())),
  },
  {
    file: 'docs/registration.md',
    generate: (current) =>
      formatted('docs/registration.md', replaceRegion(current, 'findings', findingTable())),
  },
  {
    file: 'docs/configuration.md',
    generate: (current) =>
      formatted('docs/configuration.md', replaceRegion(current, 'environment', environmentTable())),
  },
  {
    file: 'docs/extension-config.md',
    generate: (current) =>
      formatted(
        'docs/extension-config.md',
        replaceRegion(current, 'extension config', extensionConfigReference()),
      ),
  },
]

export async function regenerate(root: string): Promise<{ file: string; text: string }[]> {
  return Promise.all(
    GENERATED_DOCS.map(async ({ file, generate }) => ({
      file,
      text: await generate(readFileSync(`${root}/${file}`, 'utf8')),
    })),
  )
}
