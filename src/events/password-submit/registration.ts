// What OnPasswordSubmit needs in Entra (contract §6b, preview): its extension and listener through
// Graph beta, the listener naming the apps; the certificate Entra encrypts the typed password to,
// on the extension's app (keyCredential usage Encrypt, tokenEncryptionKeyId); and the boolean
// directory extension property that marks the users still to migrate, which the listener's
// handler names as migrationPropertyId.
import type { EventRegistration } from '../event.js'

export const passwordSubmitRegistration: EventRegistration = {
  extensionType: '#microsoft.graph.onPasswordSubmitCustomExtension',
  listenerType: '#microsoft.graph.onPasswordSubmitListener',
  handlerType: '#microsoft.graph.onPasswordMigrationCustomExtensionHandler',
  graphVersion: 'beta',
  listenerNeedsApps: true,
  onlyWhenNamed: true,
  parts: ({ migrationPropertyName }) => [
    { kind: 'encryptionCertificate' },
    {
      kind: 'migrationProperty',
      name: migrationPropertyName,
      handlerProperty: 'migrationPropertyId',
    },
  ],
}
