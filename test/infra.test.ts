// The deployment (infra/main.bicep, azure.yaml) cannot drift from the code: offline text checks,
// no Bicep compiler. Each check is a function returning problems; the real files must give none,
// and a mutated copy must give the expected one, so that no check passes vacuously.
import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { EnvSchema } from '../src/config.js'
import { EVENT_ROUTE_NAMES } from '../src/events/routes.js'

const root = new URL('../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')
const bicep = read('infra/main.bicep')
const parametersJson = read('infra/main.parameters.json')
const azureYaml = read('azure.yaml')

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

type Param = { name: string; type: string; hasDefault: boolean; secure: boolean }

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
  return [
    ...params
      .filter((p) => !p.hasDefault && !(p.name in entries))
      .map((p) => `${p.name}: required but not in main.parameters.json`),
    ...Object.keys(entries)
      .filter((key) => !params.some((p) => p.name === key))
      .map((key) => `${key}: in main.parameters.json but not a param`),
  ]
}

function checkHardening(text: string): string[] {
  const expected = [
    'httpsOnly: true',
    "minTlsVersion: '1.2'",
    "ftpsState: 'Disabled'",
    "minimumTlsVersion: 'TLS1_2'",
    'allowBlobPublicAccess: false',
    'supportsHttpsTrafficOnly: true',
    'enableRbacAuthorization: true',
    'enablePurgeProtection: true',
  ]
  return expected.filter((line) => !text.includes(line)).map((line) => `missing ${line}`)
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
  else if (api.language !== 'js' && api.language !== 'ts')
    problems.push('services.api.language: must be js or ts')
  if (!text.includes("'azd-service-name': 'api'")) problems.push('no Function App tagged for api')
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
    expect(() => parseYaml('services:\n   api: x\n')).toThrow(/bad indent/)
    expect(() => parseYaml('- item\n')).toThrow(/not a key/)
  })

  it('outputs one URL per event route', () => {
    expect(checkEventUrls(bicep)).toEqual([])
    expect(checkEventUrls(bicep.replace('/onOtpSend', '/onOtpSent'))).toHaveLength(1)
  })
})
