// OnPasswordSubmit for handlers written in code: the decrypted context in the view, and the four
// answers, each carrying the request's nonce.
import { decryptedContextOf, passwordContextOf } from '../../passwords/password-context.js'
import { eventView, type EventCode, type EventView } from '../event.js'
import { blockSignIn, migratePassword, retryPassword, updatePassword } from './actions.js'
import type { PasswordSubmitConfig } from '../../extension-config/password-submit.js'
import { passwordSubmitGuard, requireKeys } from './handler.js'
import type { PasswordSubmitEvent, PasswordSubmitResponse } from './schema.js'

export interface PasswordSubmitView extends EventView<PasswordSubmitEvent> {
  /** The sign-in identifier the user typed. Personal data: never log it. */
  readonly username: string
  /** The password the user typed. A secret: ctx.log prints "[redacted]" for a field holding it. */
  readonly password: string
  /** The request's nonce (each action puts it in the answer). */
  readonly nonce: string
}

export interface PasswordSubmitActions {
  /** The password is right (and meets the policy): Entra stores it and signs the user in. */
  migrate(): PasswordSubmitResponse
  /** Right but weak or expired: Entra sends the user through password reset. */
  updatePassword(): PasswordSubmitResponse
  /** Wrong: the user may try again. */
  retry(): PasswordSubmitResponse
  /** Not allowed: a block page with this title and message. */
  block(title: string, message: string): PasswordSubmitResponse
}

function contextOf(event: PasswordSubmitEvent) {
  const context = decryptedContextOf(event)
  if (context === undefined) throw new Error('the password context was not decrypted') // prepare does
  return context
}

export const passwordSubmitCode: EventCode<
  PasswordSubmitEvent,
  PasswordSubmitView,
  PasswordSubmitActions,
  PasswordSubmitConfig
> = {
  // The same attempt limit and repeated-nonce cache as the declarative check (one per endpoint).
  around: (section, deps) => {
    const guard = passwordSubmitGuard(section, deps)
    // `run` answers with the handler's answer: one of this event's (typed by the code API).
    return (event, context, run) =>
      guard(event, context, run as () => Promise<PasswordSubmitResponse>)
  },
  async prepare(event, _context, deps) {
    const { keys } = requireKeys(deps.passwordMigration)
    const { password, username } = await passwordContextOf(
      event,
      event.data.encryptedPasswordContext,
      keys,
    )
    return [password, username]
  },
  view: (event) => {
    const { username, password, nonce } = contextOf(event)
    return { ...eventView(event), username, password, nonce }
  },
  actions: (event) => {
    const nonce = () => contextOf(event).nonce
    return {
      migrate: () => migratePassword(nonce()),
      updatePassword: () => updatePassword(nonce()),
      retry: () => retryPassword(nonce()),
      block: (title, message) => blockSignIn(nonce(), title, message),
    }
  },
}
