import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import type { ActivityLog } from '../kaholo/activity-log';
import { PluginError, shorten } from '../errors';
import type { TimeLimit } from '../params/time-limit';
import type { Interruption } from './interruption';

/**
 * The agent-wide locks every action on the agent shares: a directory in the
 * agent's temporary directory per lock, made atomically by proper-lockfile.
 * The holder refreshes its mtime; a lock whose holder died (even by SIGKILL)
 * goes stale STALE_MS after its last refresh and is taken over, so a dead
 * holder delays the next action by seconds, never forever. (The first lock a
 * process takes is dated at the next whole second until its first refresh, by
 * proper-lockfile's probe of the mtime precision: up to 1 s more.) On SIGTERM the holder's clean-up
 * releases it (and proper-lockfile's exit hook does, should the process end
 * some other way). Two kinds share this: an engine's image names
 * (engine-lock.ts) and names in a registry (registry-lock.ts).
 * KAHOLO_ECR_LOCK_STALE_MS shortens STALE_MS, for tests only (DEVELOPMENT.md).
 */
const STALE_MS = Number(process.env.KAHOLO_ECR_LOCK_STALE_MS) || 10_000;
const POLL_MS = 100;

/** What a lock guards, for its file name and the messages about it. */
export interface LockKey {
  /** `engine` for an engine's image name, `tag` for a tag in a registry: kinds never share a file. */
  kind: 'engine' | 'tag';
  /** What identifies it within its kind (hashed into the file name). */
  key: string;
  /** The name at stake, as messages show it. */
  name: string;
  /** What a holder of this lock does with the name, for the waiting line: "pushes or pulls". */
  holders: string;
  /** Said after the name when a wait runs out: "engine unix:///run/docker.sock". */
  where?: string;
}

export interface LockWait {
  /** How long to wait for another holder at most. */
  waitMs: number;
  /** The action's time limit, which ends the wait too when it comes first. */
  limit?: TimeLimit;
  log: ActivityLog;
  interruption: Interruption;
}

/** Where a lock lives; names cannot clash and hold no path characters. */
export function lockFilePath({ kind, key }: Pick<LockKey, 'kind' | 'key'>): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 32);
  return path.join(os.tmpdir(), kind === 'engine' ? `kaholo-ecr.${hash}.lock` : `kaholo-ecr.${kind}.${hash}.lock`);
}

/** Matches the name of every lock file this plugin makes. */
const LOCK_NAME = /^kaholo-ecr\.(?:tag\.)?[0-9a-f]{32}\.lock$/;

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

/**
 * Takes the lock, waiting for another holder within `waitMs` and the time
 * limit (an interrupt ends the wait), then fails saying for what. Returns its
 * release, which never throws (a failure is logged).
 */
export async function acquireLock(lock: LockKey, { waitMs, limit, log, interruption }: LockWait): Promise<() => Promise<void>> {
  const file = lockFilePath(lock);
  const ownDeadline = Date.now() + waitMs;
  const remaining = (): number => Math.max(0, Math.min(ownDeadline - Date.now(), limit?.remainingMs() ?? Infinity));
  let announced = false;
  for (;;) {
    interruption.check();
    try {
      const release = await lockfile.lock(file, {
        lockfilePath: file,
        realpath: false,
        stale: STALE_MS,
        retries: 0,
        // A refresh that failed for longer than STALE_MS: another action may now hold it too. Say so; the work goes on.
        onCompromised: (error) => log.error(`The lock for ${lock.name} was lost (${error.message}); another action may use that name too`),
      });
      return () => release().catch((error: Error) => log.error(`Releasing the lock for ${lock.name} failed: ${error.message}`));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
        throw new PluginError(`Could not take the lock ${file} for ${shorten(lock.name)}: ${(error as Error).message}`);
      }
    }
    if (!announced) {
      log.info(`Waiting for another action on this agent that ${lock.holders} ${lock.name} (up to ${Math.round(remaining() / 1000)} s)`);
      announced = true;
    }
    const left = remaining();
    if (left === 0) {
      const where = lock.where !== undefined ? `${lock.where}, ` : '';
      const what = `another action on this agent to finish with ${shorten(lock.name)} (${where}lock ${file})`;
      if (limit !== undefined && limit.remainingMs() === 0) throw limit.exceeded(`it was still waiting for ${what}`);
      throw new PluginError(`Waited ${Math.round(waitMs / 1000)} s for ${what}; try again when it has finished`);
    }
    await interruption.sleep(Math.min(left, POLL_MS + Math.floor(Math.random() * POLL_MS)));
  }
}
