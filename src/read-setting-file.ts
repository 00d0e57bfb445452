// A file a setting names (EXTENSION_CONFIG, PASSWORD_HASHES_FILE, a key): its text, or a problem
// that names the setting and says why, never the file's content.
import { readFileSync } from 'node:fs'

/** `label` starts the problem: "EXTENSION_CONFIG: /path", "PASSWORD_HASHES_FILE". */
export function readSettingFile(
  path: string,
  label: string,
  problems: string[],
): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT'
    problems.push(`${label}: ${missing ? 'file not found' : 'cannot be read'}`)
    return undefined
  }
}
