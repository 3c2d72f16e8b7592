import type { ActivityLog } from '../kaholo/activity-log';
import type { Interruption } from './interruption';
import type { TimeLimit } from '../params/time-limit';
import { acquireLock, lockFilePath, type LockKey } from './lock-file';

/**
 * Locks on names in a registry: a tag of a repository, whatever engine (or
 * none) an action uses, shared by every action on the agent (lock-file.ts).
 * A push holds those of its tag and its additional tags until its last tag is
 * written; tagImage those of every tag it writes; a copy those of its target
 * tags (and of the tag-schema indexes of referrers it lists). So actions on
 * one agent that write one tag end as if they had run one after the other. An action takes
 * its locks in one fixed order (sorted), so two actions never each hold one
 * the other waits for; and it takes them before any engine lock
 * (engine-lock.ts), whose holders never wait for one of these.
 */
export interface RegistryLockRequest {
  /** The tags to hold, as `tagReference` names them. */
  references: string[];
  /** How long to wait for another holder of each at most. */
  waitMs: number;
  /** The action's time limit, which ends a wait too when it comes first. */
  limit?: TimeLimit;
  log: ActivityLog;
  interruption: Interruption;
}

/** A tag in a registry as its lock knows it: `<host>/<repoName>:<tag>`, the host in lower case (it is case-blind). */
export function tagReference(host: string, repoName: string, tag: string): string {
  return `${host.toLowerCase()}/${repoName}:${tag}`;
}

function tagLock(reference: string): LockKey {
  return { kind: 'tag', key: reference, name: reference, holders: 'writes the tag' };
}

/** Where the lock of a tag (as `tagReference` names it) lives. */
export function registryLockPath(reference: string): string {
  return lockFilePath(tagLock(reference));
}

/** Runs `work` holding the lock of every tag named, taken in sorted order; each released after, whatever happened. */
export async function withRegistryLocks<T>(request: RegistryLockRequest, work: () => Promise<T>): Promise<T> {
  const references = [...new Set(request.references)].sort();
  const releases: Array<() => Promise<void>> = [];
  try {
    for (const reference of references) releases.push(await acquireLock(tagLock(reference), request));
    return await work();
  } finally {
    for (const release of releases.reverse()) await release();
  }
}
