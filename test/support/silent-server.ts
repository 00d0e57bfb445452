// A TCP server on loopback that accepts connections and never says a word: a dependency that is
// up but hangs (a table store, a token endpoint). close() ends the connections it holds.
import { createServer, type AddressInfo, type Socket } from 'node:net'

export interface SilentServer {
  readonly port: number
  /** How many connections it accepted. */
  readonly connections: () => number
  close(): Promise<void>
}

export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>()
  let accepted = 0
  const server = createServer((socket) => {
    accepted += 1
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
