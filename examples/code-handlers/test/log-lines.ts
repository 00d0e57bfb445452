// A logger that keeps every line, to check what the handlers log (and what they never do).
import type { Logger } from 'entra-auth-extension'

export function keptLines(lines: string[]): Logger {
  const keep = (level: string) => (event: string, fields?: object) =>
    void lines.push(JSON.stringify({ level, event, ...fields }))
  return { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') }
}
