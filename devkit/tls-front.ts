/**
 * An https front for a local plain-http endpoint, so that tests can reach it the way the plugin
 * reaches real AWS: over TLS, and through a proxy with CONNECT. It terminates TLS with a throwaway
 * self-signed certificate for localhost and 127.0.0.1 (made by openssl, argument array, no shell) and pipes each
 * connection to the endpoint. A process trusts it with NODE_EXTRA_CA_CERTS=<caFile>.
 */
import execa from 'execa';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as tls from 'node:tls';

export interface TlsFront {
  /**
   * 'https://localhost:PORT': by name, as AWS endpoints are (https-proxy-agent checks a tunnelled
   * certificate against a host name; the server itself listens on 127.0.0.1 only).
   */
  url: string;
  port: number;
  /** The certificate, to trust (NODE_EXTRA_CA_CERTS). */
  caFile: string;
  close(): Promise<void>;
}

export async function startTlsFront(target: URL): Promise<TlsFront> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ktls-'));
  const keyFile = path.join(dir, 'key.pem');
  const caFile = path.join(dir, 'cert.pem');
  try {
    await execa(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', caFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
      { stdin: 'ignore', timeout: 30_000 },
    );
    const [key, cert] = await Promise.all([fs.readFile(keyFile), fs.readFile(caFile)]);
    const sockets = new Set<net.Socket>();
    const server = tls.createServer({ key, cert }, (socket) => {
      const upstream = net.connect({ host: target.hostname, port: Number(target.port) });
      for (const s of [socket, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {
          socket.destroy();
          upstream.destroy();
        });
      }
      socket.pipe(upstream).pipe(socket);
    });
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    server.unref();
    const port = (server.address() as net.AddressInfo).port;
    return {
      url: `https://localhost:${port}`,
      port,
      caFile,
      async close() {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
        await fs.rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
}
