/**
 * How every server of the kit listens: on 127.0.0.1 only, at a free port, never keeping the process
 * alive (the server and each connection it accepts are unref'd), and with its connections tracked,
 * so that close() ends them all: server.close() alone waits for busy and idle keep-alive ones.
 */
import type { AddressInfo, Server, Socket } from 'node:net';

export interface LocalServer {
  /** 'http://127.0.0.1:<port>' */
  url: string;
  port: number;
  /** Connections clients hold open right now (an idle keep-alive one counts). */
  openConnections: () => number;
  /** Connections accepted so far. */
  acceptedConnections: () => number;
  /** Stops listening and destroys every open connection; the same promise each time. */
  close: () => Promise<void>;
}

export async function listenLocally(server: Server): Promise<LocalServer> {
  const open = new Set<Socket>();
  let accepted = 0;
  server.on('connection', (socket: Socket) => {
    accepted += 1;
    socket.unref();
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    // A client that goes away in the middle of an exchange is no fault of the kit's.
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    openConnections: () => open.size,
    acceptedConnections: () => accepted,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        for (const socket of open) socket.destroy();
      });
      return closing;
    },
  };
}
