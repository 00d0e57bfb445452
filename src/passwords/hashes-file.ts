// PASSWORD_HASHES_FILE: the legacy system's users, one JSON object a line,
// {"username": "...", "hash": "..."}. Read once at start-up; a line that cannot be used is a
// configuration error naming its number, never its content (it holds a username and a hash).
import { HASH_COST_LIMITS, readHash, type ParsedHash } from './hash-formats.js'
import { readSettingFile } from '../read-setting-file.js'

/** Usernames compare case-insensitively: normalised once here, compared exactly afterwards. */
export const normaliseUsername = (username: string) => username.trim().toLowerCase()

const MAX_LINES = 1_000_000
const MAX_USERNAME = 320

/** What a refused hash's line says (never the hash). */
export const hashProblem = (refusal: 'unsupported' | 'too-costly') =>
  refusal === 'too-costly'
    ? `"hash" costs more than one check within the request budget allows (${HASH_COST_LIMITS})`
    : '"hash" is not in a supported format (docs/password-migration.md)'

/** The hashes by normalised username; problems are pushed naming the variable and line numbers. */
export function readHashesFile(
  path: string,
  problems: string[],
): ReadonlyMap<string, ParsedHash> | undefined {
  const text = readSettingFile(path, 'PASSWORD_HASHES_FILE', problems)
  if (text === undefined) return undefined
  const lines = text.split('\n')
  if (lines.length > MAX_LINES) {
    problems.push(`PASSWORD_HASHES_FILE: more than ${MAX_LINES} lines`)
    return undefined
  }
  const hashes = new Map<string, ParsedHash>()
  const before = problems.length
  lines.forEach((raw, index) => {
    const line = raw.trim()
    if (line === '') return
    const at = `PASSWORD_HASHES_FILE: line ${index + 1}`
    let entry: unknown
    try {
      entry = JSON.parse(line)
    } catch {
      problems.push(`${at}: not valid JSON`)
      return
    }
    const { username, hash } = (typeof entry === 'object' && entry !== null ? entry : {}) as {
      username?: unknown
      hash?: unknown
    }
    if (typeof username !== 'string' || username.trim() === '' || username.length > MAX_USERNAME) {
      problems.push(`${at}: "username" must be a string of 1-${MAX_USERNAME} characters`)
      return
    }
    if (typeof hash !== 'string') {
      problems.push(`${at}: "hash" must be a string`)
      return
    }
    const parsed = readHash(hash)
    if (typeof parsed === 'string') {
      problems.push(`${at}: ${hashProblem(parsed)}`)
      return
    }
    const key = normaliseUsername(username)
    if (hashes.has(key)) {
      problems.push(`${at}: the username appears on an earlier line`)
      return
    }
    hashes.set(key, parsed)
  })
  if (problems.length > before) return undefined
  return hashes
}
