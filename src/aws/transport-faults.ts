/**
 * What went wrong on the way to AWS, found from what really happened. The
 * SDK's Node handler names a reset, a broken pipe and its own timers alike
 * `TimeoutError`, so the name says little: the error's code, the system call
 * and the SDK's own timer messages do.
 */

import { TRANSPORT_FAULT as FAULT, type FaultMark } from '../errors';

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

/** Marks a failed request's error with the fault it stands for, for the retries and the message (src/errors.ts). */
export function markFault(error: unknown): unknown {
  const mark = faultOf(error);
  if (mark !== undefined && typeof error === 'object' && error !== null) Object.assign(error, { [FAULT]: mark });
  return error;
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
