// Access tokens for calls to the customer's own APIs, from the Function App's managed identity
// (system-assigned, or user-assigned by client ID) through @azure/identity, which caches them
// until shortly before they expire. The credential is made once per process.
import { ManagedIdentityCredential } from '@azure/identity'
import { OutboundError } from './fetch-json.js'

export interface AccessTokenSource {
  /** A bearer token for the configured scope, or an OutboundError within `timeoutMs`. */
  getToken(signal: AbortSignal, timeoutMs: number): Promise<string>
}

export function createManagedIdentityTokenSource(options: {
  readonly scope: string
  readonly clientId?: string | undefined
}): AccessTokenSource {
  let credential: ManagedIdentityCredential | undefined // made on first use: start-up stays offline
  return {
    async getToken(signal, timeoutMs) {
      credential ??=
        options.clientId === undefined
          ? new ManagedIdentityCredential()
          : new ManagedIdentityCredential({ clientId: options.clientId })
      // AbortSignal.timeout takes whole milliseconds only (a fraction throws a RangeError).
      const timeout = AbortSignal.timeout(Math.max(1, Math.round(timeoutMs)))
      const abortSignal = AbortSignal.any([signal, timeout])
      // MSAL underneath does not take the signal everywhere: race it as well, so a slow identity
      // endpoint cannot hold the request past its budget (the fetch finishes in the background).
      let onAbort: (() => void) | undefined
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => {
          reject(
            signal.aborted
              ? new OutboundError('deadline', 'the request deadline passed')
              : new OutboundError('timeout', `no managed identity token within ${timeoutMs} ms`),
          )
        }
        abortSignal.addEventListener('abort', onAbort, { once: true })
      })
      try {
        const token = await Promise.race([
          credential.getToken(options.scope, { abortSignal }),
          aborted,
        ])
        return token.token
      } catch (err) {
        if (err instanceof OutboundError) throw err
        throw new OutboundError('network', 'the managed identity token could not be obtained', {
          cause: err,
        })
      } finally {
        if (onAbort !== undefined) abortSignal.removeEventListener('abort', onAbort)
      }
    },
  }
}
