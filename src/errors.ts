/**
 * Errors the user can act on. The message is what Kaholo shows, so it names
 * the parameter or the part that failed and says what was expected.
 */
export class PluginError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginError';
  }
}

/** A parameter value that cannot be used; the message names the parameter. */
export class ParamError extends PluginError {
  constructor(readonly param: string, problem: string) {
    super(`Parameter "${param}": ${problem}`);
    this.name = 'ParamError';
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

/** Escaped, then cut to `limit` characters with a note of how long it really was. */
export function shorten(text: string, limit = ECHO_LIMIT): string {
  const escaped = escapeControl(text);
  if (escaped.length <= limit) return escaped;
  return `${escaped.slice(0, limit)}… (${text.length} characters)`;
}

/** A value as an error echoes it: in double quotes, escaped and shortened. */
export function quote(value: string): string {
  return `"${shorten(value)}"`;
}

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
  $metadata?: { requestId?: unknown; httpStatusCode?: unknown };
  $response?: { statusCode?: unknown; body?: unknown };
}

/** What an AWS SDK error is about, for messages that name a service and its endpoint. */
export interface AwsCallContext {
  service: 'ECR' | 'STS';
  /** Such as "DescribeRepositories". */
  operation: string;
  /** The origin of the last request sent, such as "https://api.ecr.eu-west-2.amazonaws.com". */
  endpoint?: string;
  /** What bounds one request, for the "did not answer" line. */
  timeouts?: { connectMs: number; requestMs: number };
}

/** Turns an AWS SDK error into one line with its name, message and request id. */
export function describeAwsError({ service, operation, endpoint, timeouts }: AwsCallContext, error: unknown): PluginError {
  if (error instanceof PluginError) return error;
  const call = `${service} ${operation}`;
  const e = (typeof error === 'object' && error !== null ? error : {}) as AwsLikeError;
  const name = typeof e.name === 'string' && e.name !== 'Error' ? e.name : undefined;
  const message = firstLine(typeof e.message === 'string' ? e.message : String(error));
  const requestId = typeof e.$metadata?.requestId === 'string' ? e.$metadata.requestId : undefined;
  const where = `the ${service} endpoint${endpoint ? ` ${shorten(endpoint)}` : ''}`;
  if (name === 'CredentialsProviderError') {
    return new PluginError(
      `${call} failed: no AWS credentials found. Set "accessKeyId" and "secretAccessKey" ` +
        `(in the action or the plugin settings), or give the agent a role or profile. (${shorten(message, 200)})`,
    );
  }
  const unanswered = timeoutProblem(e, message, where, timeouts);
  if (unanswered) return new PluginError(`${call} failed: ${unanswered}`);
  const notJson = notJsonAnswer(e, where);
  if (notJson) return new PluginError(`${call} failed: ${notJson}`);
  const network = networkProblem(e.code ?? e.cause?.code, where);
  const parts = [`${call} failed: ${name ? `${name}: ` : ''}${shorten(message, 300)}`];
  if (network) parts.push(network);
  if (requestId) parts.push(`(request id: ${requestId})`);
  return new PluginError(parts.join(' '));
}

/** A duration in milliseconds as seconds for a message, to a tenth: 60000 → "60", 1500 → "1.5". */
export function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

/** The SDK's timeouts all carry the name TimeoutError; say which bound was hit, and where. */
function timeoutProblem(
  e: AwsLikeError,
  message: string,
  where: string,
  timeouts: AwsCallContext['timeouts'],
): string | undefined {
  if (e.name !== 'TimeoutError') return undefined;
  if (/establish a connection/.test(message)) {
    const bound = timeouts ? ` within ${seconds(timeouts.connectMs)} s` : '';
    return `${where} did not accept a connection${bound} (connection timeout); check the agent's network, proxy and firewall.`;
  }
  const bound = timeouts ? ` within ${seconds(timeouts.requestMs)} s` : '';
  return `${where} did not answer${bound} (request timeout); it accepted the connection but sent no answer: check the endpoint, proxy or VPC endpoint in between.`;
}

/** An answer that is not the service's own (a proxy's or load balancer's HTML page): its status and a short excerpt. */
function notJsonAnswer(e: AwsLikeError, where: string): string | undefined {
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
  return `${where} answered HTTP ${status} with something that is not an AWS answer: ${excerpt}. Is a proxy or firewall in between?`;
}

function networkProblem(code: unknown, where: string): string | undefined {
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `— ${where} does not resolve: check "region" (is it a real AWS region?) and the agent's DNS.`;
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'ETIMEDOUT':
      return `— ${where} could not be reached from the agent.`;
    default:
      return undefined;
  }
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
