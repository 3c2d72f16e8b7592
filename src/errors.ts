import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Errors the user can act on. The message is what Kaholo shows, so it names
 * the parameter or the part that failed and says what was expected.
 */
export class PluginError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginError';
  }

  /** The Kaholo agent shows a failed action as String(error): the message alone, without "PluginError: ". */
  override toString(): string {
    return this.message;
  }
}

/** A parameter value that cannot be used; the message names the parameter. */
export class ParamError extends PluginError {
  constructor(readonly param: string, problem: string) {
    super(`Parameter "${param}": ${problem}`);
    this.name = 'ParamError';
  }
}

/** The registry has no such image in the repository: an answer, not a failure of the call. */
export class MissingImageError extends PluginError {
  constructor(readonly reason: string) {
    super(`no such image in the repository (${reason})`);
    this.name = 'MissingImageError';
  }
}

/** No AWS credentials anywhere (no keys, nothing in the SDK's default chain): for an anonymous pull, not a failure. */
export class NoCredentialsError extends PluginError {
  constructor(message: string) {
    super(message);
    this.name = 'NoCredentialsError';
  }
}

/** The registry holds no scan of the image: an answer, not a failure of the call. */
export class MissingScanError extends PluginError {
  constructor(readonly reason: string) {
    super(`no scan of the image (${reason})`);
    this.name = 'MissingScanError';
  }
}

/** How much of a value an error echoes: enough to recognise it, never a wall of text. */
export const ECHO_LIMIT = 80;
/** The longest message an action ends with; longer ones are cut (a last guard, after the echoes are short). */
export const MESSAGE_LIMIT = 1000;

/**
 * Control characters as escapes (`\n`, `\u0000`), so a value can never break
 * an error or a log line into several.
 */
export function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this finds
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    switch (c) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
}

/** What hides an action's secrets (src/kaholo/redactor.ts). */
interface SecretFilter {
  redact(text: string): string;
}

/**
 * The running action's secrets, for the text that enters its messages from elsewhere. Redaction
 * happens there, where an echoed value or another program's text enters a message, and not over
 * the finished sentence: a secret that is also a word (an external id "role") must hide in foreign
 * text without rewriting the plugin's own words (`Parameter "roleArn"`). This module is one file
 * for the whole plugin (scripts/build.ts), so every bundle sees the same store.
 */
const secrets = new AsyncLocalStorage<SecretFilter>();

/** Runs an action's body with its secrets known to every message it builds. */
export function withSecretsHidden<T>(filter: SecretFilter, body: () => T): T {
  return secrets.run(filter, body);
}

/** Text from outside the plugin (an echoed value, an SDK's or docker's message) with the running action's secrets hidden. */
export function foreign(text: string): string {
  return secrets.getStore()?.redact(text) ?? text;
}

/** Secrets hidden, escaped, then cut to `limit` characters with a note of how long it really was. */
export function shorten(text: string, limit = ECHO_LIMIT): string {
  const escaped = escapeControl(foreign(text));
  if (escaped.length <= limit) return escaped;
  return `${escaped.slice(0, limit)}… (${text.length} characters)`;
}

/** A value as an error echoes it: in double quotes, escaped and shortened. */
export function quote(value: string): string {
  return `"${shorten(value)}"`;
}

/** What went wrong on the way to AWS (told apart by src/aws/transport-faults.ts, which marks the error). */
export type TransportFault =
  /** No connection (or no tunnel through the proxy) within the connection timeout. */
  | 'connect-timeout'
  /** Connected and sent, then no answer (or a stalled one) within the request timeout. */
  | 'unanswered'
  /** The connection was reset or closed before the answer came (ECONNRESET, EPIPE, "socket hang up"). */
  | 'reset'
  /** Nothing listens there (ECONNREFUSED). */
  | 'refused'
  /** The host name does not resolve. */
  | 'unresolved'
  /** The proxy closed the connection before answering CONNECT. */
  | 'proxy-closed'
  /** The proxy answered CONNECT with another status than 200 (407, 403, 5xx). */
  | 'proxy-refused';

export interface FaultMark {
  kind: TransportFault;
  /** For 'proxy-refused': the status and reason the proxy gave. */
  status?: number;
  statusText?: string;
}

