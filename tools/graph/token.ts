// Bearer tokens for the tools' Graph client: from an @azure/identity TokenCredential for
// "<origin>/.default" (the credential caches them), or from the caller's getter; raced against a timeout, as
// MSAL does not take the abort signal everywhere. A failure is a GraphError naming the first line
// of the credential's reason (@azure/identity's messages name the failure, not the secret).
import type { GraphClientOptions } from './client.js'
import { GraphError } from './graph-error.js'

/** A bearer token before each request; a failure is a GraphError naming the first line of why. */
export function tokenGetter(
  options: Pick<GraphClientOptions, 'credential' | 'getToken'>,
  origin: string,
  timeoutMs: number,
): (method: string, path: string) => Promise<string> {
  const { credential, getToken } = options
  // A getter's errors are its caller's own (an operator CLI's SignInError): passed on unchanged.
  if (getToken !== undefined) {
    if (credential !== undefined)
      throw new TypeError('createGraphClient: give a credential or a getToken, not both')
    return () => getToken()
  }
  if (credential === undefined)
    throw new TypeError('createGraphClient: give a credential or a getToken')
  const scope = `${origin}/.default`
  const fetchToken = async (): Promise<string> => {
    const abortSignal = AbortSignal.timeout(timeoutMs)
    // MSAL does not take the signal everywhere: race it too, so a hung token endpoint ends.
    const aborted = new Promise<never>((_, reject) =>
      abortSignal.addEventListener('abort', () =>
        reject(new Error(`no access token within ${timeoutMs} ms`)),
      ),
    )
    const token = await Promise.race([credential.getToken(scope, { abortSignal }), aborted])
    if (token === null) throw new Error('the credential returned no token')
    return token.token
  }
  return async (method, path) => {
    try {
      return await fetchToken()
    } catch (err) {
      if (err instanceof GraphError) throw err
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err
      const why = (cause instanceof Error ? cause.message : String(cause)).split('\n')[0] ?? ''
      const problem = why.startsWith('no Graph access token')
        ? why
        : `no Graph access token: ${why}`
      throw new GraphError({ failure: 'token', method, path, problem: problem.slice(0, 300) })
    }
  }
}
