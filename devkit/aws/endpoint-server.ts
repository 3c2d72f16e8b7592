/**
 * The local AWS endpoint's HTTP server: on 127.0.0.1 at a free port, never holding the process
 * open, counting the connections clients hold. Each request goes to the first service that claims
 * it, unless a fault mode is set for that service: then the server hangs (reads the request, never
 * answers) or answers with an HTML page, as a broken proxy or load balancer would.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocally } from '../local-server';

/** What the endpoint does instead of answering: nothing at all, or an HTML page with this status. */
export type EndpointFault = { mode: 'hang' } | { mode: 'html'; status: number; /** Default text/html; a gateway may label its page as another service's type. */ contentType?: string };

/** One API the endpoint serves (ECR's JSON, STS's query protocol, ...). */
export interface EndpointService<Name extends string> {
  /** What fault modes and `faulted` call it. */
  name: Name;
  /** Whether this service answers the request, judged by its headers (the body is not read yet). */
  claims(req: IncomingMessage): boolean;
  answer(req: IncomingMessage, res: ServerResponse, requestId: string): void;
}

export interface EndpointServer<Name extends string> {
  /** 'http://127.0.0.1:<port>' */
  url: string;
  /** Requests met by a fault (hung or answered with HTML), by service. */
  faulted: Name[];
  /** From now on, requests to `service` (default: all) meet `fault`; undefined restores normal answers. */
  setFault(fault: EndpointFault | undefined, service?: Name): void;
  /** Connections clients hold open right now (an idle keep-alive one counts). */
  openConnections(): number;
  close(): Promise<void>;
}

// AWS requests are tiny; the cap only protects the test process from a runaway client.
const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor() {
    super('Request body is too large');
  }
}

/** A request header as one string (repeated ones joined with commas). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The whole request body, at most MAX_BODY_BYTES. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => (size > MAX_BODY_BYTES ? reject(new BodyTooLargeError()) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

/** What a broken proxy, load balancer or captive portal sends instead of the service's answer (on any status, 200 too). */
function htmlPage(status: number): string {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  return (
    `<!DOCTYPE html>\n<html>\n<head><title>${title}</title>\n<style>body { font-family: sans-serif; }</style></head>\n` +
    `<body>\n<h1>${title}</h1>\n<p>Blocked\u0000 by the network policy of this site. ` +
    `Contact your administrator.</p>\n${'<!-- padding -->\n'.repeat(200)}</body>\n</html>\n`
  );
}

export async function startEndpointServer<Name extends string>(services: Array<EndpointService<Name>>): Promise<EndpointServer<Name>> {
  const faulted: Name[] = [];
  let fault: { fault: EndpointFault; service?: Name } | undefined;

  /** Serves a fault instead of an answer; true when one applied. */
  const serveFault = (req: IncomingMessage, res: ServerResponse, service: Name): boolean => {
    if (!fault || (fault.service !== undefined && fault.service !== service)) return false;
    faulted.push(service);
    const current = fault.fault;
    // Read the request either way, so the client is left waiting on the answer alone.
    req.resume();
    if (current.mode === 'html') {
      const page = htmlPage(current.status);
      req.on('end', () => {
        res.writeHead(current.status, { 'Content-Type': current.contentType ?? 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(page) });
        res.end(page);
      });
    }
    return true;
  };

  const server = createServer((req, res) => {
    const service = services.find((candidate) => candidate.claims(req));
    if (!service) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('No service of this endpoint answers this request\n');
      return;
    }
    if (serveFault(req, res, service.name)) return;
    service.answer(req, res, randomUUID());
  });
  // An idle connection stays for 30 s, so that a client that leaves its connections open is seen doing so.
  server.keepAliveTimeout = 30_000;
  const listening = await listenLocally(server);
  return {
    url: listening.url,
    faulted,
    setFault(next, service) {
      fault = next ? { fault: next, ...(service ? { service } : {}) } : undefined;
    },
    openConnections: listening.openConnections,
    close: listening.close,
  };
}
