/**
 * The agent's proxy for AWS calls, loaded only when its environment names
 * one. For each request: HTTPS_PROXY (https endpoints) or HTTP_PROXY (plain
 * http endpoints), lower-case names first as curl reads them, unless NO_PROXY
 * matches the host (proxy-from-env's rules: a host, ".suffix" or "*.suffix",
 * "host:port", "*"). The tunnelling itself is https-proxy-agent's (CONNECT)
 * and http-proxy-agent's (absolute-URI requests).
 */
import { Agent, type AgentConnectOpts } from 'agent-base';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import * as http from 'node:http';
import * as https from 'node:https';
import { getProxyForUrl } from 'proxy-from-env';
import { PluginError } from '../errors';
import type { Redactor } from '../kaholo/redactor';

type Scheme = 'http' | 'https';

const VARIABLES: Record<Scheme, [string, string]> = {
  https: ['https_proxy', 'HTTPS_PROXY'],
  http: ['http_proxy', 'HTTP_PROXY'],
};

/** The proxy URL for a scheme, checked, with its credentials registered as secrets. */
function proxyUrl(scheme: Scheme, env: NodeJS.ProcessEnv, redactor: Redactor): URL | undefined {
  const name = VARIABLES[scheme].find((n) => env[n]?.trim());
  if (name === undefined) return undefined;
  const text = (env[name] ?? '').trim();
  const url = parseProxy(text.includes('://') ? text : `http://${text}`);
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new PluginError(
      `The agent's ${name} is not a proxy URL; expected one such as "http://proxy.example.com:3128" (with "user:password@" if it needs a login)`,
    );
  }
  for (const secret of [url.password, safeDecode(url.password), `${url.username}:${url.password}`]) redactor.add(secret);
  return url;
}

function parseProxy(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Decides per request: straight to the endpoint, or through the proxy for its scheme. */
class EnvironmentProxyAgent extends Agent {
  private readonly direct = {
    http: new http.Agent({ keepAlive: true, maxSockets: 50 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 50 }),
  };
  private proxiedHttp: http.Agent | undefined;

  constructor(
    private readonly proxies: Partial<Record<Scheme, URL>>,
    private readonly connectTimeoutMs: number,
  ) {
    super({ keepAlive: true });
  }

  connect(req: http.ClientRequest, options: AgentConnectOpts): http.Agent {
    const scheme: Scheme = options.secureEndpoint ? 'https' : 'http';
    const proxy = this.proxies[scheme];
    const host = options.host ?? 'localhost';
    const endpoint = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${options.port}`;
    // proxy-from-env answers '' for a host NO_PROXY matches.
    if (proxy === undefined || getProxyForUrl(endpoint) === '') return this.direct[scheme];
    if (scheme === 'http') {
      this.proxiedHttp ??= new HttpProxyAgent(proxy, { keepAlive: true });
      return this.proxiedHttp;
    }
    // A tunnel is set up before the request has a socket, out of reach of the request's own
    // timeouts: one not set up within the connection timeout is abandoned here, or a proxy that
    // never answers CONNECT would keep its connection, and the action's process, open.
    const abandoned = new AbortController();
    const deadline = setTimeout(() => abandoned.abort(), this.connectTimeoutMs);
    deadline.unref();
    req.once('socket', () => clearTimeout(deadline));
    return new HttpsProxyAgent(proxy, { signal: abandoned.signal });
  }

  override destroy(): void {
    for (const agent of [this.direct.http, this.direct.https, this.proxiedHttp]) agent?.destroy();
    super.destroy();
  }
}

/**
 * An agent for the SDK's requests when the agent's environment names a proxy;
 * undefined when it names none. (proxy-from-env reads NO_PROXY from process.env.)
 */
export function proxyAgentFromEnv(redactor: Redactor, connectTimeoutMs: number, env: NodeJS.ProcessEnv = process.env): http.Agent | undefined {
  const proxies = { https: proxyUrl('https', env, redactor), http: proxyUrl('http', env, redactor) };
  if (proxies.https === undefined && proxies.http === undefined) return undefined;
  return new EnvironmentProxyAgent(proxies, connectTimeoutMs);
}
