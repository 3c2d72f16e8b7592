/**
 * The agent's proxy for AWS calls, loaded only when its environment names
 * one. For each request: HTTPS_PROXY (https endpoints) or HTTP_PROXY (plain
 * http endpoints), lower-case names first as curl reads them, unless NO_PROXY
 * matches the host (src/aws/no-proxy.ts). The tunnelling itself is
 * https-proxy-agent's (CONNECT) and http-proxy-agent's (absolute-URI
 * requests); this module decides the route, bounds a tunnel's set-up, and
 * turns what a proxy does wrong into faults that name it
 * (src/aws/transport-faults.ts).
 *
 * The libraries get the proxy's URL without its credentials; the login goes
 * in a Proxy-Authorization header made here. (Their `debug` output, which
 * would print headers, is silenced in the bundle: scripts/build.ts.)
 */
import { Agent, type AgentConnectOpts } from 'agent-base';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Duplex } from 'node:stream';
import type { ProxyRoute, RoutingAgent } from './aws-http';
import { PluginError } from '../errors';
import { withoutHeadersInConnections } from './connection-options';
import { bypassesProxy, parseNoProxy, type NoProxyRules } from './no-proxy';
import type { Redactor } from '../kaholo/redactor';
import { withFault } from './transport-faults';

type Scheme = 'http' | 'https';

const VARIABLES: Record<Scheme, [string, string]> = {
  https: ['https_proxy', 'HTTPS_PROXY'],
  http: ['http_proxy', 'HTTP_PROXY'],
};

interface Proxy {
  /** Without credentials. */
  url: URL;
  /** "Basic …" when the URL carried a login. */
  authorization?: string;
  route: ProxyRoute;
}

/** The proxy for a scheme, checked, with its credentials registered as secrets from the start. */
function proxyFromEnv(scheme: Scheme, env: NodeJS.ProcessEnv, redactor: Redactor): Proxy | undefined {
  const variable = VARIABLES[scheme].find((n) => env[n]?.trim());
  if (variable === undefined) return undefined;
  const text = (env[variable] ?? '').trim();
  const url = parseProxy(text.includes('://') ? text : `http://${text}`);
  // The value itself is never echoed: it may hold the password.
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new PluginError(
      `The agent's ${variable} is not a proxy URL; expected one such as "http://proxy.example.com:3128" (with "user:password@" if it needs a login)`,
    );
  }
  for (const secret of [url.username, url.password, `${url.username}:${url.password}`]) redactor.add(secret);
  let authorization: string | undefined;
  if (url.username !== '' || url.password !== '') {
    const user = decodeCredential(url.username, variable);
    const password = decodeCredential(url.password, variable);
    const login = `${user}:${password}`;
    authorization = `Basic ${Buffer.from(login).toString('base64')}`;
    // Each as decoded: either may hold a ":" (written %3A), so the login is not split at one.
    for (const secret of [login, authorization.slice('Basic '.length)]) redactor.add(secret);
    // A proxy's page may name its user, and users are often short ("ops", "ci").
    for (const secret of [user, password]) redactor.addShort(secret);
    url.username = '';
    url.password = '';
  }
  const port = url.port !== '' ? url.port : url.protocol === 'https:' ? '443' : '80';
  return { url, ...(authorization ? { authorization } : {}), route: { address: `${url.hostname}:${port}`, variable } };
}

function parseProxy(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** A user or password as the URL escapes it; a `%` that starts no escape cannot be read. */
function decodeCredential(text: string, variable: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new PluginError(
      `The agent's ${variable} has a user or password that cannot be decoded: write "%" in it as "%25" (and "@", ":", "/" as "%40", "%3A", "%2F")`,
    );
  }
}

/** Decides per request: straight to the endpoint, or through the proxy for its scheme. */
class EnvironmentProxyAgent extends Agent implements RoutingAgent {
  private readonly direct = {
    http: new http.Agent({ keepAlive: true, maxSockets: 50 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 50 }),
  };
  private proxiedHttp: http.Agent | undefined;

  constructor(
    private readonly proxies: Partial<Record<Scheme, Proxy>>,
    private readonly noProxy: NoProxyRules,
    private readonly connectTimeoutMs: number,
  ) {
    // Tunnels this agent opens are kept for the next request to the same endpoint.
    super({ keepAlive: true });
  }

