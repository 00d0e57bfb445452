// OnTokenIssuanceStart: app roles from a lookup by user ID (src/roles.json here; a database or
// your API in a real app). Logs how many roles it found, never which.
import type { HandlerOf } from 'entra-auth-extension'

/** Role names by Entra user object ID. */
export type RolesByUserId = Readonly<Record<string, readonly string[]>>

export function provideRoles(roles: RolesByUserId): HandlerOf<'onTokenIssuanceStart'> {
  return (event, ctx) => {
    const id = event.user.id
    const found = typeof id === 'string' && Object.hasOwn(roles, id) ? roles[id] : undefined
    ctx.log.info('roles_looked_up', { count: found?.length ?? 0 })
    // No claim at all for a user without roles: the token then has no appRoles.
    return ctx.provideClaims(found === undefined ? {} : { appRoles: [...found] })
  }
}
