// Access tokens for outbound calls (Microsoft Graph, the customer's own APIs) from an
// @azure/identity credential, which caches them until shortly before they expire. Credentials
// are made on first use (start-up stays offline) and then live as long as the process.
// @azure/identity is imported when a credential is first made, not with this module (src/lazy.ts).
import type { TokenCredential } from '@azure/identity'
import { abortAfter } from './abort-after.js'
import { OutboundError } from './fetch-json.js'

export interface AccessTokenSource {
  /** A bearer token for the configured scope, or an OutboundError within `timeoutMs`. */
  getToken(signal: AbortSignal, timeoutMs: number): Promise<string>
}

export function createTokenSource(
  makeCredential: () => TokenCredential | Promise<TokenCredential>,
  scope: string,
): AccessTokenSource {
  let made: Promise<TokenCredential> | undefined
  return {
    async getToken(signal, timeoutMs) {
      made ??= Promise.resolve(makeCredential())
      const credential = await made
      const call = abortAfter(signal, timeoutMs)
      const abortSignal = call.signal
      // MSAL underneath does not take the signal everywhere: race it as well, so a slow token
      // endpoint cannot hold the request past its budget (the fetch finishes in the background
      // and, when it succeeds, fills the cache for the next request).
      let onAbort: (() => void) | undefined
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => {
          reject(
            signal.aborted
              ? new OutboundError('deadline', 'the request deadline passed')
              : new OutboundError('timeout', `no access token within ${Math.round(timeoutMs)} ms`),
          )
        }
        abortSignal.addEventListener('abort', onAbort, { once: true })
      })
      try {
        const token = await Promise.race([credential.getToken(scope, { abortSignal }), aborted])
        if (token === null) throw new Error('the credential returned no token')
        return token.token
      } catch (err) {
        if (err instanceof OutboundError) throw err
        throw new OutboundError('network', 'an access token could not be obtained', { cause: err })
      } finally {
        if (onAbort !== undefined) abortSignal.removeEventListener('abort', onAbort)
        call.dispose()
      }
    },
  }
}

export function createManagedIdentityTokenSource(options: {
  readonly scope: string
  readonly clientId?: string | undefined
}): AccessTokenSource {
  return createTokenSource(async () => {
    const { ManagedIdentityCredential } = await import('@azure/identity')
    return options.clientId === undefined
      ? new ManagedIdentityCredential()
      : new ManagedIdentityCredential({ clientId: options.clientId })
  }, options.scope)
}
