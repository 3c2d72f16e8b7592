import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import type { ActivityLog } from '../kaholo/activity-log';
import { PluginError, shorten } from '../errors';
import type { Interruption } from './interruption';
import type { TimeLimit } from '../params/time-limit';

/**
 * One lock per Docker engine and image reference, shared by every action on
 * the agent (a directory in the agent's temporary directory, made atomically
 * by proper-lockfile). The holder refreshes its mtime; a lock whose holder
 * died (even by SIGKILL) goes stale after STALE_MS and is taken over, so a
 * dead holder delays the next action by seconds, never forever.
 * KAHOLO_ECR_LOCK_STALE_MS shortens it, for tests only (DEVELOPMENT.md).
 */
const STALE_MS = Number(process.env.KAHOLO_ECR_LOCK_STALE_MS) || 10_000;
const POLL_MS = 100;

export interface LockRequest {
  /** The Docker engine whose image names are at stake, by its endpoint (engine-endpoint.ts). */
  engine: string;
  /** The image name the holder may write or remove. */
  reference: string;
  /** How long to wait for another holder at most. */
  waitMs: number;
  /** The action's time limit, which ends the wait too when it comes first. */
  limit?: TimeLimit;
  log: ActivityLog;
  interruption: Interruption;
}

/** Where the lock for (engine, reference) lives; names cannot clash and hold no path characters. */
export function lockPath(engine: string, reference: string): string {
  const key = createHash('sha256').update(`${engine}\0${reference}`).digest('hex').slice(0, 32);
  return path.join(os.tmpdir(), `kaholo-ecr.${key}.lock`);
}

/** Matches the name of every lock file this plugin makes. */
const LOCK_NAME = /^kaholo-ecr\.[0-9a-f]{32}\.lock$/;

/**
 * Removes the locks of holders that died (no longer refreshed for STALE_MS)
 * and that nobody asked for since: taking such a lock over and releasing it at
 * once is proper-lockfile's own way to tell stale from held.
 */
export async function clearStaleLocks(log: ActivityLog): Promise<void> {
  const dir = os.tmpdir();
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((name) => LOCK_NAME.test(name));
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      const release = await lockfile.lock(file, { lockfilePath: file, realpath: false, stale: STALE_MS, retries: 0 });
      await release();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ELOCKED' && code !== 'ENOENT') log.error(`Clean-up: could not clear the stale lock ${file}: ${(error as Error).message}`);
    }
  }
}

/** Runs `work` while holding the lock; waits for another holder within `waitMs` and the time limit, then fails saying for what. */
export async function withTransferLock<T>(request: LockRequest, work: () => Promise<T>): Promise<T> {
  const release = await acquire(request);
  try {
    return await work();
  } finally {
    await release().catch((error: Error) => request.log.error(`Releasing the lock for ${request.reference} failed: ${error.message}`));
  }
}

async function acquire({ engine, reference, waitMs, limit, log, interruption }: LockRequest): Promise<() => Promise<void>> {
  const file = lockPath(engine, reference);
  const ownDeadline = Date.now() + waitMs;
  const remaining = (): number => Math.max(0, Math.min(ownDeadline - Date.now(), limit?.remainingMs() ?? Infinity));
  let announced = false;
  for (;;) {
    interruption.check();
    try {
      return await lockfile.lock(file, {
        lockfilePath: file,
        realpath: false,
        stale: STALE_MS,
        retries: 0,
        // A refresh that failed for longer than STALE_MS: another action may now hold it too. Say so; the work goes on.
        onCompromised: (error) => log.error(`The lock for ${reference} was lost (${error.message}); another action may use that name too`),
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
        throw new PluginError(`Could not take the lock ${file} for ${shorten(reference)}: ${(error as Error).message}`);
      }
    }
    if (!announced) {
      log.info(`Waiting for another action on this agent that pushes or pulls ${reference} (up to ${Math.round(remaining() / 1000)} s)`);
      announced = true;
    }
    const left = remaining();
    if (left === 0) {
      const what = `another action on this agent to finish with ${shorten(reference)} (engine ${shorten(engine)}, lock ${file})`;
      if (limit !== undefined && limit.remainingMs() === 0) throw limit.exceeded(`it was still waiting for ${what}`);
      throw new PluginError(`Waited ${Math.round(waitMs / 1000)} s for ${what}; try again when it has finished`);
    }
    await interruption.sleep(Math.min(left, POLL_MS + Math.floor(Math.random() * POLL_MS)));
  }
}
