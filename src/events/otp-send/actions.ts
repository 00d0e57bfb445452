// Pure builder of the OnOtpSend answer (contract §6): sent once the mail is handed to the provider.
import { OTP_SEND_CONTINUE, OTP_SEND_RESPONSE_DATA, type OtpSendResponse } from './schema.js'

export const otpSent = (): OtpSendResponse => ({
  data: {
    '@odata.type': OTP_SEND_RESPONSE_DATA,
    actions: [{ '@odata.type': OTP_SEND_CONTINUE }],
  },
})
