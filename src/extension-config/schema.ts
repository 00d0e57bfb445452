// The product's configuration file (EXTENSION_CONFIG), as one zod schema. Its JSON Schema is
// generated from this (npm run schema) and shipped in config/ so that editors complete it.
// Strict objects: in an operator's file an unknown key is a typo, and a typo must not pass.
import * as z from 'zod'
import { EVENTS, type AnyEvent } from '../events/index.js'
import { LocaleSchema, missingDefault } from './localized-text.js'

/** Each event's section of the file, keyed as its descriptor names it. */
type Sections = { [E in AnyEvent as E['config']['key']]: E['config']['schema'] }
const sections = Object.fromEntries(
  EVENTS.map((event) => [event.config.key, event.config.schema]),
) as Sections

export const ExtensionConfigSchema = z
  .strictObject({
    $schema: z.string().max(2048).optional(),
    defaultLocale: LocaleSchema.default('en').describe(
      "The language of texts when the request's locale has none; every text map must include it.",
    ),
    ...sections,
  })
  .superRefine((config, ctx) => {
    for (const event of EVENTS) {
      const { key, texts } = event.config
      // Each descriptor's texts() reads its own section: the cast pairs them (the map is by key).
      const section = config[key] as never
      for (const [path, text] of texts?.(section) ?? []) {
        const problem = missingDefault(text, config.defaultLocale)
        if (problem !== undefined)
          ctx.addIssue({ code: 'custom', path: [key, ...path], message: problem })
      }
    }
  })
export type ExtensionConfig = z.infer<typeof ExtensionConfigSchema>
