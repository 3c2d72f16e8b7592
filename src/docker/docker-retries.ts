import type { ActivityLog } from '../kaholo/activity-log';
import { DockerCommandError } from './docker-cli';
import type { Interruption } from '../agent/interruption';
import type { TimeLimit } from '../params/time-limit';
import type { RetryPolicy } from '../params/transfer-options';

/** Said by docker when the registry or the network is briefly unavailable: worth another try. */
const TRANSIENT: [RegExp, string][] = [
  [/connection refused/i, 'connection refused'],
  [/connection reset/i, 'connection reset'],
  [/TLS handshake timeout/i, 'TLS handshake timeout'],
  [/i\/o timeout|timeout exceeded|deadline exceeded|Client\.Timeout/i, 'timeout'],
  [/temporary failure in name resolution|server misbehaving/i, 'temporary DNS failure'],
  [/unexpected EOF/i, 'unexpected EOF'],
  [/toomanyrequests|too many requests|\b429\b/i, 'HTTP 429 too many requests'],
  [/bad gateway|\b502\b/i, 'HTTP 502 bad gateway'],
  [/service unavailable|\b503\b/i, 'HTTP 503 service unavailable'],
  [/gateway time-?out|\b504\b/i, 'HTTP 504 gateway timeout'],
];

/** Refusals: repeating would only get the same answer. They win over anything transient in the same output. */
const TERMINAL = /unauthorized|authentication required|no basic auth|denied|forbidden|name unknown|manifest unknown|immutable|tag invalid|does not exist|not found|invalid reference|no such/i;


/** Why a failed docker command may succeed when repeated; undefined when it would not. */
export function transientReason(error: unknown): string | undefined {
  if (!(error instanceof DockerCommandError)) return undefined;
  const text = error.stderr;
  if (TERMINAL.test(text)) return undefined;
  return TRANSIENT.find(([pattern]) => pattern.test(text))?.[1];
}

export function retryDelayMs(policy: RetryPolicy, retry: number): number {
  const base = policy.baseDelayMs * 2 ** (retry - 1);
  return Math.round(base * (1 + Math.random() / 2));
}

/**
 * Runs `attempt` up to `policy.attempts` times while it fails for a transient
 * reason, logging each retry with its reason and wait. With a time limit, a
 * retry that could not start before the limit is not waited for: the limit's
 * error says so, with the last failure.
 */
export async function withRetries<T>(
  what: string,
  policy: RetryPolicy,
  context: { log: ActivityLog; interruption: Interruption; limit?: TimeLimit },
  attempt: () => Promise<T>,
): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      const reason = transientReason(error);
      if (reason === undefined || tried >= policy.attempts || context.interruption.interrupted) throw error;
      const wait = retryDelayMs(policy, tried);
      if (context.limit !== undefined && wait >= context.limit.remainingMs()) {
        const times = tried === 1 ? 'once' : `${tried} times`;
        throw context.limit.exceeded(`${what} failed ${times} (${reason}) and the limit came before the next try (last: ${(error as Error).message})`);
      }
      context.log.info(`${what} failed (${reason}); retrying in ${(wait / 1000).toFixed(1)} s (attempt ${tried + 1} of ${policy.attempts})`);
      await context.interruption.sleep(wait);
    }
  }
}
