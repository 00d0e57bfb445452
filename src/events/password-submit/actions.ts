// Pure builders of the OnPasswordSubmit answer (contract §6b): one action, and the nonce of the
// decrypted context the answer is for.
import {
  BLOCK,
  MIGRATE_PASSWORD,
  PASSWORD_SUBMIT_RESPONSE_DATA,
  RETRY,
  UPDATE_PASSWORD,
  type PasswordSubmitResponse,
} from './schema.js'

type Action = PasswordSubmitResponse['data']['actions'][0]

const answer = (nonce: string, action: Action): PasswordSubmitResponse => ({
  data: { '@odata.type': PASSWORD_SUBMIT_RESPONSE_DATA, actions: [action], nonce },
})

/** The password is right: Entra stores it, clears the migration flag and signs the user in. */
export const migratePassword = (nonce: string) => answer(nonce, { '@odata.type': MIGRATE_PASSWORD })
/** Right but too weak (or expired): Entra sends the user through password reset. */
export const updatePassword = (nonce: string) => answer(nonce, { '@odata.type': UPDATE_PASSWORD })
/** Wrong: the user may try again. */
export const retryPassword = (nonce: string) => answer(nonce, { '@odata.type': RETRY })
/** Not allowed (locked, too many attempts): a block page with this title and message. */
export const blockSignIn = (nonce: string, title: string, message: string) =>
  answer(nonce, { '@odata.type': BLOCK, title, message })
