import type { ActivityLog } from '../kaholo/activity-log';
import { shorten } from '../errors';
import type { Interruption } from './interruption';
import { acquireLock, lockFilePath, type LockKey } from './lock-file';
import type { TimeLimit } from '../params/time-limit';

/**
 * One lock per Docker engine and image reference (lock-file.ts), shared by
 * every action on the agent: a push holds it around naming, pushing and
 * restoring the name; a pull around the pull.
 */
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

function engineLock(engine: string, reference: string): LockKey {
  return { kind: 'engine', key: `${engine}\0${reference}`, name: reference, holders: 'pushes or pulls', where: `engine ${shorten(engine)}` };
}

/** Where the lock for (engine, reference) lives. */
export function lockPath(engine: string, reference: string): string {
  return lockFilePath(engineLock(engine, reference));
}

/** Runs `work` while holding the lock; waits for another holder within `waitMs` and the time limit, then fails saying for what. */
export async function withTransferLock<T>(request: LockRequest, work: () => Promise<T>): Promise<T> {
  const release = await acquireLock(engineLock(request.engine, request.reference), request);
  try {
    return await work();
  } finally {
    await release();
  }
}
