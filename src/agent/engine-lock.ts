import type { ActivityLog } from '../kaholo/activity-log';
import { shorten } from '../errors';
import type { Interruption } from './interruption';
import { acquireLock, lockFilePath, type LockKey } from './lock-file';
import type { TimeLimit } from '../params/time-limit';

/**
 * The lock of one image name on one Docker engine (lock-file.ts), shared by
 * every action on the agent, because an engine's image names are: a push
 * holds it around naming, pushing and restoring the name; a pull around the
 * pull; the sweep around undoing a name a killed action had added.
 */
export interface EngineLockRequest {
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

function engineLock(engine: string, reference: string): LockKey {
  return { kind: 'engine', key: `${engine}\0${reference}`, name: reference, holders: 'pushes or pulls', where: `engine ${shorten(engine)}` };
}

/** Where the lock for (engine, reference) lives. */
export function engineLockPath(engine: string, reference: string): string {
  return lockFilePath(engineLock(engine, reference));
}

/** Runs `work` while holding the lock; waits for another holder within `waitMs` and the time limit, then fails saying for what. */
export async function withEngineLock<T>(request: EngineLockRequest, work: () => Promise<T>): Promise<T> {
  const release = await acquireLock(engineLock(request.engine, request.reference), request);
  try {
    return await work();
  } finally {
    await release();
  }
}
