/**
 * How the plugin's AWS calls (ECR, and STS for a role) reach AWS: bounded in
 * time, retried by the SDK where a retry can help, and through the agent's
 * proxy when its environment names one.
 */
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { StandardRetryStrategy } from '@smithy/util-retry';
import * as http from 'node:http';
import * as https from 'node:https';
import { finished, type Readable } from 'node:stream';
import type { Redactor } from '../kaholo/redactor';
import { withoutHeadersInConnections } from './connection-options';
import { faultOf, isRetriedFault, markFault } from './transport-faults';
import { awsTimeouts, PROXY_VARIABLES, type AwsTimeouts } from './transport-settings';

/** The SDK's default: one call and two retries. */
export const MAX_ATTEMPTS = 3;
/** The SDK's retry waits: at most base·2^retry (throttling base 1 s), plus up to 5 s for a Retry-After hint. */
const MAX_RETRY_WAIT_MS = (retry: number): number => 1_000 * 2 ** retry + 5_000;

/**
 * The longest one AWS call can wait on an endpoint that never answers: every
 * attempt but the last lost to the connection timeout (and its retry wait),
 * the last one to the request timeout, which is not retried.
 */
export function unansweredCallBoundMs(timeouts: AwsTimeouts): number {
  let total = timeouts.requestMs;
  for (let retry = 0; retry < MAX_ATTEMPTS - 1; retry++) total += timeouts.connectMs + MAX_RETRY_WAIT_MS(retry);
  return total;
}

/**
 * The SDK's standard retries, with two corrections. A request that got no
 * answer in the whole request timeout is not retried: an endpoint that held
 * one request that long will not answer the next sooner, and retrying would
 * triple the wait. A connection that was reset or closed, a connection
 * timeout and a proxy that dropped or failed a tunnel are retried like a
 * refused connection, whatever the SDK's classification of the error.
 */
export class RetryUnlessUnanswered extends StandardRetryStrategy {
  constructor() {
    super(MAX_ATTEMPTS);
  }

  override refreshRetryTokenForRetry(...args: Parameters<StandardRetryStrategy['refreshRetryTokenForRetry']>): ReturnType<StandardRetryStrategy['refreshRetryTokenForRetry']> {
    const [token, errorInfo] = args;
    const fault = faultOf(errorInfo.error);
    if (fault?.kind === 'unanswered') return Promise.reject(new Error('no retry after a request timeout'));
    if (isRetriedFault(fault)) return super.refreshRetryTokenForRetry(token, { ...errorInfo, errorType: 'TRANSIENT' });
    return super.refreshRetryTokenForRetry(...args);
  }
}

/** The proxy a request goes through, as errors name it: host and port (never its credentials), and the variable that set it. */
export interface ProxyRoute {
  /** Such as "proxy.example.com:3128". */
  address: string;
  /** Such as "HTTPS_PROXY". */
  variable: string;
}

/** An agent that decides, per endpoint, whether a request goes through a proxy, and which. */
export interface RoutingAgent extends http.Agent {
  proxyFor(protocol: string, hostname: string, port: number): ProxyRoute | undefined;
}

/**
 * The SDK's Node HTTP handler with the plugin's timeouts, remembering where
 * its last request went so an error can name the endpoint.
 */
export class AwsRequestHandler extends NodeHttpHandler {
  /** Such as "https://api.ecr.eu-west-2.amazonaws.com" or "http://127.0.0.1:4566". */
  lastEndpoint: string | undefined;
  /** The proxy the last request went through, if any. */
  lastProxy: ProxyRoute | undefined;

  constructor(
    readonly timeouts: AwsTimeouts,
    private readonly routing: RoutingAgent | undefined,
    /** The content types of the service's answers: STS's query protocol answers XML alone. */
    private readonly answers: RegExp = AWS_CONTENT_TYPE,
  ) {
    super({
      connectionTimeout: timeouts.connectMs,
      requestTimeout: timeouts.requestMs,
      // Without it the SDK only logs a warning when requestTimeout passes, and waits on.
      throwOnRequestTimeout: true,
      // A stalled answer (headers sent, body never finished) ends too.
      socketTimeout: timeouts.requestMs,
      // The SDK's own agents' settings, in agents that keep the request's headers out of NODE_DEBUG's output.
      httpAgent: routing ?? withoutHeadersInConnections(new http.Agent({ keepAlive: true, maxSockets: 50 })),
      httpsAgent: routing ?? withoutHeadersInConnections(new https.Agent({ keepAlive: true, maxSockets: 50 })),
    });
  }

