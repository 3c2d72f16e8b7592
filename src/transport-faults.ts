/**
 * What went wrong on the way to AWS, found from what really happened. The
 * SDK's Node handler names a reset, a broken pipe and its own timers alike
 * `TimeoutError`, so the name says little: the error's code, the system call
 * and the SDK's own timer messages do.
 */

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

/** Where a proxy fault (made by src/proxy-agent.ts) keeps its kind, and for a refusal the proxy's status. */
export const FAULT = Symbol.for('kaholo-plugin-ecr.transport-fault');

export interface FaultMark {
  kind: TransportFault;
  /** For 'proxy-refused': the status and reason the proxy gave. */
  status?: number;
  statusText?: string;
}

interface NodeLikeError {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  syscall?: unknown;
  [FAULT]?: FaultMark;
}

/** The fault an error of an AWS request stands for; undefined for an answer (or anything else). */
export function faultOf(error: unknown): FaultMark | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as NodeLikeError;
  if (e[FAULT]) return e[FAULT];
  const message = typeof e.message === 'string' ? e.message : '';
  switch (e.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return { kind: 'reset' };
    case 'ECONNREFUSED':
      return { kind: 'refused' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { kind: 'unresolved' };
    case 'ETIMEDOUT':
      // The SDK's request timer sets this code too (and says so in its message); the system's own
      // ETIMEDOUT names the call that gave up: connect, or a read on a connection that died.
      if (/requestTimeout/.test(message)) return { kind: 'unanswered' };
      return { kind: e.syscall === 'connect' ? 'connect-timeout' : 'reset' };
    default:
      break;
  }
  if (e.name === 'TimeoutError') {
    // The SDK's own timers, known by their messages (they carry no code of their own).
    if (/did not establish a connection/.test(message)) return { kind: 'connect-timeout' };
    if (/requestTimeout|timed out after \d+ ms of inactivity/.test(message)) return { kind: 'unanswered' };
  }
  return undefined;
}

/** Marks an error as a fault of the given kind (proxy faults, which Node has no code for). */
export function withFault<T extends Error>(error: T, mark: FaultMark): T {
  return Object.assign(error, { [FAULT]: mark });
}

/** Faults that another attempt may not meet: the SDK's retries apply to them. */
export function isRetriedFault(mark: FaultMark | undefined): boolean {
  if (mark === undefined) return false;
  switch (mark.kind) {
    case 'connect-timeout':
    case 'reset':
    case 'refused':
    case 'proxy-closed':
      return true;
    case 'proxy-refused':
      // A proxy's gateway errors pass; its 407 or 403 will not change by asking again.
      return mark.status !== undefined && [500, 502, 503, 504].includes(mark.status);
    default:
      return false;
  }
}
