// The deployment (infra/main.bicep, infra/modules/apim.bicep, azure.yaml) cannot drift from the
// code: offline text checks, no Bicep compiler. Each check is a function returning problems; the real files must give none,
// and a mutated copy must give the expected one, so that no check passes vacuously.
import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { metadataUrl } from '../src/auth/signing-keys.js'
import { ENTRA_EVENTS_APP_ID } from '../src/auth/verify-caller.js'
import { defaultIssuers, EnvSchema } from '../src/config.js'
import { EVENT_ROUTE_NAMES } from '../src/events/routes.js'

const root = new URL('../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')
const bicep = read('infra/main.bicep')
const parametersJson = read('infra/main.parameters.json')
const azureYaml = read('azure.yaml')
const apimBicep = read('infra/modules/apim.bicep')

/** Azure platform settings the code does not read but the Functions host does. */
const PLATFORM_SETTINGS = [
  /^AzureWebJobsStorage(__(accountName|credential|clientId|blobServiceUri|queueServiceUri|tableServiceUri))?$/,
  /^APPLICATIONINSIGHTS_(CONNECTION_STRING|AUTHENTICATION_STRING)$/,
  /^FUNCTIONS_[A-Z_]+$/,
  /^WEBSITE_[A-Z_]+$/,
]
/** Settings whose values are secrets: Key Vault references only. */
const SECRET_SETTINGS = [
  'SMTP_URL',
  'SENDGRID_API_KEY',
  'ACS_CONNECTION_STRING',
  'AZURE_CLIENT_SECRET',
  'OTP_STORE_CONNECTION_STRING',
  'LOG_HASH_KEY',
]
const REQUIRED_SETTINGS = { ENTRA_TENANT_ID: 'entraTenantId', ENTRA_AUDIENCE: 'entraAudience' }

type Param = {
  name: string
  type: string
  hasDefault: boolean
  /** The default's Bicep text (`''`, `false`, ...), when there is one. */
  defaultValue: string | undefined
  secure: boolean
}

function parseParams(text: string): Param[] {
  const params: Param[] = []
  let decorators: string[] = []
  for (const line of text.split('\n')) {
    if (line.startsWith('@')) decorators.push(line)
    const m = /^param (\w+) (\w+)( = .+)?$/.exec(line)
    if (m) {
      params.push({
        name: m[1] ?? '',
        type: m[2] ?? '',
        hasDefault: m[3] !== undefined,
        defaultValue: m[3]?.slice(' = '.length),
        secure: decorators.includes('@secure()'),
      })
    }
    if (!line.startsWith('@')) decorators = []
  }
  return params
}

/** The `var appSettings = { ... }` block: setting name -> Bicep expression (one line each). */
function parseAppSettings(text: string): Map<string, string> {
  const lines = text.split('\n')
  const start = lines.indexOf('var appSettings = {')
  if (start < 0) throw new Error('main.bicep: no `var appSettings = {` block')
  const settings = new Map<string, string>()
  for (const line of lines.slice(start + 1)) {
    if (line === '}') return settings
    if (/^\s*(\/\/.*)?$/.test(line)) continue
    const m = /^ {2}([A-Za-z_][A-Za-z0-9_]*): (.+)$/.exec(line)
    if (!m) throw new Error(`main.bicep: cannot read app setting line: ${line}`)
    settings.set(m[1] ?? '', m[2] ?? '')
  }
  throw new Error('main.bicep: appSettings block not closed')
}

