// `npm run schema`: regenerates the files derived from the code: config/extension-config.schema.json
// from the zod schema, and infra/events.json (the routes the Bicep deploys) from the descriptors.
import { writeFileSync } from 'node:fs'
import {
  CONFIG_SCHEMA_FILE,
  extensionConfigJsonSchema,
} from '../../src/extension-config/json-schema.js'
import { INFRA_EVENTS_FILE, infraEventsJson } from '../../src/events/infra-events.js'

for (const [file, text] of [
  [CONFIG_SCHEMA_FILE, extensionConfigJsonSchema()],
  [INFRA_EVENTS_FILE, infraEventsJson()],
] as const) {
  writeFileSync(file, text)
  process.stdout.write(`wrote ${file}\n`)
}
