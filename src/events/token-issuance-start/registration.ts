// What OnTokenIssuanceStart needs in Entra (contract §7): its extension, a listener that names
// the apps (includeAllApplications is not allowed for token issuance), the claims it returns in
// claimsForTokenConfiguration, and a claims mapping policy so that they reach the tokens (§4).
import type { EventRegistration } from '../event.js'

export const tokenIssuanceStartRegistration: EventRegistration = {
  extensionType: '#microsoft.graph.onTokenIssuanceStartCustomExtension',
  listenerType: '#microsoft.graph.onTokenIssuanceStartListener',
  handlerType: '#microsoft.graph.onTokenIssuanceStartCustomExtensionHandler',
  listenerNeedsApps: true,
  parts: ({ claimNames, claimsMapping }) => [
    { kind: 'tokenClaims', claimNames },
    ...(claimsMapping ? [{ kind: 'claimsMappingPolicy', claimNames } as const] : []),
  ],
}