/** Where a failed request's error carries its FaultMark. */
export const TRANSPORT_FAULT = Symbol.for('kaholo-plugin-ecr.transport-fault');

/**
 * A message that quotes others' words (AWS's, docker's) may hold a value the
 * action was given, whole: there each of `values` longer than ECHO_LIMIT is
 * cut as shorten() cuts it, so no error echoes more of a value than that.
 */
export function shortenEchoes(message: string, values: Iterable<string>): string {
  const long = [...new Set(values)].filter((value) => value.length > ECHO_LIMIT).sort((a, b) => b.length - a.length);
  return long.reduce((text, value) => text.split(value).join(shorten(value)), message);
}

interface AwsLikeError {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: { code?: unknown };
  $metadata?: { requestId?: unknown; httpStatusCode?: unknown; attempts?: unknown };
  $response?: { statusCode?: unknown; body?: unknown };
  [TRANSPORT_FAULT]?: FaultMark;
}

/** What an AWS SDK error is about, for messages that name a service and its endpoint. */
export interface AwsCallContext {
  service: 'ECR' | 'ECR Public' | 'STS';
  /** Such as "DescribeRepositories". */
  operation: string;
  /** The origin of the last request sent, such as "https://api.ecr.eu-west-2.amazonaws.com". */
  endpoint?: string;
  /** The proxy that request went through, if any (host and port, and the variable that named it). */
  proxy?: { address: string; variable: string };
  /** What bounds one request, for the "did not answer" line. */
  timeouts?: { connectMs: number; requestMs: number };
}

/** Turns an AWS SDK error into one line with its name, message and request id. */
export function describeAwsError(context: AwsCallContext, error: unknown): PluginError {
  if (error instanceof PluginError) return error;
  const { service, operation } = context;
  const call = `${service} ${operation}`;
  const e = (typeof error === 'object' && error !== null ? error : {}) as AwsLikeError;
  const name = typeof e.name === 'string' && e.name !== 'Error' ? foreign(e.name) : undefined;
  const message = firstLine(typeof e.message === 'string' ? e.message : String(error));
  const requestId = typeof e.$metadata?.requestId === 'string' ? foreign(e.$metadata.requestId) : undefined;
  const transport = transportProblem(context, e, message);
  if (transport) return new PluginError(`${call} failed: ${transport}`);
  const notAws = notAwsAnswer(context, e);
  if (notAws) return new PluginError(`${call} failed: ${notAws}`);
  if (name === 'CredentialsProviderError' && /^Invalid response from STS/.test(message)) {
    // The role provider's word for an answer without credentials: the keys were there, the answer was not.
    return new PluginError(`${call} failed: ${endpointWhere(context)} answered without temporary credentials; is it really STS?`);
  }
  if (name === 'CredentialsProviderError') {
    return new NoCredentialsError(
      `${call} failed: no AWS credentials found. Set "accessKeyId" and "secretAccessKey" ` +
        `(in the action or the plugin settings), or give the agent a role or profile. (${shorten(message, 200)})`,
    );
  }
  const parts = [`${call} failed: ${name ? `${name}: ` : ''}${shorten(message, 300)}`];
  if (requestId) parts.push(`(request id: ${requestId})`);
  return new PluginError(parts.join(' '));
}

/** A duration in milliseconds as seconds for a message, to a tenth: 60000 → "60", 1500 → "1.5". */
export function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

/** "the ECR endpoint https://…". */
function endpointName({ service, endpoint }: AwsCallContext): string {
  return `the ${service} endpoint${endpoint ? ` ${shorten(endpoint)}` : ''}`;
}

/** "the proxy proxy.example.com:3128 (HTTPS_PROXY)": never its credentials. */
function proxyName(proxy: { address: string; variable: string }): string {
  return `the proxy ${proxy.address} (${proxy.variable})`;
}

/** The endpoint as a message names it, with the proxy in between if there is one. */
function endpointWhere(context: AwsCallContext): string {
  return context.proxy ? `${endpointName(context)} through ${proxyName(context.proxy)}` : endpointName(context);
}

/** ", 3 attempts" when the SDK tried more than once. */
function attemptsNote(e: AwsLikeError): string {
  const attempts = e.$metadata?.attempts;
  return typeof attempts === 'number' && attempts > 1 ? `, ${attempts} attempts` : '';
}

