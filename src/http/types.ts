// The host-neutral request and reply. Node's IncomingMessage (wrapped by serve-local) and the Azure
// Functions HttpRequest both satisfy IncomingCall without copying the body.

export interface IncomingCall {
  readonly method: string
  readonly headers: { get(name: string): string | null }
  /** Read at most once, only after the caller is authenticated. */
  readonly body: AsyncIterable<Uint8Array> | null
}

export interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}
