// What the sign-up rules read from a request: attribute values (looked up by name regardless of
// case, reported under the name exactly as received), the sign-up e-mail and its domain, the
// client app and the locale. Built once per call from the validated event.
import type { z } from 'zod'
import type { UserSignUpInfoSchema } from '../events/attribute-collection.js'
import type { AuthenticationContext } from '../events/common.js'

type UserSignUpInfo = z.infer<typeof UserSignUpInfoSchema>
export type AttributeValue = string | number | boolean | readonly string[]

export interface ReceivedAttribute {
  /** The name exactly as Entra sent it: attributeErrors and modifyAttributeValues use it. */
  readonly name: string
  readonly value: AttributeValue | undefined
  /** The value type Entra declared ("string", "int64", "boolean"), when it did. */
  readonly type: 'string' | 'int64' | 'boolean' | undefined
}

export interface SignUpFacts {
  attribute(name: string): ReceivedAttribute | undefined
  readonly attributes: readonly ReceivedAttribute[]
  /** The verified sign-up address (an e-mail identity), never a typed attribute; see isVerifiedEmail. */
  readonly email: string | undefined
  readonly emailDomain: string | undefined
  readonly clientAppId: string | undefined
  readonly locale: string | undefined
  readonly market: string | undefined
}

const DECLARED_TYPES = {
  'microsoft.graph.stringdirectoryattributevalue': 'string',
  'microsoft.graph.int64directoryattributevalue': 'int64',
  'microsoft.graph.booleandirectoryattributevalue': 'boolean',
} as const

function declaredType(odataType: string | null | undefined): ReceivedAttribute['type'] {
  if (odataType === null || odataType === undefined) return undefined
  const key = odataType.toLowerCase()
  return Object.hasOwn(DECLARED_TYPES, key)
    ? DECLARED_TYPES[key as keyof typeof DECLARED_TYPES]
    : undefined
}

export function readSignUpFacts(info: UserSignUpInfo, context: AuthenticationContext): SignUpFacts {
  const attributes: ReceivedAttribute[] = []
  const byName = new Map<string, ReceivedAttribute>()
  for (const [name, attribute] of Object.entries(info.attributes)) {
    const received: ReceivedAttribute = {
      name,
      value: attribute.value ?? undefined,
      type: declaredType(attribute['@odata.type']),
    }
    attributes.push(received)
    byName.set(name.toLowerCase(), received)
  }
  // Only a verified address: an 'email' attribute is what the user typed (a Google sign-up could
  // type ceo@contoso.com there), so it never stands in for one.
  const email = nonEmpty(info.identities.find(isVerifiedEmail)?.issuerAssignedId)
  return {
    attribute: (name) => byName.get(name.toLowerCase()),
    attributes,
    email,
    emailDomain: email === undefined ? undefined : domainOf(email),
    clientAppId: nonEmpty(context.clientServicePrincipal?.appId)?.toLowerCase(),
    locale: nonEmpty(context.client?.locale),
    market: nonEmpty(context.client?.market),
  }
}

type Identity = UserSignUpInfo['identities'][number]

/**
 * An identity whose issuerAssignedId is an address Entra verified: signInType "email" (the
 * contract's examples) or "emailAddress" (Graph's spelling), and the shape captures of real
 * local-account sign-ups show, signInType "federated" with issuer "mail". Case-insensitive.
 */
export function isVerifiedEmail(identity: Identity): boolean {
  const type = identity.signInType?.toLowerCase()
  if (type === 'email' || type === 'emailaddress') return true
  return type === 'federated' && identity.issuer?.toLowerCase() === 'mail'
}

const nonEmpty = (value: string | null | undefined) =>
  value === null || value === undefined || value.trim() === '' ? undefined : value

/** The lower-cased domain of an e-mail address, or undefined when it is not one. */
export function domainOf(address: string): string | undefined {
  const at = address.lastIndexOf('@')
  if (at <= 0 || at === address.length - 1) return undefined
  const domain = address
    .slice(at + 1)
    .trim()
    .toLowerCase()
  return domain.includes('.') && !/\s/.test(domain) ? domain : undefined
}

/** "contoso.com" matches itself only; "*.contoso.com" matches its subdomains, not itself. */
export function domainMatches(domain: string, patterns: readonly string[]): boolean {
  for (const pattern of patterns) {
    if (pattern.startsWith('*.')) {
      if (domain.endsWith(pattern.slice(1))) return true
    } else if (domain === pattern) return true
  }
  return false
}

/** Text form for string checks and comparisons: multi-value arrays join with commas (contract §5). */
export function valueText(value: AttributeValue | undefined): string {
  if (value === undefined) return ''
  if (typeof value === 'object') return value.join(',')
  return String(value)
}

/** The items of a multi-value attribute: an array, or one comma-delimited string (contract §9.10). */
export function valueItems(value: AttributeValue | undefined): string[] {
  const items: readonly string[] = typeof value === 'object' ? value : valueText(value).split(',')
  return items.map((item) => item.trim()).filter((item) => item !== '')
}

export function isEmpty(value: AttributeValue | undefined): boolean {
  if (value === undefined) return true
  if (typeof value === 'string') return value.trim() === ''
  if (typeof value === 'object') return value.every((item) => item.trim() === '')
  return false
}
