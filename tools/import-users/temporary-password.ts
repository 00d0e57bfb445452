// The temporary password each imported user is created with: 32 characters from crypto's CSPRNG,
// at least one of each of External ID's four classes (src/passwords/strength.ts), so nobody can
// guess it and Entra accepts it. Nobody is told it: the user's first sign-in with their legacy
// password does not match it, which is what makes Entra call OnPasswordSubmit.
import { randomInt } from 'node:crypto'

const CLASSES = [
  'abcdefghijklmnopqrstuvwxyz',
  'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  '0123456789',
  '!@#$%^&*-_+=?.,:;~',
] as const
const ALL = CLASSES.join('')

export function temporaryPassword(length = 32): string {
  const chars = CLASSES.map((set) => set[randomInt(set.length)]!)
  while (chars.length < length) chars.push(ALL[randomInt(ALL.length)]!)
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1)
    ;[chars[i], chars[j]] = [chars[j]!, chars[i]!]
  }
  return chars.join('')
}
