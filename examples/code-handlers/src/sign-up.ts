// External ID sign-up: OnAttributeCollectionStart prefills the language from the browser's locale,
// OnAttributeCollectionSubmit checks a Swedish postal code and writes it as "211 20". Logs
// outcomes, never what the user typed.
import type { HandlerOf } from 'entra-auth-extension'

/** A custom attribute's name carries the extension app's ID: extension_<appId>_language. */
const LANGUAGE = /^extension_[0-9a-f]{32}_language$/

export const prefillLanguage: HandlerOf<'onAttributeCollectionStart'> = (event, ctx) => {
  const name = Object.keys(event.attributes).find((attribute) => LANGUAGE.test(attribute))
  const language = event.locale?.split('-')[0]
  if (name === undefined || language === undefined || language === '') return ctx.continue()
  return ctx.setPrefillValues({ [name]: language })
}

const POSTAL_CODE = /^(\d{3}) ?(\d{2})$/

export const checkPostalCode: HandlerOf<'onAttributeCollectionSubmit'> = (event, ctx) => {
  const value = event.attributes.postalCode
  if (value === undefined) return ctx.continue()
  const match = typeof value === 'string' ? POSTAL_CODE.exec(value.trim()) : null
  if (match === null) {
    ctx.log.info('postal_code_rejected')
    const sv = event.locale?.startsWith('sv') === true
    return ctx.showValidationError(
      sv ? 'Kontrollera det markerade fältet.' : 'Please check the highlighted field.',
      { postalCode: sv ? 'Fem siffror, som i 211 20.' : 'Five digits, as in 211 20.' },
    )
  }
  const written = `${match[1]} ${match[2]}`
  return written === value ? ctx.continue() : ctx.modifyAttributeValues({ postalCode: written })
}
