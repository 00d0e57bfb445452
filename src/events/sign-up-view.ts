// The view code handlers get of a sign-up request (OnAttributeCollectionStart and Submit).
import { readSignUpFacts, type AttributeValue } from '../sign-up/sign-up-facts.js'
import type { UserSignUpInfoSchema } from './attribute-collection.js'
import type { AuthenticationContext } from './common.js'
import { eventView, type EventView } from './event.js'
import type { z } from 'zod'

export interface SignUpView<Raw> extends EventView<Raw> {
  /** The attributes on the page, by name exactly as Entra sent it (a value may be absent on Start). */
  readonly attributes: Readonly<Record<string, AttributeValue | undefined>>
  /** The verified sign-up address (an e-mail identity), undefined for a federated sign-up. */
  readonly verifiedEmail: string | undefined
}

interface SignUpRequest {
  readonly data: {
    readonly authenticationContext: AuthenticationContext
    readonly userSignUpInfo: z.output<typeof UserSignUpInfoSchema>
  }
}

export function signUpView<Raw extends SignUpRequest>(raw: Raw): SignUpView<Raw> {
  const facts = readSignUpFacts(raw.data.userSignUpInfo, raw.data.authenticationContext)
  const attributes: Record<string, AttributeValue | undefined> = {}
  for (const attribute of facts.attributes) attributes[attribute.name] = attribute.value
  return { ...eventView(raw), attributes, verifiedEmail: facts.email }
}
