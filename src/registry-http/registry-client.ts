/**
 * Requests to one registry's HTTP API (the OCI distribution API that ECR
 * serves at `<account>.dkr.ecr.<region>.amazonaws.com`): Basic auth from the
 * registry's authorization token, or a bearer token when the registry asks
 * for one (ECR Public: bearer-challenge.ts), the plugin's timeouts, the
 * agent's proxy, and redirects followed without the registry's Authorization
 * header when they lead to another origin (ECR sends blob downloads to S3,
 * where that header must not go).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { withoutHeadersInConnections } from '../aws/connection-options';
import type { AwsTimeouts } from '../aws/transport-settings';
import { seconds } from '../errors';
import type { Redactor } from '../kaholo/redactor';
import { mayCarryCredentials, parseBearerChallenge, tokenOf, tokenUrl, type BearerChallenge } from './bearer-challenge';
import { describeErrorBody, RegistryError } from './registry-error';

/** Where a registry is and who the caller is there. */
export interface RegistryLocation {
  /** The scheme, host and port, as the token's proxyEndpoint gives them: "https://123456789012.dkr.ecr.eu-west-2.amazonaws.com". */
  origin: string;
  user: string;
  password: string;
}

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RegistryRequest {
  method: HttpMethod;
  /** A path on the registry ("/v2/team/app/manifests/1.0"), or a URL the registry gave (an upload's Location). */
  url: string;
  headers?: Record<string, string>;
  /** The body: bytes, or a writer that streams it into the request (and ends it); the headers then give its length. */
  body?: Buffer | ((request: NodeJS.WritableStream) => Promise<void>);
  /** The statuses the caller handles; any other answer becomes a RegistryError with the registry's words. */
  expect: readonly number[];
  signal?: AbortSignal;
}

export interface RegistryResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Where the answer came from (after redirects). */
  url: URL;
  /** The body as it arrives; read it or discard() it. */
  body: IncomingMessage;
  header(name: string): string | undefined;
  /** The whole body, failing past `limit` bytes. */
  bytes(limit: number): Promise<Buffer>;
  discard(): void;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
/** How much of an error's body is read to quote it. */
const ERROR_BODY_LIMIT = 16 * 1024;
/** A token service's answer is a small JSON object. */
const TOKEN_BODY_LIMIT = 64 * 1024;

export class RegistryClient {
  /** The registry's host (and port), as errors and logs name it. */
  readonly host: string;
  private readonly origin: string;
  /** Basic credentials from the registry's authorization token. */
  private readonly basic: string;
  /** The last bearer token the registry's token service gave, once the registry asked for one. */
  private bearer: string | undefined;
  /** Every scope the registry's challenges named: each new token is asked for all of them. */
  private readonly scopes = new Set<string>();

  constructor(
    location: RegistryLocation,
    private readonly timeouts: AwsTimeouts,
    private readonly agents: { http: http.Agent; https: http.Agent },
    private readonly redactor: Redactor,
  ) {
    const url = new URL(location.origin);
    this.origin = url.origin;
    this.host = url.host;
    this.basic = `Basic ${Buffer.from(`${location.user}:${location.password}`).toString('base64')}`;
    redactor.add(location.password);
    redactor.add(this.basic);
  }

  /**
   * Sends the request; follows a GET's or HEAD's redirects (at most five),
   * sending Authorization only to the registry's own origin.
   */
  async request(request: RegistryRequest): Promise<RegistryResponse> {
    let url = new URL(request.url, this.origin);
    let reauthorized = false;
    for (let hops = 0; ; hops++) {
      const response = await this.send(url, request);
      // A registry that wants a bearer token says so once per scope: get one, then ask again (a streamed body cannot be sent twice).
      const challenge = response.statusCode === 401 && url.origin === this.origin && !reauthorized && typeof request.body !== 'function' ? parseBearerChallenge(response.headers['www-authenticate']) : undefined;
      if (challenge !== undefined) {
        response.resume();
        this.bearer = await this.fetchToken(challenge, request.signal);
        reauthorized = true;
        continue;
      }
      const location = response.headers.location;
      const redirect = REDIRECTS.has(response.statusCode ?? 0) && (request.method === 'GET' || request.method === 'HEAD') && !request.expect.includes(response.statusCode ?? 0);
      if (redirect && location !== undefined && hops < MAX_REDIRECTS) {
        response.resume();
        url = new URL(location, url);
        continue;
      }
      const status = response.statusCode ?? 0;
      if (!request.expect.includes(status)) {
        const body = await readBody(response, ERROR_BODY_LIMIT, true).catch(() => Buffer.alloc(0));
        const { code, text } = describeErrorBody(body.toString('utf8'));
        throw new RegistryError(`${this.describe(request.method, url)} answered HTTP ${status} ${text}`, status, code);
      }
      return wrapResponse(response, url, this.describe(request.method, url));
    }
  }

  /** "GET 127.0.0.1:5000/v2/team/app/blobs/sha256:…": the query (an upload's state, a presigned URL's signature) left out. */
  describe(method: string, url: URL | string): string {
    const where = typeof url === 'string' ? new URL(url, this.origin) : url;
    return `${method} ${where.host}${where.pathname}`;
  }

