// An SMTP stand-in on loopback (the `smtp-server` package: the real protocol, replies and TLS),
// for the OnOtpSend e-mail delivery over SMTP. It records every message it accepts, with its
// envelope, its raw RFC 5322 source and the parts a test checks (subject, text, html), and
// answers as the test tells it to: accept; reject at a stage with a reply code (550, 451…);
// stall (never answer) at a stage; drop (destroy the socket) at a stage.
//
// TLS is the test CA's server certificate (test-ca.ts), which the workers trust through
// NODE_EXTRA_CA_CERTS: STARTTLS is offered by default, `tls: 'implicit'` serves SMTPS, and
// `tls: 'none'` offers no TLS at all. With `auth`, AUTH is required before MAIL FROM; over
// STARTTLS it is refused (538) until the connection is upgraded, as a real submission server does.
import type { AddressInfo, Socket } from 'node:net'
import {
  SMTPServer,
  type SMTPServerDataStream,
  type SMTPServerError,
  type SMTPServerSession,
} from 'smtp-server'
import { testTls } from './test-ca.js'

/**
 * Where a mode applies: `connect` is before the greeting, `auth` the AUTH command, `mail` MAIL
 * FROM, `rcpt` RCPT TO, `data` the reply after the message body (after the final ".").
 */
export type SmtpStage = 'connect' | 'auth' | 'mail' | 'rcpt' | 'data'

export type SmtpMode =
  /** Every stage answers positively (the default). */
  | { readonly kind: 'accept' }
  /** Answers `code` (and `message`) at `stage`: 550, 552, 554 (permanent), 421, 451 (transient)… */
  | {
      readonly kind: 'reject'
      readonly stage: SmtpStage
      readonly code: number
      readonly message?: string
    }
  /** Never answers at `stage`; the connection stays open until the client gives up or close(). */
  | { readonly kind: 'stall'; readonly stage: SmtpStage }
  /** Destroys the socket at `stage` without a reply. At `data`, after the whole body arrived. */
  | { readonly kind: 'drop'; readonly stage: SmtpStage }

export interface SmtpMessage {
  /** MAIL FROM ('' for the null sender). */
  readonly from: string
  /** RCPT TO, in order. */
  readonly to: readonly string[]
  /** The message as received (dot-unstuffed), CRLF line ends. */
  readonly raw: string
  /** Header fields by lower-case name, unfolded, encoded words left as they are. */
  readonly headers: ReadonlyMap<string, readonly string[]>
  /** Subject, encoded words decoded. */
  readonly subject: string | undefined
  /** The first text/plain part, transfer encoding and charset decoded. */
  readonly text: string | undefined
  /** The first text/html part, decoded likewise. */
  readonly html: string | undefined
  /** The AUTH user, when the session authenticated. */
  readonly user: string | undefined
  /** Whether the session was on TLS (STARTTLS or implicit) when the message was sent. */
  readonly secure: boolean
}

export interface SmtpServerOptions {
  /** AUTH PLAIN/LOGIN is required with these credentials; without it AUTH is not offered. */
  readonly auth?: { readonly user: string; readonly pass: string }
  /** 'starttls' (default): STARTTLS offered; 'implicit': SMTPS; 'none': plain text only. */
  readonly tls?: 'starttls' | 'implicit' | 'none'
}

export interface SmtpCounts {
  /** TCP connections accepted. */
  connections: number
  /** Successful AUTH commands. */
  authenticated: number
  /** Message bodies received in full (whatever the reply after them: accepted, rejected, none). */
  bodies: number
}

export interface SmtpStandIn {
  readonly host: '127.0.0.1'
  readonly port: number
  /** Whether the port speaks TLS from the first byte (SMTPS). */
  readonly secure: boolean
  /** smtp://127.0.0.1:port (smtps:// with implicit TLS), no credentials. */
  readonly url: string
  /** The URL with credentials (defaulting to the configured ones) and any query parameters. */
  smtpUrl(options?: {
    readonly user?: string
    readonly pass?: string
    readonly query?: Readonly<Record<string, string>>
  }): string
  /** The messages accepted (answered 250 after DATA), in order. */
  readonly messages: SmtpMessage[]
  readonly counts: Readonly<SmtpCounts>
  /** How the following sessions are answered; `times` limits it to that many triggers. */
  mode(mode: SmtpMode, options?: { readonly times?: number }): void
  /** Forgets messages and counts, and accepts again. */
  reset(): void
  /** Destroys every connection and stops listening. */
  close(): Promise<void>
}

const ACCEPT: SmtpMode = { kind: 'accept' }

function smtpError(code: number, message: string): SMTPServerError {
  const error: SMTPServerError = new Error(message)
  error.responseCode = code
  return error
}

const DEFAULT_TEXT: Readonly<Record<SmtpStage, string>> = {
  connect: 'Service not available',
  auth: 'Authentication failed',
  mail: 'Sender rejected',
  rcpt: 'Mailbox unavailable',
  data: 'Message rejected',
}

