// The app's handlers on one events object, not yet registered: src/index.ts registers it with
// Azure Functions, src/serve-local.ts serves it on this machine, and the tests invoke it.
import { authenticationEvents, type AuthenticationEventsOptions } from 'entra-auth-extension'
import { provideRoles, type RolesByUserId } from './claims.js'
import { sendCode } from './otp-mail.js'
import { checkPostalCode, prefillLanguage } from './sign-up.js'

export interface AppOptions extends AuthenticationEventsOptions {
  readonly roles: RolesByUserId
}

export function createEvents({ roles, ...options }: AppOptions) {
  return authenticationEvents(options)
    .onTokenIssuanceStart(provideRoles(roles))
    .onAttributeCollectionStart(prefillLanguage)
    .onAttributeCollectionSubmit(checkPostalCode)
    .onOtpSend(sendCode)
}