  /** Closed by its client's destroy(): what is in flight ends, and no retry starts another request. */
  private closed = false;

  override destroy(): void {
    this.closed = true;
    super.destroy();
  }

  override async handle(...args: Parameters<NodeHttpHandler['handle']>): ReturnType<NodeHttpHandler['handle']> {
    // Not retried (an abort): a client is closed when its action is done with it, a time limit included.
    if (this.closed) throw Object.assign(new Error('the client was closed'), { name: 'AbortError' });
    const [request] = args;
    const port = request.port !== undefined ? `:${request.port}` : '';
    this.lastEndpoint = `${request.protocol}//${request.hostname}${port}`;
    this.lastProxy = this.routing?.proxyFor(request.protocol, request.hostname, request.port ?? (request.protocol === 'https:' ? 443 : 80));
    let result: Awaited<ReturnType<NodeHttpHandler['handle']>>;
    try {
      result = await super.handle(...args);
    } catch (error) {
      throw markFault(error);
    }
    const { statusCode, headers } = result.response;
    const body: unknown = result.response.body;
    if (!this.answers.test(headers['content-type'] ?? '')) {
      // A proxy's, load balancer's or captive portal's page, on any status (200 too), not AWS's
      // answer: keep its status and the start of its text, rather than let the SDK read it as one.
      throw Object.assign(new Error(`HTTP ${statusCode} that is not an AWS answer`), {
        name: NOT_AN_AWS_ANSWER,
        $metadata: { httpStatusCode: statusCode },
        $response: { statusCode, body: await readStart(body as Readable) },
      });
    }
    return result;
  }
}

/** What AWS answers with: JSON (ECR) or XML (STS). */
const AWS_CONTENT_TYPE = /^\s*(application\/(x-amz-json-[\d.]+|json|xml)|text\/xml)\b/i;
/** STS (query protocol) answers XML only: a JSON-labelled page would meet its XML error parser and end as a TypeError. */
const STS_CONTENT_TYPE = /^\s*(application|text)\/xml\b/i;
/** The name of the error for an answer that did not come from AWS (a 5xx is retried as the SDK retries any). */
export const NOT_AN_AWS_ANSWER = 'NotAnAwsAnswer';
const EXCERPT_BYTES = 16 * 1024;

/** The first few KiB of a body; ends early, never waits past the socket's own timeout. */
function readStart(body: Readable | undefined): Promise<string> {
  if (!body || typeof body.on !== 'function') return Promise.resolve('');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      body.removeAllListeners('data');
      body.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    body.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= EXCERPT_BYTES) done();
    });
    body.once('end', done);
    body.once('error', done);
    body.once('close', done);
  });
}

/**
 * A response body as bytes. The Node handler's bodies are Node streams; the
 * SDK's own collector first asks whether a body is a web ReadableStream or a
 * Blob, which makes Node load its web streams (about 2 ms of a fresh action).
 */
export function collectNodeBody(body: unknown): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return Promise.resolve(body);
  const stream = body as Readable;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer | string) => chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    finished(stream, (error) => {
      if (error) reject(error);
      else {
        const bytes = Buffer.concat(chunks);
        resolve(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
      }
    });
  });
}

/** What an AWS client needs to reach AWS: a request handler, the retry strategy and how bodies are read. */
export interface AwsTransport {
  requestHandler: AwsRequestHandler;
  retryStrategy: RetryUnlessUnanswered;
  streamCollector: typeof collectNodeBody;
}

/**
 * A transport for one client. The proxy code is loaded only when the agent's
 * environment names a proxy; its password is hidden in everything the action shows.
 */
export async function createTransport(redactor: Redactor, env: NodeJS.ProcessEnv = process.env, service: 'sts' | 'ecr' = 'ecr'): Promise<AwsTransport> {
  const timeouts = awsTimeouts(env);
  let agent: RoutingAgent | undefined;
  if (PROXY_VARIABLES.some((name) => env[name])) {
    const { proxyAgentFromEnv } = await import('./proxy-agent');
    agent = proxyAgentFromEnv(redactor, timeouts.connectMs, env);
  }
  return { requestHandler: new AwsRequestHandler(timeouts, agent, service === 'sts' ? STS_CONTENT_TYPE : AWS_CONTENT_TYPE), retryStrategy: new RetryUnlessUnanswered(), streamCollector: collectNodeBody };
}
