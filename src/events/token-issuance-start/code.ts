// OnTokenIssuanceStart for handlers written in code: the request's view and the one action.
import { EndpointError } from '../../errors.js'
import { eventView, type EventCode, type EventView } from '../event.js'
import { provideClaimsForToken, type Claims } from './actions.js'
import type { TokenIssuanceStartEvent, TokenIssuanceStartResponse, TokenUser } from './schema.js'

export interface TokenIssuanceStartView extends EventView<TokenIssuanceStartEvent> {
  /** The user the token is for (any field may be absent). */
  readonly user: TokenUser
}

export interface TokenIssuanceStartActions {
  /** The answer: these claims go into the token (strings or arrays of strings, 3 KB in all). */
  provideClaims(claims: Claims): TokenIssuanceStartResponse
  /**
   * The answer of the data source `name` of EXTENSION_CONFIG's tokenIssuanceStart.sources for this
   * user, through its cache and under the request deadline; undefined when it failed (logged).
   */
  source(name: string): Promise<unknown>
}

export const tokenIssuanceStartCode: EventCode<
  TokenIssuanceStartEvent,
  TokenIssuanceStartView,
  TokenIssuanceStartActions
> = {
  view: (event) => ({ ...eventView(event), user: event.data.authenticationContext.user }),
  actions: (event, context, deps) => ({
    provideClaims: provideClaimsForToken,
    async source(name) {
      let outcomes
      try {
        if (deps.sources === undefined) throw new Error('no sources')
        outcomes = await deps.sources.run([name], { event, context })
      } catch {
        throw new EndpointError(
          'ERR_NOT_CONFIGURED',
          'a handler asked for a data source that is not configured',
        )
      }
      const outcome = outcomes.get(name)
      return outcome?.ok === true ? outcome.value : undefined
    },
  }),
}
