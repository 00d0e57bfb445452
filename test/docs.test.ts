// Documentation that cannot drift: the configuration table lists exactly the variables the code
// reads, the registration page every option and finding, every configuration example is valid,
// every link between the pages resolves, and the generated files are current.
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { EnvSchema } from '../src/config.js'
import {
  CONFIG_SCHEMA_FILE,
  extensionConfigJsonSchema,
} from '../src/extension-config/json-schema.js'
import { ExtensionConfigSchema } from '../src/extension-config/schema.js'
import { INFRA_EVENTS_FILE, infraEventsJson } from '../src/events/infra-events.js'
import { EVENT_ROUTE_NAMES } from '../src/events/routes.js'
import { LocalEnvSchema } from '../src/http/local-server.js'
import { GENERATED_DOCS } from '../tools/docs/reference-tables.js'
import { FINDING_CODES } from '../tools/registration/findings.js'

const root = new URL('../', import.meta.url)
const readme = readFileSync(new URL('README.md', root), 'utf8')
const doc = (name: string) => readFileSync(new URL(`docs/${name}.md`, root), 'utf8')
const docNames = readdirSync(new URL('docs/', root))
  .filter((file) => file.endsWith('.md'))
  .map((file) => file.slice(0, -'.md'.length))
const allDocs = [readme, ...docNames.map(doc)].join('\n')

describe('docs', () => {
  it('docs/configuration.md lists exactly the variables the code reads', () => {
    const section = doc('configuration').split('## Configuration')[1]?.split('\n## ')[0] ?? ''
    const documented = [...section.matchAll(/^\| `([A-Z][A-Z0-9_]+)` +\|/gm)].map((m) => m[1])
    const read = [...Object.keys(EnvSchema.shape), ...Object.keys(LocalEnvSchema.shape)]
    expect(documented.sort()).toEqual(read.sort())
  })

  it('docs/registration.md documents every option of register, and every finding of doctor', () => {
    const source = readFileSync(new URL('tools/cli/register.ts', root), 'utf8')
    const options = [...source.matchAll(/^ {6}'?([a-z][a-z-]+)'?: \{ type:/gm)].map((m) => m[1])
    expect(options.length).toBeGreaterThan(8)
    const section = doc('registration').split('## `npm run register`')[1]?.split('\n## ')[0] ?? ''
    for (const option of options.filter((o) => o !== 'help'))
      expect(section).toContain(`\`--${option}`)

    // The findings' table is generated from FINDINGS (npm run docs): every code has its row.
    const table = doc('registration').split('## `npm run doctor`')[1]?.split('\n## ')[0] ?? ''
    expect(FINDING_CODES.length).toBeGreaterThan(20)
    for (const code of FINDING_CODES)
      expect(table, code).toMatch(new RegExp(`\\| \`${code}\` +\\|`))
  })

  it('README first screen shows the two commands and the replay line', () => {
    const firstScreen = readme.split('---')[0] ?? ''
    expect(firstScreen).toContain('npm ci && npm start')
    expect(firstScreen).toContain('npm test')
    expect(firstScreen).toContain(
      'npm run replay -- test/fixtures/events/token-issuance-start.json',
    )
  })

  it.each(GENERATED_DOCS.map((d) => d.file))(
    '%s holds the reference tables as npm run docs generates them',
    async (file) => {
      const current = readFileSync(new URL(file, root), 'utf8')
      const generated = GENERATED_DOCS.find((d) => d.file === file)
      expect(await generated?.generate(current)).toBe(current)
    },
  )

  it(`${INFRA_EVENTS_FILE} is generated from the event descriptors (run npm run schema)`, () => {
    expect(readFileSync(new URL(INFRA_EVENTS_FILE, root), 'utf8')).toBe(infraEventsJson())
    expect(JSON.parse(infraEventsJson())).toEqual({ routes: [...EVENT_ROUTE_NAMES] })
  })

  it(`${CONFIG_SCHEMA_FILE} is generated from the zod schema (run npm run schema)`, () => {
    expect(readFileSync(new URL(CONFIG_SCHEMA_FILE, root), 'utf8')).toBe(
      extensionConfigJsonSchema(),
    )
  })

  it('README stays one short page that maps docs/', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(150)
    for (const name of docNames) expect(readme, name).toContain(`(docs/${name}.md)`)
  })

  it('every relative link of README and docs/ names a file that exists, and an anchor it has', () => {
    const broken: string[] = []
    const pages = [['README.md', readme], ...docNames.map((n) => [`docs/${n}.md`, doc(n)])]
    for (const [page, text] of pages as [string, string][]) {
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (target === undefined || /^(https?:|mailto:)/.test(target)) continue
        const [file, anchor] = target.split('#')
        const path = file === '' ? page : new URL(file ?? '', new URL(page, root)).pathname
        const url = new URL(path, root)
        let text2: string
        try {
          text2 = file === '' ? text : readFileSync(url, 'utf8')
        } catch {
          broken.push(`${page}: ${target} (no such file)`)
          continue
        }
        if (anchor === undefined || !path.endsWith('.md')) continue
        const slugs = [...text2.matchAll(/^#{1,6} (.*)$/gm)].map((m) =>
          (m[1] ?? '')
            .toLowerCase()
            .replace(/[^\w\- ]/g, '')
            .replaceAll(' ', '-'),
        )
        if (!slugs.includes(anchor)) broken.push(`${page}: ${target} (no such heading)`)
      }
    }
    expect(broken).toEqual([])
  })

  it('every configuration example in README and docs/ is valid', () => {
    const blocks = [...allDocs.matchAll(/```json\n([\s\S]*?)```/g)]
      .map((m) => m[1] ?? '')
      .filter((block) => /"(tokenIssuanceStart|attributeCollectionS\w+|otpSend)":/.test(block))
    expect(blocks.length).toBeGreaterThanOrEqual(5)
    for (const block of blocks) {
      const parsed = ExtensionConfigSchema.safeParse(JSON.parse(block))
      expect(parsed.error?.issues ?? [], block).toEqual([])
    }
  })

  it('docs/claims.md shows each configuration of config/examples as it is', () => {
    const folder = new URL('config/examples/', root)
    const files = readdirSync(folder).filter((name) => name.endsWith('.json'))
    expect(files.length).toBeGreaterThanOrEqual(3)
    for (const name of files) {
      const text = readFileSync(new URL(name, folder), 'utf8').trimEnd()
      expect(doc('claims'), name).toContain(text)
      expect(ExtensionConfigSchema.safeParse(JSON.parse(text)).success, name).toBe(true)
    }
  })

  it('the example configuration declares the shipped schema', () => {
    const example = JSON.parse(
      readFileSync(new URL('config/extension-config.example.json', root), 'utf8'),
    ) as { $schema?: string }
    expect(example.$schema).toBe('./extension-config.schema.json')
  })
})