function checkSettingNames(text: string): string[] {
  const known = new Set(Object.keys(EnvSchema.shape))
  const problems = [...parseAppSettings(text).keys()]
    .filter((name) => !known.has(name) && !PLATFORM_SETTINGS.some((re) => re.test(name)))
    .map((name) => `${name}: neither read by the code nor an Azure platform setting`)
  // The block must be what the app gets, and the only place settings are set.
  if (!/properties: toObject\(filter\(items\(appSettings\), s => !empty\(s\.value\)\)/.test(text))
    problems.push('appsettings resource does not use var appSettings')
  if (/appSettings: \[/.test(text)) problems.push('siteConfig.appSettings set besides appSettings')
  return problems
}

function checkRequiredSettings(text: string): string[] {
  const settings = parseAppSettings(text)
  const params = parseParams(text)
  return Object.entries(REQUIRED_SETTINGS).flatMap(([name, param]) => {
    const required = params.some((p) => p.name === param && !p.hasDefault)
    return settings.get(name) === param && required
      ? []
      : [`${name}: must be set from the required param ${param}`]
  })
}

function checkSecrets(text: string): string[] {
  const problems: string[] = []
  const settings = parseAppSettings(text)
  const secureParams = parseParams(text).filter((p) => p.secure)
  const prefix =
    "var kvRefPrefix = '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/'"
  if (!text.includes(prefix)) problems.push('kvRefPrefix: not a Key Vault reference prefix')
  if (!text.includes('keyVaultReferenceIdentity: identity.id'))
    problems.push('keyVaultReferenceIdentity: not the user-assigned identity')
  for (const name of SECRET_SETTINGS) {
    const expr = settings.get(name)
    if (expr === undefined) {
      problems.push(`${name}: not set`)
      continue
    }
    const m = /^empty\((\w+)\) \? '' : '\$\{kvRefPrefix\}([a-z0-9-]+)\/\)'$/.exec(expr)
    const param = secureParams.find((p) => p.name === m?.[1])
    // The secret must be created from that same secure param, under the referenced name.
    const secret = new RegExp(
      `= if \\(!empty\\(${m?.[1]}\\)\\) \\{\\n  parent: vault\\n  name: '${m?.[2]}'\\n  properties: \\{ value: ${m?.[1]} \\}\\n\\}`,
    )
    if (!m || !param || !secret.test(text))
      problems.push(
        `${name}: must be a Key Vault reference to a secret made from a @secure() param`,
      )
  }
  // No setting may carry a secure param's value (using it in empty() is fine).
  for (const [name, expr] of settings) {
    const bare = expr.replace(/empty\(\w+\)/g, '')
    for (const p of secureParams)
      if (new RegExp(`\\b${p.name}\\b`).test(bare)) problems.push(`${name}: uses ${p.name}`)
  }
  return problems
}

function checkParameterFile(text: string, json: string): string[] {
  const params = parseParams(text)
  const entries = (JSON.parse(json) as { parameters: Record<string, { value: unknown }> })
    .parameters
  // An optional param must be settable from the azd environment too, and its `${NAME=default}`
  // must give the param's own default, so that an unset variable changes nothing.
  const optional = params
    .filter((p) => p.hasDefault)
    .flatMap((p) => {
      const value = entries[p.name]?.value
      if (value === undefined) return [`${p.name}: optional but not in main.parameters.json`]
      const m = typeof value === 'string' ? /^\$\{[A-Z][A-Z0-9_]*=(.*)\}$/.exec(value) : null
      const expected = p.defaultValue === "''" ? '' : p.defaultValue
      return m?.[1] === expected
        ? []
        : [`${p.name}: main.parameters.json must default to the param's default ${p.defaultValue}`]
    })
  return [
    ...params
      .filter((p) => !p.hasDefault && !(p.name in entries))
      .map((p) => `${p.name}: required but not in main.parameters.json`),
    ...optional,
    ...Object.keys(entries)
      .filter((key) => !params.some((p) => p.name === key))
      .map((key) => `${key}: in main.parameters.json but not a param`),
  ]
}

function checkHardening(text: string): string[] {
  const expected = [
    'httpsOnly: true',
    "minTlsVersion: '1.2'",
    "name: 'ftp'\n  properties: { allow: false }",
    "name: 'scm'\n  properties: { allow: false }",
    "minimumTlsVersion: 'TLS1_2'",
    'allowBlobPublicAccess: false',
    'supportsHttpsTrafficOnly: true',
    'enableRbacAuthorization: true',
    'enablePurgeProtection: true',
  ]
  return expected.filter((line) => !text.includes(line)).map((line) => `missing ${line}`)
}

/** Built-in role definition IDs (the same in every tenant), as Azure documents them. */
const BUILT_IN_ROLES = {
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
} as const

/**
 * Problems with granting the identity `role` on `scope`: the role's ID in `var roles`, one role
 * assignment to the identity's principal, and the app settings waiting for it.
 */
function checkRoleGranted(
  text: string,
  scope: string,
  role: keyof typeof BUILT_IN_ROLES,
): string[] {
  const problems: string[] = []
  if (!text.includes(`  ${role}: '${BUILT_IN_ROLES[role]}'`))
    problems.push(`roles.${role}: not the built-in role ${BUILT_IN_ROLES[role]}`)
  const assignment = new RegExp(
    `^resource (\\w+) 'Microsoft\\.Authorization/roleAssignments@[\\w-]+' = \\{\\n` +
      `  scope: ${scope}\\n` +
      `  name: guid\\(${scope}\\.id, identity\\.id, roles\\.${role}\\)\\n` +
      `  properties: \\{\\n` +
      `    roleDefinitionId: subscriptionResourceId\\('Microsoft\\.Authorization/roleDefinitions', roles\\.${role}\\)\\n` +
      `    principalId: identity\\.properties\\.principalId\\n`,
    'm',
  ).exec(text)
  if (!assignment) problems.push(`${role}: not granted to the identity on ${scope}`)
  else if (!new RegExp(`dependsOn: \\[[^\\]]*\\b${assignment[1]}\\b`).test(text))
    problems.push(`${role}: the app settings do not wait for ${assignment[1]}`)
  return problems
}

function checkOtpStore(text: string): string[] {
  const settings = parseAppSettings(text)
  const problems = checkRoleGranted(text, 'storage', 'storageTableDataContributor')
  const expected = {
    OTP_STORE_ENDPOINT:
      "empty(otpStoreConnectionString) ? storage.properties.primaryEndpoints.table : ''",
    OTP_STORE_CLIENT_ID: "empty(otpStoreConnectionString) ? identity.properties.clientId : ''",
  }
  for (const [name, expr] of Object.entries(expected))
    if (settings.get(name) !== expr) problems.push(`${name}: must be ${expr}`)
  return problems
}

function checkTelemetryIdentity(text: string): string[] {
  const problems = checkRoleGranted(text, 'appInsights', 'monitoringMetricsPublisher')
  const component =
    /^resource appInsights 'Microsoft\.Insights\/components@[\w-]+' = \{\n([\s\S]*?)\n\}$/m.exec(
      text,
    )?.[1]
  if (component === undefined || !/^ {4}DisableLocalAuth: true$/m.test(component))
    problems.push('appInsights: DisableLocalAuth must be true')
  const expected = "'Authorization=AAD;ClientId=${identity.properties.clientId}'"
  if (parseAppSettings(text).get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING') !== expected)
    problems.push(`APPLICATIONINSIGHTS_AUTHENTICATION_STRING: must be ${expected}`)
  return problems
}

type Yaml = { [key: string]: string | Yaml }

/** The YAML subset azure.yaml uses: nested maps of scalars, two-space indents, comments. */
function parseYaml(text: string): Yaml {
  const result: Yaml = {}
  const stack: { indent: number; map: Yaml }[] = [{ indent: -1, map: result }]
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.replace(/\s+#.*$/, '').trimEnd()
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue
    const m = /^( *)([A-Za-z_][\w-]*):(?: (.+))?$/.exec(line)
    if (!m) throw new Error(`azure.yaml line ${index + 1}: not a key: value line`)
    const indent = m[1]?.length ?? 0
    while ((stack.at(-1)?.indent ?? -1) >= indent) stack.pop()
    const parent = stack.at(-1)
    if (!parent || indent % 2 !== 0) throw new Error(`azure.yaml line ${index + 1}: bad indent`)
    const key = m[2] ?? ''
    if (key in parent.map) throw new Error(`azure.yaml line ${index + 1}: duplicate ${key}`)
    if (m[3] === undefined) {
      const child: Yaml = {}
      parent.map[key] = child
      stack.push({ indent, map: child })
    } else {
      parent.map[key] = m[3].replace(/^(['"])(.*)\1$/, '$2')
    }
  }
  return result
}

function checkAzureYaml(yamlText: string, text: string): string[] {
  const yaml = parseYaml(yamlText)
  const problems: string[] = []
  const infra = yaml.infra
  const api = typeof yaml.services === 'object' ? yaml.services.api : undefined
  if (typeof yaml.name !== 'string') problems.push('name: missing')
  if (typeof infra !== 'object' || infra.provider !== 'bicep' || infra.path !== 'infra')
    problems.push('infra: must be provider bicep at path infra')
  else if (
    typeof infra.module !== 'string' ||
    !existsSync(new URL(`${infra.path}/${infra.module}.bicep`, root))
  )
    problems.push('infra: module file not found')
  if (typeof api !== 'object' || api.project !== '.' || api.host !== 'function')
    problems.push('services.api: must be project . on host function')
  else if (api.language !== 'ts') problems.push('services.api.language: must be ts')
  // What azd zips is the bundle that `npm run build` writes (tools/build/functions-package.ts).
  if (typeof api === 'object' && api.dist !== 'dist/deploy')
    problems.push('services.api.dist: must be dist/deploy (the Functions bundle)')
  if (!text.includes("'azd-service-name': 'api'")) problems.push('no Function App tagged for api')
  return problems
}

type XmlElement = {
  name: string
  attrs: Record<string, string>
  children: XmlElement[]
  /** Its own text, entities decoded, trimmed. */
  text: string
}

/**
 * A strict reader for the XML subset APIM policies use here: elements, double-quoted attributes,
 * text, comments. Throws on anything not well-formed (mismatched or unclosed tags, a bare `&` or
 * `<`, duplicate attributes, text or a second element outside the root).
 */
function parseXml(xml: string): XmlElement {
  const name = '[A-Za-z_][\\w.-]*'
  const tag = new RegExp(`<(/?)(${name})((?:\\s+${name}\\s*=\\s*"[^"<]*")*)\\s*(/?)>`, 'y')
  const attribute = new RegExp(`(${name})\\s*=\\s*"([^"<]*)"`, 'g')
  const decode = (text: string) => {
    if (/&(?!(?:amp|lt|gt|quot|apos);)/.test(text)) throw new Error(`bare & in: ${text.trim()}`)
    return text
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&quot;', '"')
      .replaceAll('&apos;', "'")
      .replaceAll('&amp;', '&')
  }
  const document: XmlElement = { name: '#document', attrs: {}, children: [], text: '' }
  const stack = [document]
  let i = 0
  for (;;) {
    const lt = xml.indexOf('<', i)
    const text = xml.slice(i, lt < 0 ? xml.length : lt)
    if (text.trim() !== '') {
      const parent = stack.at(-1)
      if (!parent || stack.length === 1)
        throw new Error(`text outside the root element: ${text.trim()}`)
      parent.text = (parent.text + decode(text)).trim()
    }
    if (lt < 0) break
    if (xml.startsWith('<!--', lt)) {
      const end = xml.indexOf('-->', lt + 4)
      if (end < 0) throw new Error('unclosed comment')
      i = end + 3
      continue
    }
    tag.lastIndex = lt
    const m = tag.exec(xml)
    if (!m) throw new Error(`malformed tag: ${xml.slice(lt, lt + 40)}`)
    i = tag.lastIndex
    const [, close, tagName = '', attrText = '', selfClose] = m
    const parent = stack.at(-1) ?? document
    if (close) {
      if (attrText !== '' || selfClose) throw new Error(`malformed end tag </${tagName}>`)
      if (stack.length === 1 || parent.name !== tagName)
        throw new Error(`</${tagName}> does not close <${parent.name}>`)
      stack.pop()
      continue
    }
    const attrs: Record<string, string> = {}
    for (const [, key = '', value = ''] of attrText.matchAll(attribute)) {
      if (key in attrs) throw new Error(`<${tagName}>: duplicate attribute ${key}`)
      attrs[key] = decode(value)
    }
    if (parent === document && document.children.length > 0)
      throw new Error(`<${tagName}>: a second root element`)
    const element: XmlElement = { name: tagName, attrs, children: [], text: '' }
    parent.children.push(element)
    if (!selfClose) stack.push(element)
  }
  if (stack.length > 1) throw new Error(`<${stack.at(-1)?.name}> not closed`)
  const root = document.children[0]
  if (!root) throw new Error('no root element')
  return root
}

const xmlText = (value: string) =>
  value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')

const XML_TEXT_FUNC =
  "func xmlText(value string) string => replace(replace(replace(replace(value, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '\"', '&quot;')"

type PolicyInput = { issuers: string[]; audiences: string[]; backendUrl: string }

/**
 * The module's policy XML as Bicep would build it from these lists: policyTemplate with each
 * __TOKEN__ of policyValues replaced, list fragments being `join(map(list, x => '...'), '')`.
 */
function renderApimPolicy(text: string, input: PolicyInput): string {
  const template = /^var policyTemplate = '''\n([\s\S]*?)'''$/m.exec(text)?.[1]
  const values = /^var policyValues = \{\n([\s\S]*?)\n\}$/m.exec(text)?.[1]
  if (template === undefined || values === undefined)
    throw new Error('apim.bicep: no policyTemplate or policyValues')
  const reducer =
    "var policyXml = reduce(items(policyValues), policyTemplate, (xml, v) => replace(xml, '__${v.key}__', v.value))"
  if (!text.includes(reducer) || !text.includes(XML_TEXT_FUNC))
    throw new Error('apim.bicep: policyXml is not built from policyTemplate and policyValues')
  const lists: Record<string, string[]> = { issuers: input.issuers, audiences: input.audiences }
  const evaluate = (expr: string): string => {
    if (expr === 'xmlText(backendUrl)') return xmlText(input.backendUrl)
    const fragment = new RegExp(
      `^var ${expr} = join\\(map\\((\\w+), (\\w) => '([^']*)'\\), ''\\)$`,
      'm',
    ).exec(text)
    const [, list = '', variable = '', body = ''] = fragment ?? []
    const items = lists[list]
    if (!items) throw new Error(`apim.bicep: cannot evaluate ${expr}`)
    return items
      .map((item) =>
        body.replace(/\$\{([^}]*)\}/g, (_, inner: string) => {
          if (inner !== `xmlText(${variable})`)
            throw new Error(`apim.bicep: unescaped \${${inner}}`)
          return xmlText(item)
        }),
      )
      .join('')
  }
  let xml = template
  for (const line of values.split('\n')) {
    const m = /^ {2}([A-Z_]+): (.+)$/.exec(line)
    if (!m) throw new Error(`apim.bicep: cannot read policyValues line: ${line}`)
    xml = xml.replaceAll(`__${m[1]}__`, evaluate(m[2] ?? ''))
  }
  const left = /__[A-Z_]+__/.exec(xml)
  if (left) throw new Error(`apim.bicep: ${left[0]} not replaced`)
  return xml
}

const child = (element: XmlElement | undefined, name: string) =>
  element?.children.find((c) => c.name === name)
const all = (element: XmlElement): XmlElement[] => [element, ...element.children.flatMap(all)]

/** The policy checks Entra's token like the endpoint does (contract §2) and forwards it. */
function checkApimPolicy(text: string): string[] {
  const tenant = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'
  // The module's default issuers are the endpoint's (src/config.ts), for the same tenant.
  const defaults = /^var defaultIssuers = \[\n((?: {2}'.+'\n)+)\]$/m
    .exec(text)?.[1]
    ?.trim()
    .split('\n')
    .map((line) => line.trim().slice(1, -1).replaceAll('${tenantId}', tenant))
  const problems: string[] = []
  if (defaults?.join() !== defaultIssuers(tenant).join())
    problems.push("defaultIssuers: not the endpoint's defaults (src/config.ts)")
  if (!text.includes("var issuers = map(issuerValues, i => endsWith(i, '/')"))
    problems.push('issuers: not the configured or default issuers')
  if (!text.includes("var configuredIssuers = filter(map(split(entraIssuer, ','), "))
    problems.push('issuers: not read from entraIssuer')
  if (!text.includes("var audiences = filter(map(split(entraAudience, ','), "))
    problems.push('audiences: not read from entraAudience')

  const input: PolicyInput = {
    issuers: defaultIssuers(tenant),
    audiences: ['5f1c0e0b-8d2a-4e3c-9a7b-6c5d4e3f2a1b', 'api://gw.example/a&b'],
    backendUrl: 'https://func-x.azurewebsites.net/api',
  }
  let policies: XmlElement
  try {
    policies = parseXml(renderApimPolicy(text, input))
  } catch (error) {
    return [...problems, `policy XML: ${(error as Error).message}`]
  }
  const inbound = child(policies, 'inbound')
  const jwt = child(inbound, 'validate-jwt')
  if (policies.name !== 'policies' || !jwt) return [...problems, 'no inbound validate-jwt']
  const expectAttrs = {
    'header-name': 'Authorization',
    'require-scheme': 'Bearer',
    'failed-validation-httpcode': '401',
  }
  for (const [key, value] of Object.entries(expectAttrs))
    if (jwt.attrs[key] !== value) problems.push(`validate-jwt: ${key} must be ${value}`)
  for (const key of ['require-expiration-time', 'require-signed-tokens'])
    if (jwt.attrs[key] !== undefined && jwt.attrs[key] !== 'true')
      problems.push(`validate-jwt: ${key} must not be turned off`)
  // The documented child order: openid-config, (keys), audiences, issuers, required-claims.
  const order = jwt.children.map((c) => c.name).filter((n, i, a) => a.indexOf(n) === i)
  if (order.join() !== 'openid-config,audiences,issuers,required-claims')
    problems.push(`validate-jwt: children ${order.join()} not in the documented order`)
  const texts = (list: XmlElement | undefined, name: string) =>
    JSON.stringify(list?.children.filter((c) => c.name === name).map((c) => c.text))
  const urls = jwt.children.filter((c) => c.name === 'openid-config').map((c) => c.attrs.url)
  if (JSON.stringify(urls) !== JSON.stringify(input.issuers.map(metadataUrl)))
    problems.push("openid-config: not each issuer's own metadata")
  if (texts(child(jwt, 'issuers'), 'issuer') !== JSON.stringify(input.issuers))
    problems.push('issuers: not the issuers the endpoint accepts')
  if (texts(child(jwt, 'audiences'), 'audience') !== JSON.stringify(input.audiences))
    problems.push('audiences: not the audiences the endpoint accepts')
  const claims = child(jwt, 'required-claims')?.children ?? []
  const azp = claims.find((c) => c.name === 'claim' && c.attrs.name === 'azp')
  if (
    !azp ||
    (azp.attrs.match ?? 'all') !== 'all' ||
    texts(azp, 'value') !== JSON.stringify([ENTRA_EVENTS_APP_ID])
  )
    problems.push(`required-claims: must require azp = ${ENTRA_EVENTS_APP_ID}`)
  const backend = inbound?.children.findIndex((c) => c.name === 'set-backend-service') ?? -1
  const jwtAt = inbound?.children.indexOf(jwt) ?? -1
  if (backend < jwtAt || inbound?.children[backend]?.attrs['base-url'] !== input.backendUrl)
    problems.push('set-backend-service: must follow validate-jwt with base-url = backendUrl')
  for (const section of ['inbound', 'backend', 'outbound', 'on-error'])
    if (child(child(policies, section), 'base') === undefined)
      problems.push(`${section}: must include <base />`)
  // Defence in depth: the function must still see the token.
  if (
    all(policies).some(
      (e) => /header/.test(e.name) && e.attrs.name?.toLowerCase() === 'authorization',
    )
  )
    problems.push('the Authorization header must be forwarded unchanged')
  return problems
}

/** `module apim ... = if (deployApim) { ... params: { ... } }` in main.bicep: param -> expression. */
function parseApimCall(text: string): Map<string, string> | undefined {
  const block = /^module apim 'modules\/apim\.bicep' = if \(deployApim\) \{\n([\s\S]*?)\n\}$/m.exec(
    text,
  )?.[1]
  const params = /^ {2}params: \{\n([\s\S]*?)\n {2}\}$/m.exec(block ?? '')?.[1]
  if (params === undefined) return undefined
  return new Map(
    params.split('\n').map((line) => {
      const m = /^ {4}(\w+): (.+)$/.exec(line)
      if (!m) throw new Error(`main.bicep: cannot read module param line: ${line}`)
      return [m[1] ?? '', m[2] ?? '']
    }),
  )
}

const SNAKE = (route: string) => route.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()

/** main.bicep calls the module only when deployApim, with the endpoint's own values. */
function checkApimModule(text: string, module: string): string[] {
  const problems: string[] = []
  const main = parseParams(text)
  const deploy = main.find((p) => p.name === 'deployApim')
  if (deploy?.type !== 'bool' || deploy.defaultValue !== 'false')
    problems.push('deployApim: must be a bool param defaulting to false')
  const call = parseApimCall(text)
  if (!call)
    return [...problems, "main.bicep: no `module apim 'modules/apim.bicep' = if (deployApim)`"]
  const moduleParams = parseParams(module)
  for (const p of moduleParams)
    if (!p.hasDefault && !call.has(p.name)) problems.push(`module apim: ${p.name} not passed`)
  for (const name of call.keys())
    if (!moduleParams.some((p) => p.name === name))
      problems.push(`module apim: ${name} is not a param of apim.bicep`)
  // The policy must accept what the Function App accepts: the same params as its app settings.
  const settings = parseAppSettings(text)
  const same = {
    entraTenantId: settings.get('ENTRA_TENANT_ID'),
    entraIssuer: settings.get('ENTRA_ISSUER'),
    entraAudience: settings.get('ENTRA_AUDIENCE'),
    backendUrl: 'baseUrl',
  }
  for (const [name, expr] of Object.entries(same))
    if (expr === undefined || call.get(name) !== expr)
      problems.push(`module apim: ${name} must be ${expr ?? 'the app setting'}`)
  // Keep secrets out: no secure param reaches the module, which declares none.
  const secure = main.filter((p) => p.secure).map((p) => p.name)
  for (const [name, expr] of call)
    if (secure.some((p) => new RegExp(`\\b${p}\\b`).test(expr)))
      problems.push(`module apim: ${name} passes a secure param`)
  if (moduleParams.some((p) => p.secure)) problems.push('apim.bicep: must not take secrets')

  // The event routes as POST operations under /api, reachable without a subscription key; the
  // list is infra/events.json, generated from the descriptors (docs.test.ts checks it is current).
  const expected = [
    "var routes = loadJsonContent('../events.json').routes",
    "resource operations 'Microsoft.ApiManagement/service/apis/operations@",
    '  for route in routes: {',
    "      method: 'POST'",
    "      urlTemplate: '/${route}'",
    "var apiPath = 'api'",
    '    path: apiPath',
    "    protocols: ['https']",
    '    serviceUrl: backendUrl',
    '    subscriptionRequired: false',
    "    name: 'Consumption'",
    "output eventUrls object = toObject(routes, r => r, r => '${apim.properties.gatewayUrl}/${apiPath}/${r}')",
  ]
  for (const line of expected)
    if (!module.includes(line)) problems.push(`apim.bicep: missing ${line.trim()}`)

  // Outputs: the gateway URL of each route when deployed, empty strings otherwise.
  const outputs = [
    ...text.matchAll(
      /^output APIM_(\w+)_URL string = deployApim \? apim\.outputs\.eventUrls\.(\w+) : ''$/gm,
    ),
  ]
  const routed = outputs.map((m) => m[2] ?? '')
  if ([...routed].sort().join() !== [...EVENT_ROUTE_NAMES].sort().join())
    problems.push(`APIM URL outputs ${routed.join()} do not match the routes`)
  for (const [, name, route] of outputs)
    if (name !== SNAKE(route ?? '')) problems.push(`APIM_${name}_URL: does not name ${route}`)
  if (!text.includes("output APIM_GATEWAY_URL string = deployApim ? apim.outputs.gatewayUrl : ''"))
    problems.push('no APIM_GATEWAY_URL output')
  return problems
}

function checkEventUrls(text: string): string[] {
  const urls = [...text.matchAll(/^output \w+_URL string = '\$\{baseUrl\}\/(\w+)'$/gm)].map(
    (m) => m[1],
  )
  return [...EVENT_ROUTE_NAMES].sort().join() === [...urls].sort().join() &&
    /var baseUrl = 'https:\/\/\$\{functionApp\.properties\.defaultHostName\}\/api'/.test(text)
    ? []
    : [`event URL outputs ${urls.join()} do not match the routes ${EVENT_ROUTE_NAMES.join()}`]
}

describe('infra', () => {
  it('sets only app settings the code reads or Azure uses', () => {
    expect(checkSettingNames(bicep)).toEqual([])
    const extra = bicep.replace('  LOG_LEVEL: logLevel', '  LOG_LEVELS: logLevel')
    expect(checkSettingNames(extra)).toEqual([
      'LOG_LEVELS: neither read by the code nor an Azure platform setting',
    ])
    expect(() => parseAppSettings(bicep.replace('  LOG_LEVEL: logLevel', '  LOG_LEVEL:'))).toThrow()
  })

  it('sets ENTRA_TENANT_ID and ENTRA_AUDIENCE from required params', () => {
    expect(checkRequiredSettings(bicep)).toEqual([])
    const missing = bicep.replace('  ENTRA_AUDIENCE: entraAudience\n', '')
    expect(checkRequiredSettings(missing)).toEqual([
      'ENTRA_AUDIENCE: must be set from the required param entraAudience',
    ])
    const optional = bicep.replace('param entraTenantId string', "param entraTenantId string = ''")
    expect(checkRequiredSettings(optional)).toEqual([
      'ENTRA_TENANT_ID: must be set from the required param entraTenantId',
    ])
  })

  it('passes every secret as a Key Vault reference, never as a value', () => {
    expect(checkSecrets(bicep)).toEqual([])
    const plain = bicep.replace(
      "  SMTP_URL: empty(smtpUrl) ? '' : '${kvRefPrefix}smtp-url/)'",
      '  SMTP_URL: smtpUrl',
    )
    expect(checkSecrets(plain)).toEqual([
      'SMTP_URL: must be a Key Vault reference to a secret made from a @secure() param',
      'SMTP_URL: uses smtpUrl',
    ])
    const notSecure = bicep.replace(
      "@secure()\n@description('LOG_HASH_KEY",
      "@description('LOG_HASH_KEY",
    )
    expect(checkSecrets(notSecure)).toEqual([
      'LOG_HASH_KEY: must be a Key Vault reference to a secret made from a @secure() param',
    ])
    const wrongSecret = bicep.replace("name: 'sendgrid-api-key'", "name: 'sendgrid-key'")
    expect(checkSecrets(wrongSecret)).toEqual([
      'SENDGRID_API_KEY: must be a Key Vault reference to a secret made from a @secure() param',
    ])
  })

  it('maps every required param in main.parameters.json', () => {
    expect(checkParameterFile(bicep, parametersJson)).toEqual([])
    const json = JSON.parse(parametersJson) as { parameters: Record<string, unknown> }
    delete json.parameters.entraAudience
    json.parameters.unknownThing = { value: 'x' }
    expect(checkParameterFile(bicep, JSON.stringify(json))).toEqual([
      'entraAudience: required but not in main.parameters.json',
      'unknownThing: in main.parameters.json but not a param',
    ])
  })

  it('maps every optional param to its own default in main.parameters.json', () => {
    const json = JSON.parse(parametersJson) as { parameters: Record<string, { value: string }> }
    const { deployApim } = json.parameters
    delete json.parameters.deployApim
    expect(checkParameterFile(bicep, JSON.stringify(json))).toEqual([
      'deployApim: optional but not in main.parameters.json',
    ])
    json.parameters.deployApim = { value: (deployApim?.value ?? '').replace('=false', '=true') }
    json.parameters.logLevel = { value: 'info' }
    expect(checkParameterFile(bicep, JSON.stringify(json))).toEqual([
      "logLevel: main.parameters.json must default to the param's default ''",
      "deployApim: main.parameters.json must default to the param's default false",
    ])
  })

  it('keeps one instance always ready for the HTTP functions by default, on Node 22, 512 MB', () => {
    // Entra waits 1-2 s: a Flex app scaled to zero takes longer than that to answer its first call.
    const params = parseParams(bicep)
    expect(params.find((p) => p.name === 'alwaysReadyInstances')).toMatchObject({
      type: 'int',
      defaultValue: '1',
    })
    expect(params.find((p) => p.name === 'instanceMemoryMB')?.defaultValue).toBe('512')
    expect(params.find((p) => p.name === 'maximumInstanceCount')?.defaultValue).toBe('40')
    expect(bicep).toContain(
      "alwaysReady: alwaysReadyInstances > 0 ? [{ name: 'http', instanceCount: alwaysReadyInstances }] : []",
    )
    expect(bicep).toContain('maximumInstanceCount: maximumInstanceCount')
    expect(bicep).toContain('instanceMemoryMB: instanceMemoryMB')
    expect(bicep).toContain("runtime: { name: 'node', version: '22' }")
    // Rejected for Flex Consumption sites in some regions (error 51021).
    expect(bicep).not.toMatch(/^\s*ftpsState:/m)
  })

  it('reaches the shared OTP store with the identity: its own table endpoint, the table role', () => {
    expect(checkOtpStore(bicep)).toEqual([])
    expect(
      checkOtpStore(
        bicep.replace(
          "OTP_STORE_ENDPOINT: empty(otpStoreConnectionString) ? storage.properties.primaryEndpoints.table : ''",
          'OTP_STORE_ENDPOINT: storage.properties.primaryEndpoints.table',
        ),
      ),
    ).toEqual([
      "OTP_STORE_ENDPOINT: must be empty(otpStoreConnectionString) ? storage.properties.primaryEndpoints.table : ''",
    ])
    expect(
      checkOtpStore(
        bicep.replace(
          'scope: storage\n  name: guid(storage.id, identity.id, roles.storageTable',
          'scope: vault\n  name: guid(storage.id, identity.id, roles.storageTable',
        ),
      ),
    ).toEqual(['storageTableDataContributor: not granted to the identity on storage'])
    expect(checkOtpStore(bicep.replace('    tableContributor\n', ''))).toEqual([
      'storageTableDataContributor: the app settings do not wait for tableContributor',
    ])
  })

  it('sends telemetry with Entra tokens only: local auth off, the identity, the publisher role', () => {
    expect(checkTelemetryIdentity(bicep)).toEqual([])
    expect(checkTelemetryIdentity(bicep.replace('    DisableLocalAuth: true\n', ''))).toEqual([
      'appInsights: DisableLocalAuth must be true',
    ])
    expect(
      checkTelemetryIdentity(
        bicep.replace(
          "  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identity.properties.clientId}'\n",
          '',
        ),
      ),
    ).toEqual([
      "APPLICATIONINSIGHTS_AUTHENTICATION_STRING: must be 'Authorization=AAD;ClientId=${identity.properties.clientId}'",
    ])
    expect(checkTelemetryIdentity(bicep.replace('    metricsPublisher\n', ''))).toEqual([
      'monitoringMetricsPublisher: the app settings do not wait for metricsPublisher',
    ])
    expect(
      checkTelemetryIdentity(
        bicep.replace(
          "monitoringMetricsPublisher: '3913510d",
          "monitoringMetricsPublisher: '3913510e",
        ),
      ),
    ).toEqual([
      'roles.monitoringMetricsPublisher: not the built-in role 3913510d-42f4-4e42-8a64-420c390055eb',
    ])
  })

  it('requires HTTPS and TLS 1.2 everywhere', () => {
    expect(checkHardening(bicep)).toEqual([])
    expect(checkHardening(bicep.replace('httpsOnly: true', 'httpsOnly: false'))).toEqual([
      'missing httpsOnly: true',
    ])
  })

  it('azure.yaml deploys the package to a Function App from infra/', () => {
    expect(checkAzureYaml(azureYaml, bicep)).toEqual([])
    expect(checkAzureYaml(azureYaml.replace('path: infra', 'path: infrastructure'), bicep)).toEqual(
      ['infra: must be provider bicep at path infra'],
    )
    expect(checkAzureYaml(azureYaml.replace('host: function', 'host: appservice'), bicep)).toEqual([
      'services.api: must be project . on host function',
    ])
    expect(checkAzureYaml(azureYaml.replace('module: main', 'module: mian'), bicep)).toEqual([
      'infra: module file not found',
    ])
    expect(checkAzureYaml(azureYaml.replace('    dist: dist/deploy\n', ''), bicep)).toEqual([
      'services.api.dist: must be dist/deploy (the Functions bundle)',
    ])
    expect(() => parseYaml('services:\n   api: x\n')).toThrow(/bad indent/)
    expect(() => parseYaml('- item\n')).toThrow(/not a key/)
  })

  it('outputs one URL per event route', () => {
    expect(checkEventUrls(bicep)).toEqual([])
    expect(checkEventUrls(bicep.replace('/onOtpSend', '/onOtpSent'))).toHaveLength(1)
  })

  it("deploys API Management only when deployApim, with the endpoint's values and routes", () => {
    expect(checkApimModule(bicep, apimBicep)).toEqual([])
    expect(checkApimModule(bicep.replace(' = if (deployApim) {', ' = {'), apimBicep)).toEqual([
      "main.bicep: no `module apim 'modules/apim.bicep' = if (deployApim)`",
    ])
    expect(
      checkApimModule(
        bicep.replace('param deployApim bool = false', 'param deployApim bool = true'),
        apimBicep,
      ),
    ).toEqual(['deployApim: must be a bool param defaulting to false'])
    expect(
      checkApimModule(
        bicep.replace(
          '    entraAudience: entraAudience\n  }',
          '    entraAudience: entraIssuer\n  }',
        ),
        apimBicep,
      ),
    ).toEqual(['module apim: entraAudience must be entraAudience'])
    expect(
      checkApimModule(
        bicep.replace('    backendUrl: baseUrl\n', '    backendUrl: smtpUrl\n'),
        apimBicep,
      ),
    ).toEqual([
      'module apim: backendUrl must be baseUrl',
      'module apim: backendUrl passes a secure param',
    ])
    expect(
      checkApimModule(
        bicep,
        apimBicep.replace("loadJsonContent('../events.json')", '{ routes: [] }'),
      ),
    ).toEqual(["apim.bicep: missing var routes = loadJsonContent('../events.json').routes"])
    expect(
      checkApimModule(
        bicep,
        apimBicep.replace('subscriptionRequired: false', 'subscriptionRequired: true'),
      ),
    ).toEqual(['apim.bicep: missing subscriptionRequired: false'])
    expect(
      checkApimModule(bicep.replace('eventUrls.onOtpSend', 'eventUrls.onOtpSent'), apimBicep),
    ).toHaveLength(2)
    const inAzd = JSON.parse(parametersJson) as { parameters: Record<string, { value: string }> }
    expect(inAzd.parameters.deployApim?.value).toBe('${DEPLOY_APIM=false}')
  })

  it('validates issuer, audience and azp in well-formed policy XML, and forwards the token', () => {
    expect(checkApimPolicy(apimBicep)).toEqual([])
    expect(checkApimPolicy(apimBicep.replace('<claim name="azp"', '<claim name="appid"'))).toEqual([
      `required-claims: must require azp = ${ENTRA_EVENTS_APP_ID}`,
    ])
    expect(checkApimPolicy(apimBicep.replace('<value>99045fe1', '<value>99045fe2'))).toEqual([
      `required-claims: must require azp = ${ENTRA_EVENTS_APP_ID}`,
    ])
    expect(
      checkApimPolicy(apimBicep.replace('header-name="Authorization"', 'header-name="X-Token"')),
    ).toEqual(['validate-jwt: header-name must be Authorization'])
    expect(
      checkApimPolicy(
        apimBicep.replace('failed-validation-httpcode="401"', 'failed-validation-httpcode="403"'),
      ),
    ).toEqual(['validate-jwt: failed-validation-httpcode must be 401'])
    expect(checkApimPolicy(apimBicep.replace('</issuers>', '</issuer>'))).toEqual([
      'policy XML: </issuer> does not close <issuers>',
    ])
    expect(
      checkApimPolicy(apimBicep.replace('${xmlText(a)}</audience>', '${a}</audience>')),
    ).toEqual(['policy XML: apim.bicep: unescaped ${a}'])
    expect(
      checkApimPolicy(
        apimBicep.replace("'https://${tenantId}.ciamlogin.com/${tenantId}/v2.0'\n", ''),
      ),
    ).toEqual(["defaultIssuers: not the endpoint's defaults (src/config.ts)"])
    expect(
      checkApimPolicy(
        apimBicep.replace(
          '<base />\n    <validate-jwt',
          '<base />\n    <set-header name="Authorization" exists-action="delete" />\n    <validate-jwt',
        ),
      ),
    ).toEqual(['the Authorization header must be forwarded unchanged'])
    expect(() => parseXml('<a><b></a>')).toThrow(/does not close/)
    expect(() => parseXml('<a>x & y</a>')).toThrow(/bare &/)
    expect(() => parseXml('<a/><b/>')).toThrow(/second root/)
    expect(() => parseXml('<a x="1" x="2"/>')).toThrow(/duplicate/)
    expect(() => parseXml('<a>')).toThrow(/not closed/)
    expect(parseXml('<a t="&quot;"><!-- c --><b>1 &amp; 2</b></a>').children[0]?.text).toBe('1 & 2')
  })
})
