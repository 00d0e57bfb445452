// Graph v1.0's claims mapping policies and their assignment to service principals, for the
// stand-in core, in the directory tenant:
//   GET|POST /v1.0/policies/claimsMappingPolicies
//   GET|PATCH|DELETE /v1.0/policies/claimsMappingPolicies/{id}
//   GET    /v1.0/servicePrincipals/{sp}/claimsMappingPolicies          the assigned policies
//   POST   /v1.0/servicePrincipals/{sp}/claimsMappingPolicies/$ref     { "@odata.id": "…/policies/claimsMappingPolicies/{id}" }
//   DELETE /v1.0/servicePrincipals/{sp}/claimsMappingPolicies/{id}/$ref
// A service principal holds at most one; a definition is one string of JSON with a
// ClaimsMappingPolicy object.
import { randomUUID } from 'node:crypto'
import {
  bad,
  byId,
  entity,
  ENTITY_QUERY,
  list,
  LIST_QUERY,
  noContent,
  notFound,
  objectBody,
  readOnly,
  remove,
  SP_KEY,
  type DirectoryContext,
  type GraphObject,
} from './directory.js'
import { knownProperties, validateDefinition } from './entra-schema.js'
import type { GraphAnswer, GraphResource } from './graph-answers.js'
import { servicePrincipalOf } from './service-principals.js'

const POLICIES = 'policies/claimsMappingPolicies'

export function claimsMappingPoliciesResource(context: DirectoryContext): GraphResource {
  const tenant = context.tenant
  const spOf = (match: RegExpExecArray) => servicePrincipalOf(tenant(), match)

  const createPolicy = (body: unknown): GraphObject => {
    const post = objectBody(body)
    knownProperties(post, 'claimsMappingPolicy', 'v1.0')
    readOnly(post, undefined, ['id'])
    if (typeof post.displayName !== 'string' || post.displayName === '')
      throw bad("Property 'displayName' is required.")
    validateDefinition(post.definition)
    const policy: GraphObject = {
      id: randomUUID(),
      deletedDateTime: null,
      isOrganizationDefault: false,
      ...post,
    }
    tenant().claimsMappingPolicies.push(policy)
    return policy
  }

  const patchPolicy = (policy: GraphObject, body: unknown): GraphAnswer => {
    const patch = objectBody(body)
    knownProperties(patch, 'claimsMappingPolicy', 'v1.0')
    readOnly(patch, policy, ['id'])
    if (
      patch.displayName !== undefined &&
      (typeof patch.displayName !== 'string' || patch.displayName === '')
    )
      throw bad("Property 'displayName' must be a non-empty string.")
    if (patch.definition !== undefined) validateDefinition(patch.definition)
    Object.assign(policy, patch)
    return noContent
  }

  const assignPolicy = (sp: GraphObject, body: unknown): GraphAnswer => {
    const reference = objectBody(body)['@odata.id']
    let policyId: string | undefined
    try {
      const path = decodeURIComponent(new URL(String(reference)).pathname)
      policyId = /\/policies\/claimsMappingPolicies\/([^/]+)$/.exec(path)?.[1]
    } catch {
      policyId = undefined
    }
    if (typeof reference !== 'string' || policyId === undefined)
      throw bad(
        "Property '@odata.id' must be the URL of a claims mapping policy: https://graph.microsoft.com/v1.0/policies/claimsMappingPolicies/{id}.",
      )
    const s = tenant()
    if (!s.claimsMappingPolicies.some((p) => p.id === policyId))
      throw bad(
        `Resource '${policyId}' does not exist or one of its queried reference-property objects are not present.`,
      )
    const assigned = s.policyAssignments.filter((a) => a.servicePrincipalId === sp.id)
    if (assigned.some((a) => a.policyId === policyId))
      throw bad(
        "One or more added object references already exist for the following modified properties: 'claimsMappingPolicies'.",
      )
    if (assigned.length > 0)
      throw bad(
        'Only one policy of type ClaimsMappingPolicy can be assigned to a service principal; remove the assigned one first.',
      )
    s.policyAssignments.push({ servicePrincipalId: sp.id, policyId })
    return noContent
  }

  const ALL = /^\/v1\.0\/policies\/claimsMappingPolicies$/
  const ONE = /^\/v1\.0\/policies\/claimsMappingPolicies\/([^/]+)$/
  const OF_SP = new RegExp(`^/v1\\.0/servicePrincipals${SP_KEY}/claimsMappingPolicies$`)
  const REF = new RegExp(`^/v1\\.0/servicePrincipals${SP_KEY}/claimsMappingPolicies/\\$ref$`)
  const REF_ONE = new RegExp(
    `^/v1\\.0/servicePrincipals${SP_KEY}/claimsMappingPolicies/([^/]+)/\\$ref$`,
  )
  return {
    routes: [
      {
        method: 'GET',
        path: ALL,
        query: LIST_QUERY,
        answer: (call, _m, origin) =>
          list(call, origin, tenant().claimsMappingPolicies, POLICIES, context.pageSize()),
      },
      {
        method: 'POST',
        path: ALL,
        unsupportedQuery: [],
        answer: (call, _m, origin) => entity(call, origin, createPolicy(call.body), POLICIES, 201),
      },
      {
        method: 'GET',
        path: ONE,
        query: ENTITY_QUERY,
        answer: (call, match, origin) =>
          entity(call, origin, byId(tenant().claimsMappingPolicies, match[1]), POLICIES),
      },
      {
        method: 'PATCH',
        path: ONE,
        unsupportedQuery: [],
        answer: (call, match) =>
          patchPolicy(byId(tenant().claimsMappingPolicies, match[1]), call.body),
      },
      {
        method: 'DELETE',
        path: ONE,
        unsupportedQuery: [],
        answer(_call, match) {
          const s = tenant()
          const policy = byId(s.claimsMappingPolicies, match[1])
          remove(s.claimsMappingPolicies, (p) => p !== policy)
          remove(s.policyAssignments, (a) => a.policyId !== policy.id)
          return noContent
        },
      },
      {
        method: 'GET',
        path: OF_SP,
        query: LIST_QUERY,
        answer(call, match, origin) {
          const sp = spOf(match)
          const s = tenant()
          const ids = s.policyAssignments
            .filter((a) => a.servicePrincipalId === sp.id)
            .map((a) => a.policyId)
          return list(
            call,
            origin,
            s.claimsMappingPolicies.filter((p) => ids.includes(p.id)),
            `servicePrincipals('${sp.id}')/claimsMappingPolicies`,
            context.pageSize(),
          )
        },
      },
      {
        method: 'POST',
        path: REF,
        unsupportedQuery: [],
        answer: (call, match) => assignPolicy(spOf(match), call.body),
      },
      {
        method: 'DELETE',
        path: REF_ONE,
        unsupportedQuery: [],
        answer(_call, match) {
          const sp = spOf(match)
          const policyId = match[3]
          const s = tenant()
          const assignment = s.policyAssignments.find(
            (a) => a.servicePrincipalId === sp.id && a.policyId === policyId,
          )
          if (assignment === undefined) throw notFound(policyId ?? '')
          remove(s.policyAssignments, (a) => a !== assignment)
          return noContent
        },
      },
    ],
  }
}
