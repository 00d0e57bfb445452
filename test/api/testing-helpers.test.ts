// entra-auth-extension/testing as a user's test suite meets it: quiet on success, and loud
// (warn and above) only when something went wrong.
import { describe, expect, it } from 'vitest'
import { authenticationEvents } from '../../functions/index.js'
import { invoke, sampleEvent } from '../../src/testing/index.js'
import { capturingLogger, type LogLine } from '../support/endpoint.js'

const devEnv = { PATH: process.env.PATH ?? '' }

describe('invoke()', () => {
  it('logs nothing below warn: no audit line per call in a test run', async () => {
    const logs: LogLine[] = []
    const events = authenticationEvents({ env: devEnv, log: capturingLogger(logs) }).onOtpSend(
      (_e, ctx) => ctx.continue(),
    )
    expect((await invoke(events, 'onOtpSend', sampleEvent('onOtpSend'))).status).toBe(200)
    expect(logs).toEqual([])
  })
})
