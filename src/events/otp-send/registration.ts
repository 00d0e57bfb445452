// What OnOtpSend needs in Entra (contract §7.3): its extension and listener, and, when the
// operator asks for it, the fallback to Microsoft's own sender on both (which of the two the
// service honours is UNCONFIRMED: set both).
import type { EventRegistration } from '../event.js'

export const otpSendRegistration: EventRegistration = {
  extensionType: '#microsoft.graph.onOtpSendCustomExtension',
  listenerType: '#microsoft.graph.onEmailOtpSendListener',
  handlerType: '#microsoft.graph.onOtpSendCustomExtensionHandler',
  parts: ({ otpFallback }) => (otpFallback ? [{ kind: 'fallbackToMicrosoft' }] : []),
}
