/**
 * A forward proxy that misbehaves on purpose, for the tests of the plugin's proxy faults (the real
 * proxy, tinyproxy, is devkit/proxy.ts). Without a fault it is a working proxy: CONNECT opens a
 * tunnel, an absolute-URI request is forwarded. A fault meets CONNECTs and requests alike:
 *
 * - `silent`: takes the request and never answers;
 * - `close`: closes the connection when the request has arrived, without an answer;
 * - `status`: answers with that status (407 with Proxy-Authenticate) and an HTML page that names
 *   the user of the request's Proxy-Authorization, as some proxies' pages do.
 *
 * `times` limits how many requests a fault meets (default: all). Listens on 127.0.0.1 only; its
 * sockets do not keep the process alive.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { listenLocally } from './local-server';

export type ProxyFault = ({ mode: 'silent' } | { mode: 'close' } | { mode: 'status'; status: number }) & { times?: number };

export interface FaultProxy {
  /** 'http://127.0.0.1:PORT' (no credentials). */
  readonly url: string;
  readonly port: number;
  setFault(fault: ProxyFault | undefined): void;
  /** Every request line received, such as 'CONNECT localhost:4443' or 'POST http://127.0.0.1:4000/'. */
  readonly requests: string[];
  /** The users named by the requests' Proxy-Authorization headers. */
  readonly users: string[];
  close(): Promise<void>;
}

function userOf(req: http.IncomingMessage): string | undefined {
  const header = req.headers['proxy-authorization'];
  const match = typeof header === 'string' ? /^Basic\s+(\S+)$/i.exec(header) : null;
  return match ? Buffer.from(match[1], 'base64').toString('utf8').split(':', 1)[0] : undefined;
}

/** The proxy's own error page, naming the user it saw. */
function statusAnswer(status: number, user: string | undefined): string {
  const reason = http.STATUS_CODES[status] ?? 'Error';
  const body = `<html><body><p>Access denied for ${user ?? '(no user)'}.</p></body></html>\n`;
  const authenticate = status === 407 ? 'Proxy-Authenticate: Basic realm="kit"\r\n' : '';
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/html\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${authenticate}Connection: close\r\n\r\n${body}`;
}

export async function startFaultProxy(): Promise<FaultProxy> {
  let fault: (ProxyFault & { left: number }) | undefined;
  const requests: string[] = [];
  const users: string[] = [];

  /** The fault this request meets, if any (and counts it). */
  const take = (req: http.IncomingMessage): ProxyFault | undefined => {
    requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
    const user = userOf(req);
    if (user !== undefined) users.push(user);
    if (fault === undefined || fault.left <= 0) return undefined;
    fault.left -= 1;
    return fault;
  };

  /** Meets the fault on the raw socket; false when there is none. */
  const misbehave = (req: http.IncomingMessage, socket: net.Socket): boolean => {
    const current = take(req);
    if (current === undefined) return false;
    if (current.mode === 'close') socket.destroy();
    else if (current.mode === 'status') socket.end(statusAnswer(current.status, userOf(req)));
    return true;
  };

  const server = http.createServer((req, res) => {
    if (misbehave(req, req.socket)) return;
    const target = new URL(req.url ?? '/');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = http.request(
      { host: target.hostname, port: Number(target.port || 80), method: req.method, path: `${target.pathname}${target.search}`, headers, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    socket.on('error', () => undefined);
    if (misbehave(req, socket)) return;
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect({ host, port: Number(port) }, () => {
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.unref();
    upstream.on('error', () => socket.destroy());
    // The tunnel ends with the client's connection, which close() destroys.
    socket.on('close', () => upstream.destroy());
  });
  const { url, port, close } = await listenLocally(server);
  return {
    url,
    port,
    setFault(next) {
      fault = next ? { ...next, left: next.times ?? Infinity } : undefined;
    },
    requests,
    users,
    close,
  };
}