  proxyFor(protocol: string, hostname: string, port: number): ProxyRoute | undefined {
    return this.proxyOf(protocol === 'https:' ? 'https' : 'http', hostname, port)?.route;
  }

  private proxyOf(scheme: Scheme, hostname: string, port: number): Proxy | undefined {
    const proxy = this.proxies[scheme];
    return proxy === undefined || bypassesProxy(this.noProxy, hostname, port) ? undefined : proxy;
  }

  async connect(req: http.ClientRequest, options: AgentConnectOpts): Promise<Duplex | http.Agent> {
    const scheme: Scheme = options.secureEndpoint ? 'https' : 'http';
    const proxy = this.proxyOf(scheme, options.host ?? 'localhost', options.port);
    if (proxy === undefined) return this.direct[scheme];
    if (scheme === 'http') {
      // One connection per request: a proxy may close a client's connection after each answer without
      // saying so (tinyproxy does), and a request sent on it as it closes fails as a reset connection.
      this.proxiedHttp ??= new HttpProxyAgent(proxy.url, { keepAlive: false, headers: loginHeaders(proxy) });
      return this.proxiedHttp;
    }
    return this.tunnel(req, options, proxy);
  }

  /**
   * A CONNECT tunnel through the proxy. It is set up before the request has a socket, out of reach
   * of the request's own timeouts: one not open within the connection timeout, or whose request
   * was given up, is abandoned here, or a proxy that never answers would keep its connection, and
   * the action's process, open.
   */
  private async tunnel(req: http.ClientRequest, options: AgentConnectOpts, proxy: Proxy): Promise<Duplex> {
    const abandon = new AbortController();
    let answer: { statusCode: number; statusText: string } | undefined;
    req.once('proxyConnect', (connect: { statusCode: number; statusText: string }) => {
      answer = connect;
    });
    const opening = new HttpsProxyAgent(proxy.url, { headers: loginHeaders(proxy), signal: abandon.signal }).connect(req, options);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(withFault(new Error(`the proxy opened no tunnel within ${this.connectTimeoutMs} ms`), { kind: 'connect-timeout' }));
        abandon.abort();
      }, this.connectTimeoutMs);
    });
    const givenUp = (): void => abandon.abort();
    req.once('close', givenUp);
    try {
      const socket = await Promise.race([opening, deadline]);
      if (answer !== undefined && answer.statusCode !== 200) {
        // https-proxy-agent would replay the proxy's answer as if the endpoint had sent it.
        socket.destroy();
        throw withFault(new Error(`the proxy answered CONNECT with HTTP ${answer.statusCode}`), {
          kind: 'proxy-refused',
          status: answer.statusCode,
          statusText: answer.statusText,
        });
      }
      return socket;
    } catch (error) {
      // A tunnel that opens after all is closed at once.
      opening.then((late) => late.destroy(), () => undefined);
      throw proxyFault(error);
    } finally {
      clearTimeout(timer);
      req.off('close', givenUp);
    }
  }

  override destroy(): void {
    for (const agent of [this.direct.http, this.direct.https, this.proxiedHttp]) agent?.destroy();
    super.destroy();
  }
}

/**
 * The Proxy-Authorization header, as a function: an agent keeps its options, and NODE_DEBUG=http
 * prints them with each new connection; a function shows as [Function], a header would show whole.
 */
function loginHeaders({ authorization }: Proxy): () => Record<string, string> {
  const headers: Record<string, string> = authorization ? { 'Proxy-Authorization': authorization } : {};
  return () => ({ ...headers });
}

/** https-proxy-agent's own error for a proxy that hung up on CONNECT carries no code: give it one. */
function proxyFault(error: unknown): unknown {
  if (error instanceof Error && /^Proxy connection ended|^No header received from proxy/.test(error.message)) {
    return withFault(error, { kind: 'proxy-closed' });
  }
  return error;
}

/**
 * An agent for the SDK's requests when the agent's environment names a proxy;
 * undefined when it names none.
 */
export function proxyAgentFromEnv(redactor: Redactor, connectTimeoutMs: number, env: NodeJS.ProcessEnv = process.env): RoutingAgent | undefined {
  const proxies = { https: proxyFromEnv('https', env, redactor), http: proxyFromEnv('http', env, redactor) };
  if (proxies.https === undefined && proxies.http === undefined) return undefined;
  return withoutHeadersInConnections(new EnvironmentProxyAgent(proxies, parseNoProxy(env.no_proxy || env.NO_PROXY), connectTimeoutMs));
}
