import { ParamError } from '../errors';
import { shown, type ParamReader } from '../kaholo/param-reader';
import { TimeLimit, type TransferWork } from './time-limit';

/** How often a failed step is tried again, and how long the waits between tries are. */
export interface RetryPolicy {
  /** Tries in all, at least 1 (1 means no retry). */
  attempts: number;
  /** The first wait; each next one doubles, plus up to half again of jitter. */
  baseDelayMs: number;
}

/** How hard and how long push, pull and copy try. */
export interface TransferOptions {
  retry: RetryPolicy;
  /** Bound on the whole push, pull or copy (every attempt, and waiting for another action using the same name), from the action's start. */
  limit: TimeLimit;
  /** A transfer that prints nothing for this long is stopped. */
  stallMs: number;
}

/** 3 attempts, waiting 2-3 s and then 4-6 s: over 6 s in all, enough for a registry restart. */
export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BASE_DELAY_MS = 2000;
export const DEFAULT_TIME_LIMIT_MINUTES = 60;
const MAX_ATTEMPTS = 10;
const MAX_TIME_LIMIT_MINUTES = 24 * 60;
/** docker push and pull print a line per layer as it completes; a quarter of an hour without one is not progress. */
const DEFAULT_STALL_MS = 15 * 60 * 1000;
const MINUTE_MS = 60_000;

/**
 * Reads `transferAttempts` and `transferTimeLimit`, each from the action or
 * else the plugin setting of the same name, when the action starts: the time
 * limit counts from then. KAHOLO_ECR_STALL_MS shortens the stall bound and
 * KAHOLO_ECR_TEST_MINUTE_MS a minute, for tests only (DEVELOPMENT.md lists such
 * knobs); otherwise the defaults are as documented.
 */
export function readTransferOptions(params: ParamReader, work: TransferWork, env: NodeJS.ProcessEnv = process.env): TransferOptions {
  const attempts = wholeNumber('transferAttempts', params.numeralOrSetting('transferAttempts'), 1, MAX_ATTEMPTS) ?? DEFAULT_ATTEMPTS;
  const minutes = wholeNumber('transferTimeLimit', params.numeralOrSetting('transferTimeLimit'), 1, MAX_TIME_LIMIT_MINUTES) ?? DEFAULT_TIME_LIMIT_MINUTES;
  const limit = new TimeLimit(minutes, minutes * (positive(env.KAHOLO_ECR_TEST_MINUTE_MS) ?? MINUTE_MS), work);
  return {
    retry: { attempts, baseDelayMs: DEFAULT_BASE_DELAY_MS },
    limit,
    stallMs: Math.min(positive(env.KAHOLO_ECR_STALL_MS) ?? DEFAULT_STALL_MS, limit.ms),
  };
}

/**
 * How long an action that writes tags without a transfer (tagImage) waits for
 * another action on the agent writing one of them, such as a push: what the
 * plugin setting `transferTimeLimit` allows a push, default 60 minutes.
 */
export function readTagLockWaitMs(params: ParamReader): number {
  const minutes = wholeNumber('transferTimeLimit', params.numeralSetting('transferTimeLimit'), 1, MAX_TIME_LIMIT_MINUTES);
  return (minutes ?? DEFAULT_TIME_LIMIT_MINUTES) * MINUTE_MS;
}

function wholeNumber(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new ParamError(name, `is ${shown(text)}; expected a whole number from ${min} to ${max}`);
  }
  return value;
}

function positive(text: string | undefined): number | undefined {
  const value = Number(text);
  return text && Number.isFinite(value) && value > 0 ? value : undefined;
}
