// Structured logging. Fields are primitives only, so a body, token or claims object cannot be
// logged by accident. Never pass a token, passcode, e-mail address, UPN, IP or claim value.

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** What every host provides. Implementations must not throw. */
export interface Logger {
  debug(event: string, fields?: LogFields): void
  info(event: string, fields?: LogFields): void
  warn(event: string, fields?: LogFields): void
  error(event: string, fields?: LogFields): void
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

/** One JSON object per line, written with `write` (stdout for the local host). */
export function createJsonLogger(
  write: (line: string) => void,
  minLevel: LogLevel = 'info',
  now: () => number = Date.now,
): Logger {
  const at = (level: LogLevel) =>
    RANK[level] < RANK[minLevel]
      ? () => undefined
      : (event: string, fields?: LogFields) =>
          write(
            `${JSON.stringify({ time: new Date(now()).toISOString(), level, event, ...fields })}\n`,
          )
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/**
 * The same logger with `fields` added to every line (a request's correlation ID). A line's own
 * fields come last and win.
 */
export function withFields(log: Logger, fields: LogFields): Logger {
  return {
    debug: (event, own) => log.debug(event, { ...fields, ...own }),
    info: (event, own) => log.info(event, { ...fields, ...own }),
    warn: (event, own) => log.warn(event, { ...fields, ...own }),
    error: (event, own) => log.error(event, { ...fields, ...own }),
  }
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
}
