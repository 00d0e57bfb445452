// The input of `import-users`: JSON lines, one user each,
//   {"email": "...", "displayName"?: "...", "hash": "..."}  or  {"username": "...", ...}
// with the hash in a format the endpoint verifies (src/passwords/hash-formats.ts). The whole file is
// checked before anything is sent: a problem names its line number and what is wrong, never the
// line's content (it holds an address and a hash).
import { readHash } from '../../src/passwords/hash-formats.js'
import { hashProblem } from '../../src/passwords/hashes-file.js'
import { normaliseUsername } from '../../src/passwords/hashes-file.js'

export type SignInType = 'emailAddress' | 'userName'

export interface UserToImport {
  /** 1-based line number in the input: reports name users by it. */
  readonly line: number
  /** What the user types to sign in: the identity's issuerAssignedId and the hash store's username. */
  readonly signInName: string
  readonly signInType: SignInType
  readonly displayName: string
  readonly hash: string
}

const MAX_LINES = 1_000_000
const MAX_LINE_LENGTH = 8192
/** Graph's limit on an identity's issuerAssignedId. */
const MAX_SIGN_IN_NAME = 64
const MAX_DISPLAY_NAME = 256
const EMAIL = /^[^\s@]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/
/** Graph's rule for a userName identity: a letter or digit, then letters, digits, - and _. */
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/
const KEYS = new Set(['username', 'email', 'displayName', 'hash'])

export function parseUsers(text: string): { users: UserToImport[]; problems: string[] } {
  const users: UserToImport[] = []
  const problems: string[] = []
  const lines = text.split('\n')
  if (lines.length > MAX_LINES) return { users, problems: [`more than ${MAX_LINES} lines`] }
  const seen = new Map<string, number>()
  lines.forEach((raw, index) => {
    const line = index + 1
    if (raw.trim() === '') return
    const read = readLine(raw.trim(), line)
    if (typeof read === 'string') {
      problems.push(`line ${line}: ${read}`)
      return
    }
    const key = normaliseUsername(read.signInName)
    const earlier = seen.get(key)
    if (earlier !== undefined)
      problems.push(`line ${line}: the same sign-in name as line ${earlier}`)
    else {
      seen.set(key, line)
      users.push(read)
    }
  })
  return { users, problems }
}

/** One line's user, or what is wrong with it. */
function readLine(trimmed: string, line: number): UserToImport | string {
  if (trimmed.length > MAX_LINE_LENGTH) return `longer than ${MAX_LINE_LENGTH} characters`
  let entry: unknown
  try {
    entry = JSON.parse(trimmed)
  } catch {
    return 'not valid JSON'
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    return 'not a JSON object'
  const fields = entry as Record<string, unknown>
  const unknown = Object.keys(fields).filter((k) => !KEYS.has(k))
  if (unknown.length > 0)
    return `unknown field ${/^[\w.-]{1,40}$/.test(unknown[0]!) ? `"${unknown[0]}"` : '(unprintable)'} (username or email, displayName, hash)`
  const { username, email, displayName, hash } = fields
  if ((username === undefined) === (email === undefined))
    return 'needs exactly one of "username" and "email"'
  const name = username ?? email
  if (typeof name !== 'string' || name.trim() === '' || name.trim().length > MAX_SIGN_IN_NAME)
    return `"${username === undefined ? 'email' : 'username'}" must be a string of 1-${MAX_SIGN_IN_NAME} characters`
  const signInName = name.trim()
  const signInType: SignInType | undefined = EMAIL.test(signInName)
    ? 'emailAddress'
    : email === undefined && USER_NAME.test(signInName)
      ? 'userName'
      : undefined
  if (signInType === undefined)
    return email === undefined
      ? '"username" is neither an e-mail address nor a user name (letters, digits, - and _)'
      : '"email" is not an e-mail address'
  if (
    displayName !== undefined &&
    (typeof displayName !== 'string' ||
      displayName.trim() === '' ||
      displayName.length > MAX_DISPLAY_NAME)
  )
    return `"displayName" must be a string of 1-${MAX_DISPLAY_NAME} characters`
  if (typeof hash !== 'string') return '"hash" must be a string'
  const read = readHash(hash)
  if (typeof read === 'string') return hashProblem(read)
  return {
    line,
    signInName,
    signInType,
    displayName: displayName?.trim() ?? signInName.split('@')[0]!,
    hash,
  }
}
