// The JSON Schema of EXTENSION_CONFIG, generated from the zod schema (the one source of truth).
// Shipped as config/extension-config.schema.json; a test fails when the shipped file is stale.
import * as z from 'zod'
import { ExtensionConfigSchema } from './schema.js'

export const CONFIG_SCHEMA_FILE = 'config/extension-config.schema.json'

export function extensionConfigJsonSchema(): string {
  const schema = z.toJSONSchema(ExtensionConfigSchema, { io: 'input', target: 'draft-2020-12' })
  const document = {
    ...schema,
    title: 'Entra authentication extension configuration (EXTENSION_CONFIG)',
  }
  return `${JSON.stringify(document, null, 2)}\n`
}
