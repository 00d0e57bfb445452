// Recorded events (test/fixtures/events) and small builders for variants: copies, never edits.
import { readFileSync } from 'node:fs'

export type FixtureName =
  | 'token-issuance-start'
  | 'token-issuance-start-guest'
  | 'attribute-collection-start'
  | 'attribute-collection-submit'
  | 'attribute-collection-submit-invalid'
  | 'attribute-collection-submit-local-account'
  | 'otp-send'

export const FIXTURE_ROUTES: Record<FixtureName, string> = {
  'token-issuance-start': 'onTokenIssuanceStart',
  'token-issuance-start-guest': 'onTokenIssuanceStart',
  'attribute-collection-start': 'onAttributeCollectionStart',
  'attribute-collection-submit': 'onAttributeCollectionSubmit',
  'attribute-collection-submit-invalid': 'onAttributeCollectionSubmit',
  'attribute-collection-submit-local-account': 'onAttributeCollectionSubmit',
  'otp-send': 'onOtpSend',
}

export function fixturePath(name: FixtureName): string {
  return new URL(`../fixtures/events/${name}.json`, import.meta.url).pathname
}

/** A fresh deep copy of the fixture, typed loosely so that tests can break it on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests reach into and mutate arbitrary paths
export function fixture(name: FixtureName): any {
  return JSON.parse(readFileSync(fixturePath(name), 'utf8'))
}
