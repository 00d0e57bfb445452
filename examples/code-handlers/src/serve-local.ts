// `npm run serve`: the same handlers on this machine, without Azure. Without ENTRA_TENANT_ID that
// is dev mode: an in-process issuer signs the tokens, and POST /api/dev/token hands one out.
import { createEvents } from './events.js'
import roles from './roles.json' with { type: 'json' }

const server = await createEvents({ roles }).serve()
process.stderr.write(
  `listening on ${server.url}/api/…${server.devIssuer === undefined ? '' : ' (dev mode)'}\n`,
)
const stop = () => void server.close().then(() => process.exit(0))
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