export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<SmtpStandIn> {
  const { cert, key } = await testTls()
  const tlsMode = options.tls ?? 'starttls'
  const auth = options.auth
  const messages: SmtpMessage[] = []
  const counts: SmtpCounts = { connections: 0, authenticated: 0, bodies: 0 }
  const sockets = new Map<string, Socket>() // by remote address:port, to drop or close them
  let current: SmtpMode = ACCEPT
  let remaining: number | undefined

  /** The mode if it applies at `stage` (counting one trigger against `times`), or undefined. */
  const triggered = (stage: SmtpStage): Exclude<SmtpMode, { kind: 'accept' }> | undefined => {
    const mode = current
    if (mode.kind === 'accept' || mode.stage !== stage) return undefined
    if (remaining !== undefined) {
      remaining -= 1
      if (remaining <= 0) {
        current = ACCEPT
        remaining = undefined
      }
    }
    return mode
  }

  const socketOf = (session: SMTPServerSession): Socket | undefined =>
    sockets.get(`${session.remoteAddress}:${session.remotePort}`)

  /** Applies the mode at `stage`; true when it answered (or chose never to), false to go on. */
  const intervene = (
    stage: SmtpStage,
    session: SMTPServerSession,
    callback: (err?: Error | null) => void,
  ): boolean => {
    const mode = triggered(stage)
    if (mode === undefined) return false
    switch (mode.kind) {
      case 'reject':
        callback(smtpError(mode.code, mode.message ?? DEFAULT_TEXT[stage]))
        return true
      case 'stall':
        return true
      case 'drop':
        socketOf(session)?.destroy()
        return true
    }
  }

  const server = new SMTPServer({
    secure: tlsMode === 'implicit',
    key,
    cert,
    // Hiding STARTTLS from EHLO is not enough: smtp-server would still take the command.
    hideSTARTTLS: tlsMode === 'none',
    disabledCommands: [
      ...(auth === undefined ? ['AUTH'] : []),
      ...(tlsMode === 'none' ? ['STARTTLS'] : []),
    ],
    logger: false,
    banner: 'smtp stand-in',
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: auth === undefined,
    // Plain text offers no upgrade: AUTH must then be allowed in the clear to be possible at all.
    allowInsecureAuth: tlsMode === 'none',
    closeTimeout: 100,
    disableReverseLookup: true, // no DNS for 127.0.0.1 (it could take 1.5 s to give up)
    onConnect(session, callback) {
      if (!intervene('connect', session, callback)) callback()
    },
    onAuth(authentication, session, callback) {
      if (intervene('auth', session, (err) => callback(err))) return
      if (
        auth !== undefined &&
        authentication.username === auth.user &&
        authentication.password === auth.pass
      ) {
        counts.authenticated += 1
        callback(null, { user: auth.user })
        return
      }
      callback(smtpError(535, 'Authentication credentials invalid'))
    },
    onMailFrom(_address, session, callback) {
      if (!intervene('mail', session, callback)) callback()
    },
    onRcptTo(_address, session, callback) {
      if (!intervene('rcpt', session, callback)) callback()
    },
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        counts.bodies += 1
        if (intervene('data', session, callback)) return
        const raw = Buffer.concat(chunks).toString('utf8')
        const from = session.envelope.mailFrom
        const user: unknown = session.user
        messages.push({
          from: from === false ? '' : from.address,
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw,
          user: typeof user === 'string' ? user : undefined,
          secure: session.secure,
          ...parseMessage(raw),
        })
        callback(null, 'OK: queued')
      })
    },
  })
  server.on('error', () => {}) // a destroyed socket mid-command is expected here
  server.server.on('connection', (socket: Socket) => {
    counts.connections += 1
    const id = `${socket.remoteAddress}:${socket.remotePort}`
    sockets.set(id, socket)
    socket.on('close', () => sockets.delete(id))
  })

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.server.address() as AddressInfo).port
  const scheme = tlsMode === 'implicit' ? 'smtps' : 'smtp'
  const url = `${scheme}://127.0.0.1:${port}`

  return {
    host: '127.0.0.1',
    port,
    secure: tlsMode === 'implicit',
    url,
    smtpUrl(urlOptions = {}) {
      const user = urlOptions.user ?? auth?.user
      const pass = urlOptions.pass ?? auth?.pass
      const credentials =
        user === undefined
          ? ''
          : `${encodeURIComponent(user)}${pass === undefined ? '' : `:${encodeURIComponent(pass)}`}@`
      const query = new URLSearchParams(urlOptions.query ?? {}).toString()
      return `${scheme}://${credentials}127.0.0.1:${port}${query === '' ? '' : `?${query}`}`
    },
    messages,
    counts,
    mode(mode, modeOptions = {}) {
      current = mode
      remaining = mode.kind === 'accept' ? undefined : modeOptions.times
    },
    reset() {
      current = ACCEPT
      remaining = undefined
      messages.length = 0
      counts.connections = 0
      counts.authenticated = 0
      counts.bodies = 0
    },
    close() {
      for (const socket of sockets.values()) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

// ---------------------------------------------------------------------------------------------
// A minimal MIME reader: enough for what nodemailer (and the usual mailers) write — a single
// part or nested multiparts, 7bit/8bit/quoted-printable/base64, RFC 2047 encoded words.

interface Part {
  readonly headers: Map<string, string[]>
  readonly body: string
}

function splitPart(source: string): Part {
  const match = /\r?\n\r?\n/.exec(source)
  const head = match === null ? source : source.slice(0, match.index)
  const body = match === null ? '' : source.slice(match.index + match[0].length)
  const headers = new Map<string, string[]>()
  for (const line of head.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const values = headers.get(name) ?? []
    values.push(line.slice(colon + 1).trim())
    headers.set(name, values)
  }
  return { headers, body }
}

function contentType(part: Part): { type: string; params: Map<string, string> } {
  const value = part.headers.get('content-type')?.[0] ?? 'text/plain; charset=us-ascii'
  const [type = '', ...rest] = value.split(';')
  const params = new Map<string, string>()
  for (const param of rest) {
    const eq = param.indexOf('=')
    if (eq < 0) continue
    const name = param.slice(0, eq).trim().toLowerCase()
    let text = param.slice(eq + 1).trim()
    if (text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1).replace(/\\(.)/g, '$1')
    params.set(name, text)
  }
  return { type: type.trim().toLowerCase(), params }
}

function charsetDecode(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes)
  } catch {
    return bytes.toString('utf8')
  }
}

