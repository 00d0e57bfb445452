// External ID's password policy (docs/entra-contract.md §6b): 8-256 characters and at least three
// of lowercase, uppercase, digits and symbols. Entra's documented character set is ASCII letters,
// digits, these symbols and the space; a password with anything else cannot be stored as it is.
// A legacy password that passes is migrated; one that does not is sent through reset
// (UpdatePassword), which also avoids the native-auth error the docs describe for weak passwords.
// Entra's own check stays authoritative.
const ALLOWED = /^[A-Za-z0-9@#$%^&*\-_!+=[\]{}|\\:',.?/`~"();<> ]*$/
const CLASSES = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/]

export function meetsEntraPolicy(password: string): boolean {
  if (password.length < 8 || password.length > 256 || !ALLOWED.test(password)) return false
  return CLASSES.filter((pattern) => pattern.test(password)).length >= 3
}
