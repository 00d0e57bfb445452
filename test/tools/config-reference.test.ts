import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import { extensionConfigReference } from '../../tools/docs/config-reference.js'

describe('the EXTENSION_CONFIG reference', () => {
  it('has a row per member with its bounds, default and description, from the schema', () => {
    const schema = z.toJSONSchema(
      z.object({
        retries: z.number().int().min(1).max(9).default(3).describe('How often to try.'),
        name: z.string().max(64),
        source: z.discriminatedUnion('type', [
          z.object({ type: z.literal('http'), url: z.string().describe('Where.') }),
          z.object({ type: z.literal('graph'), query: z.enum(['user', 'manager']) }),
        ]),
      }),
      { io: 'input' },
    )
    const text = extensionConfigReference(schema as Parameters<typeof extensionConfigReference>[0])
    expect(text).toContain('| `retries` | integer 1–9 | `3` | How often to try. |')
    expect(text).toContain('| `name` | string ≤ 64 chars | required |  |')
    expect(text).toContain('| `source (type "http").url` | string | required | Where. |')
    expect(text).toContain(
      '| `source (type "graph").query` | one of `"user"` `"manager"` | required |  |',
    )
  })

  it('covers every event section of the real schema', () => {
    const text = extensionConfigReference()
    for (const section of [
      'tokenIssuanceStart',
      'attributeCollectionStart',
      'attributeCollectionSubmit',
      'otpSend',
      'passwordSubmit',
    ])
      expect(text).toContain(`### \`${section}\``)
  })
})