function quotedPrintableBytes(text: string): Buffer {
  const unfolded = text.replace(/=\r?\n/g, '')
  const bytes: number[] = []
  for (let i = 0; i < unfolded.length; i += 1) {
    const hex = unfolded.slice(i + 1, i + 3)
    if (unfolded[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16))
      i += 2
    } else {
      bytes.push(...Buffer.from(unfolded[i] ?? '', 'utf8'))
    }
  }
  return Buffer.from(bytes)
}

function decodeBody(part: Part, charset: string | undefined): string {
  const encoding = (part.headers.get('content-transfer-encoding')?.[0] ?? '7bit').toLowerCase()
  switch (encoding) {
    case 'base64':
      return charsetDecode(Buffer.from(part.body.replace(/\s+/g, ''), 'base64'), charset)
    case 'quoted-printable':
      return charsetDecode(quotedPrintableBytes(part.body), charset)
    default:
      return part.body
  }
}

/** Decodes RFC 2047 encoded words (=?charset?B|Q?text?=), joining adjacent ones. */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?[^?]+\?[BbQq]\?[^?]*\?=)/g, '$1')
    .replace(
      /=\?([^?*]+)(?:\*[^?]*)?\?([BbQq])\?([^?]*)\?=/g,
      (_word, charset: string, kind: string, text: string) => {
        const bytes =
          kind.toUpperCase() === 'B'
            ? Buffer.from(text, 'base64')
            : quotedPrintableBytes(text.replace(/_/g, ' '))
        return charsetDecode(bytes, charset)
      },
    )
}

/** The leaf parts, depth first. */
function leaves(part: Part, depth = 0): Part[] {
  const { type, params } = contentType(part)
  const boundary = params.get('boundary')
  if (!type.startsWith('multipart/') || boundary === undefined || depth > 10) return [part]
  const delimiter = `--${boundary}`
  const sections = part.body.split(new RegExp(`\\r?\\n?${escapeRegExp(delimiter)}`))
  const found: Part[] = []
  // sections[0] is the preamble; a section starting with "--" is the close delimiter's epilogue.
  for (const section of sections.slice(1)) {
    if (section.startsWith('--')) break
    found.push(...leaves(splitPart(section.replace(/^[ \t]*\r?\n/, '')), depth + 1))
  }
  return found
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Headers, subject, and the first text/plain and text/html parts of a message. */
export function parseMessage(
  raw: string,
): Pick<SmtpMessage, 'headers' | 'subject' | 'text' | 'html'> {
  const top = splitPart(raw)
  const subject = top.headers.get('subject')?.[0]
  let text: string | undefined
  let html: string | undefined
  for (const leaf of leaves(top)) {
    const { type, params } = contentType(leaf)
    const disposition = leaf.headers.get('content-disposition')?.[0]?.toLowerCase() ?? ''
    if (disposition.startsWith('attachment')) continue
    if (type === 'text/plain' && text === undefined) text = decodeBody(leaf, params.get('charset'))
    if (type === 'text/html' && html === undefined) html = decodeBody(leaf, params.get('charset'))
  }
  return {
    headers: top.headers,
    subject: subject === undefined ? undefined : decodeEncodedWords(subject),
    text,
    html,
  }
}