/**
 * A request that got no answer from AWS: said for what really happened (src/aws/transport-faults.ts),
 * naming the endpoint, the proxy and the bound that was hit.
 */
function transportProblem(context: AwsCallContext, e: AwsLikeError, message: string): string | undefined {
  const fault = e[TRANSPORT_FAULT];
  if (fault === undefined) return undefined;
  const { timeouts, proxy } = context;
  const where = endpointWhere(context);
  const tried = attemptsNote(e);
  const check = proxy ? `check the proxy and the agent's network` : `check the agent's network, proxy and firewall`;
  const detail = `(${shorten(message, 80)})`;
  switch (fault.kind) {
    case 'connect-timeout': {
      const bound = timeouts ? ` within ${seconds(timeouts.connectMs)} s` : '';
      const what = proxy ? `no connection to ${where}` : `${where} did not accept a connection`;
      return `${what}${bound} (connection timeout)${tried}; ${check}.`;
    }
    case 'unanswered': {
      const bound = timeouts ? ` within ${seconds(timeouts.requestMs)} s` : '';
      return `${where} did not answer${bound} (request timeout)${tried}; it accepted the connection but sent no answer: check the endpoint, proxy or VPC endpoint in between.`;
    }
    case 'reset': {
      const how = /socket hang up|EPIPE/i.test(message) ? 'closed' : 'reset';
      return `the connection to ${where} was ${how} before an answer ${detail}${tried}; ${check}.`;
    }
    case 'refused':
      return proxy
        ? `${proxyName(proxy)} refused the connection ${detail}${tried}; check that it runs there.`
        : `${where} refused the connection ${detail}${tried}; it could not be reached from the agent.`;
    case 'unresolved':
      return proxy
        ? `the host of ${proxyName(proxy)} does not resolve ${detail}; check ${proxy.variable} and the agent's DNS.`
        : `${where} does not resolve ${detail}: check "region" (is it a real AWS region?) and the agent's DNS.`;
    case 'proxy-closed':
      return `${proxy ? proxyName(proxy) : 'the proxy'} closed the connection before it opened a tunnel to ${endpointName(context)}${tried}; check the proxy.`;
    case 'proxy-refused': {
      const status = `HTTP ${fault.status ?? '?'}${fault.statusText ? ` ${shorten(fault.statusText, 80)}` : ''}`;
      const advice = fault.status === 407 ? `check the user and password in ${proxy?.variable ?? 'the proxy variable'}` : 'check the proxy and its rules';
      return `${proxy ? proxyName(proxy) : 'the proxy'} refused a tunnel to ${endpointName(context)}: ${status}${tried}; ${advice}.`;
    }
    default:
      return undefined;
  }
}

/** An answer that is not the service's own (a proxy's or load balancer's HTML page): its status and a short excerpt. */
function notAwsAnswer(context: AwsCallContext, e: AwsLikeError): string | undefined {
  const status = e.$response?.statusCode ?? e.$metadata?.httpStatusCode;
  const body = e.$response?.body;
  const notAws = e.name === 'NotAnAwsAnswer' || /Deserialization error/.test(String(e.message));
  if (typeof status !== 'number' || typeof body !== 'string' || !notAws) return undefined;
  const text = body
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const excerpt = text === '' ? 'an empty body' : quote(text);
  const where = endpointWhere(context);
  if (status === 407 && context.proxy) {
    return `${proxyName(context.proxy)} asks for a login (HTTP 407) on the way to ${endpointName(context)}: ${excerpt}; check the user and password in ${context.proxy.variable}.`;
  }
  return `${where} answered HTTP ${status} with something that is not an AWS answer: ${excerpt}${attemptsNote(e)}. Is a proxy or firewall in between?`;
}

function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0];
}

/**
 * The last guard before a message reaches the user: one line, no control
 * characters, and a bounded length, whatever produced it.
 */
export function oneLine(message: string): string {
  const flat = escapeControl(message.trim());
  return flat.length <= MESSAGE_LIMIT ? flat : `${flat.slice(0, MESSAGE_LIMIT)}… (cut)`;
}