  /** A token from the challenge's realm, with the registry's credentials when they may go there. */
  private async fetchToken(challenge: BearerChallenge, signal: AbortSignal | undefined): Promise<string> {
    // A challenge may name several scopes, separated by spaces (a mount reads one repository and writes another).
    for (const scope of challenge.scope?.split(/\s+/) ?? []) if (scope !== '') this.scopes.add(scope);
    const url = tokenUrl(challenge, this.scopes);
    const authorization = mayCarryCredentials(challenge.realm, new URL(this.origin)) ? this.basic : undefined;
    const response = await this.send(url, { method: 'GET', url: url.href, expect: [200], signal }, authorization ?? null);
    const body = await readBody(response, TOKEN_BODY_LIMIT, true).catch(() => Buffer.alloc(0));
    const what = this.describe('GET', url);
    if (response.statusCode !== 200) {
      const { code, text } = describeErrorBody(body.toString('utf8'));
      throw new RegistryError(`${what} (the registry's token service) answered HTTP ${response.statusCode ?? 0} ${text}`, response.statusCode, code);
    }
    const token = tokenOf(body.toString('utf8'));
    if (token === undefined) throw new RegistryError(`${what} (the registry's token service) answered with no token`);
    this.redactor.add(token);
    return token;
  }

  /** `authorization`: absent, the registry's own (bearer once it asked for one, else Basic) on its origin; null, none. */
  private send(url: URL, request: RegistryRequest, authorization?: string | null): Promise<IncomingMessage> {
    const sameOrigin = url.origin === this.origin;
    const headers: Record<string, string> = { 'User-Agent': 'kaholo-plugin-ecr', ...request.headers };
    if (authorization !== undefined) {
      if (authorization !== null) headers.Authorization = authorization;
    } else if (sameOrigin) {
      headers.Authorization = this.bearer !== undefined ? `Bearer ${this.bearer}` : this.basic;
    }
    const body = request.body;
    if (Buffer.isBuffer(body)) headers['Content-Length'] = String(body.length);
    else if (body === undefined && ['POST', 'PUT', 'PATCH'].includes(request.method)) headers['Content-Length'] = '0';
    const what = this.describe(request.method, url);
    const { connectMs, requestMs } = this.timeouts;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const transport = url.protocol === 'https:' ? https : http;
      const agent = url.protocol === 'https:' ? this.agents.https : this.agents.http;
      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      const req = transport.request(url, { method: request.method, headers, agent, signal: request.signal }, (response) => {
        settled = true;
        clearTimeout(connectTimer);
        // The socket's inactivity bound goes on for the body: a download that stalls ends with a clear error.
        response.setTimeout(requestMs, () => response.destroy(new RegistryError(`${what} stalled: no data for ${seconds(requestMs)} s`, undefined, 'ETIMEDOUT', true)));
        const onAbort = (): void => void response.destroy(abortReason(request.signal));
        request.signal?.addEventListener('abort', onAbort, { once: true });
        response.once('close', () => request.signal?.removeEventListener('abort', onAbort));
        resolve(response);
      });
      let connectTimer: NodeJS.Timeout | undefined;
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        connectTimer = setTimeout(() => req.destroy(new RegistryError(`${what} failed: no connection within ${seconds(connectMs)} s (connection timeout)`, undefined, 'ECONNTIMEOUT', true)), connectMs);
        socket.once('connect', () => clearTimeout(connectTimer));
      });
      req.setTimeout(requestMs, () => req.destroy(new RegistryError(`${what} failed: no answer within ${seconds(requestMs)} s (request timeout)`, undefined, 'ETIMEDOUT', true)));
      req.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        fail(error instanceof RegistryError ? error : networkError(what, error, request.signal));
      });
      if (typeof body === 'function') {
        body(req).catch((error: unknown) => req.destroy(error instanceof Error ? error : new Error(String(error))));
      } else {
        req.end(body);
      }
    });
  }
}

/**
 * Agents that keep connections to the registry open between its requests, or
 * the agent's proxy when its environment names one (`proxied`: the caller
 * knows, from the same variables the AWS calls honour).
 */
export async function registryAgents(redactor: Redactor, timeouts: AwsTimeouts, proxied: boolean, env: NodeJS.ProcessEnv = process.env): Promise<{ http: http.Agent; https: http.Agent }> {
  if (proxied) {
    const { proxyAgentFromEnv } = await import('../aws/proxy-agent');
    const agent = proxyAgentFromEnv(redactor, timeouts.connectMs, env);
    if (agent) return { http: agent, https: agent };
  }
  return { http: withoutHeadersInConnections(new http.Agent({ keepAlive: true })), https: withoutHeadersInConnections(new https.Agent({ keepAlive: true })) };
}

function wrapResponse(response: IncomingMessage, url: URL, what: string): RegistryResponse {
  return {
    status: response.statusCode ?? 0,
    headers: response.headers,
    url,
    body: response,
    header: (name) => {
      const value = response.headers[name.toLowerCase()];
      return Array.isArray(value) ? value[0] : value;
    },
    bytes: (limit) =>
      readBody(response, limit, false).catch((error: Error) => {
        throw error instanceof RegistryError ? error : new RegistryError(`${what}: ${error.message}`, undefined, (error as NodeJS.ErrnoException).code);
      }),
    discard: () => {
      response.resume();
    },
  };
}

/** The body, up to `limit` bytes: cut there when `cut`, else a failure. */
async function readBody(response: IncomingMessage, limit: number, cut: boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      response.destroy();
      if (cut) break;
      throw new Error(`the answer is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new RegistryError('The request was stopped', undefined, 'ABORT_ERR');
}

/** A connection-level failure, named by its code so that a caller can tell a refused connection from a reset. */
function networkError(what: string, error: NodeJS.ErrnoException, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return abortReason(signal);
  const code = error.code ?? 'ERROR';
  return new RegistryError(`${what} failed: ${code === 'ERROR' ? error.message : `${code} (${error.message.replace(/^.*?: /, '')})`}`, undefined, code);
}
