// `npm run docs`: regenerates the reference tables of docs/ between their markers.
import { writeFileSync } from 'node:fs'
import { regenerate } from '../docs/reference-tables.js'

for (const { file, text } of await regenerate(process.cwd())) {
  writeFileSync(file, text)
  process.stdout.write(`wrote ${file}\n`)
}
