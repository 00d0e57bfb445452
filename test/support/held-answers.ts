// What the stand-ins' "slow" and "hang" faults hold back: an answer sent after a delay, or never,
// and both ended by the stand-in's close() so that no test leaves a timer or a socket behind.
import type { ServerResponse } from 'node:http'

export interface HeldAnswers {
  /** Runs `answer` after `delayMs`, unless the client has gone or close() came first. */
  later(res: ServerResponse, delayMs: number, answer: () => void): void
  /** Never answers; the response is destroyed by close() if the client has not gone. */
  hang(res: ServerResponse): void
  /** Clears the timers and destroys the held responses. */
  close(): void
}

export function heldAnswers(): HeldAnswers {
  const open = new Set<ServerResponse>()
  const timers = new Set<NodeJS.Timeout>()
  return {
    later(res, delayMs, answer) {
      open.add(res)
      const timer = setTimeout(() => {
        timers.delete(timer)
        open.delete(res)
        if (!res.destroyed) answer()
      }, delayMs)
      timers.add(timer)
    },
    hang(res) {
      open.add(res)
      res.on('close', () => open.delete(res))
    },
    close() {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      for (const res of open) res.destroy()
      open.clear()
    },
  }
}
