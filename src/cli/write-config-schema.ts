// `npm run schema`: regenerates config/extension-config.schema.json from the zod schema.
import { writeFileSync } from 'node:fs'
import { CONFIG_SCHEMA_FILE, extensionConfigJsonSchema } from '../extension-config/json-schema.js'

writeFileSync(CONFIG_SCHEMA_FILE, extensionConfigJsonSchema())
process.stdout.write(`wrote ${CONFIG_SCHEMA_FILE}\n`)
