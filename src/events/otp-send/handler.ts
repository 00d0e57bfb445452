// OnOtpSend. No mail provider exists yet (its own issue): answer 503 ERR_NOT_CONFIGURED, so that a
// listener configured with fallbackToMicrosoftProviderOnError makes Entra send its own e-mail.
import { EndpointError } from '../../errors.js'
import type { HandlerContext } from '../handler-context.js'
import type { OtpSendEvent, OtpSendResponse } from './schema.js'

export function createOtpSendHandler() {
  return function handleOtpSend(
    _event: OtpSendEvent,
    _context: HandlerContext,
  ): Promise<OtpSendResponse> {
    return Promise.reject(
      new EndpointError('ERR_NOT_CONFIGURED', 'no e-mail provider is configured for OnOtpSend'),
    )
  }
}
