/**
 * Which failures of a registry request are worth another try, and the tries:
 * a refused or reset connection, 429 and the 5xx a busy or restarting
 * registry answers with, retried with backoff; never a refusal (401, 403,
 * 404, an immutable tag), a digest that does not match, nor a request that
 * waited its whole timeout for an answer. When the tries or the time run out,
 * the error says how often it failed, or names transferTimeLimit.
 */
import type { ActivityLog } from '../kaholo/activity-log';
import { PluginError, seconds } from '../errors';
import { RegistryError } from '../registry-http/registry-error';
import type { TimeLimit } from '../params/time-limit';
import type { RetryPolicy } from '../params/transfer-options';

const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ECONNTIMEOUT: 'no connection in time',
  EAI_AGAIN: 'temporary DNS failure',
};

/** Why the failure may pass when the request is made again; undefined when it would not. */
export function transientReason(error: unknown): string | undefined {
  if (!(error instanceof RegistryError)) return undefined;
  const { status, code } = error;
  if (status === 429) return 'HTTP 429 too many requests';
  if (status !== undefined && status >= 500 && status !== 501 && status !== 505) return `HTTP ${status}`;
  return status === undefined && code !== undefined ? NETWORK[code] : undefined;
}

/** The wait before retry `retry` (1, 2, …): the base, doubling, plus up to half again of jitter. */
export function retryDelayMs(policy: RetryPolicy, retry: number): number {
  return Math.round(policy.baseDelayMs * 2 ** (retry - 1) * (1 + Math.random() / 2));
}

export interface RetryContext {
  policy: RetryPolicy;
  log: ActivityLog;
  /** Aborted on an interrupt or when the time limit passes: no retry then, and no wait. */
  signal: AbortSignal;
  /** The `transferTimeLimit` of the whole copy: no retry would end past it, and its error says so. */
  limit: TimeLimit;
}

/** What a new run does after a copy that failed: it skips what is there. */
export const RERUN = 'no tag was put, and a new run goes on from what is there';

/** Runs `attempt` until it succeeds, fails for good, or the attempts or the time run out. */
export async function withRetries<T>(what: string, context: RetryContext, attempt: () => Promise<T>): Promise<T> {
  const { policy, log, signal, limit } = context;
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      const reason = transientReason(error);
      if (signal.aborted) throw abortReason(signal, error);
      if (reason === undefined) throw error;
      const times = tried === 1 ? 'once' : `${tried} times`;
      const last = error instanceof Error ? error.message : String(error);
      if (tried >= policy.attempts) {
        // The registry's own words first, so that the causes read as before; then how often, and what next.
        throw error instanceof RegistryError && tried > 1 ? new RegistryError(`${last} (failed ${times}, the "transferAttempts" set; ${RERUN})`, error.status, error.code, error.timedOut) : error;
      }
      const wait = retryDelayMs(policy, tried);
      if (wait >= limit.remainingMs()) throw limit.exceeded(`${what} failed ${times} (${reason}) and the limit came before the next try; ${RERUN} (last: ${last})`);
      log.info(`${what} failed (${reason}); retrying in ${seconds(wait)} s (attempt ${tried + 1} of ${policy.attempts})`);
      await sleep(wait, signal);
    }
  }
}

/** Waits `ms`, or less when the signal aborts (then throws its reason). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(stopped(signal));
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(stopped(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function stopped(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new PluginError('The copy was stopped');
}

/** Why the work stopped: the abort's reason (an interrupt, the time limit), else the failure itself. */
export function abortReason(signal: AbortSignal, fallback?: unknown): unknown {
  const reason: unknown = signal.reason;
  return reason instanceof PluginError ? reason : (fallback ?? reason);
}
