import type { ActivityLog } from '../activity-log';
import type { Interruption } from '../interruption';
import { withTransferLock } from '../transfer-lock';

/**
 * The engine slot of the lock key for names that live in a registry, not in
 * a Docker engine: `<registry host>/<repository>:<tag>`, shared by every
 * action on the agent that writes that tag through the registry's API. (A
 * lock key is an engine and a name; no engine endpoint is this word.)
 */
export const REGISTRY_NAMES = 'registry';

/**
 * Holds the lock of every name while `work` runs, taken one by one in a fixed
 * (sorted) order so that two actions wanting some of the same names cannot
 * each wait for the other; waits at most `waitMs` in all.
 */
export function registryNameLocks(log: ActivityLog, interruption: Interruption) {
  return <T>(names: string[], waitMs: number, work: () => Promise<T>): Promise<T> => {
    const sorted = [...new Set(names)].sort();
    const deadline = Date.now() + waitMs;
    const hold = (index: number): Promise<T> =>
      index === sorted.length
        ? work()
        : withTransferLock({ engine: REGISTRY_NAMES, reference: sorted[index], waitMs: Math.max(0, deadline - Date.now()), log, interruption }, () => hold(index + 1));
    return hold(0);
  };
}
