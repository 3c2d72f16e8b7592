import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ActivityLog } from '../kaholo/activity-log';
import type { DockerCli } from '../docker/docker-cli';
import { ownerOfPrivateConfig } from '../docker/docker-config';
import { restoreName } from '../docker/engine-names';
import type { Interruption } from './interruption';
import { isRunning } from './process-identity';
import { readAddedNames, type AddedName } from './added-names';
import { clearStaleLocks } from './lock-file';
import { withEngineLock } from './engine-lock';

/** How long the sweep waits for a name another action is using; it tries again next time. */
const SWEEP_LOCK_WAIT_MS = 20_000;

export interface SweepContext {
  docker: DockerCli;
  engine: string;
  log: ActivityLog;
  interruption: Interruption;
}

/**
 * Cleans what actions that were killed (SIGKILL, a crash) could not: their
 * private docker config directory (credentials included) and the names they
 * had added to this engine's images, if a name still names the image they
 * pointed it at. A directory is an orphan only when the process its name
 * records (pid and start time) no longer runs, so a running action's
 * directory is never touched, also when its pid was reused; anything not
 * named as a private config directory or a lock is not ours and is left
 * alone. Locks whose holder died go too.
 */
export async function sweepOrphans(context: SweepContext): Promise<void> {
  const tmp = os.tmpdir();
  for (const entry of await fs.readdir(tmp).catch(() => [] as string[])) {
    const owner = ownerOfPrivateConfig(entry);
    if (owner === undefined || isRunning(owner)) continue;
    const dir = path.join(tmp, entry);
    // Credentials first: they go whatever else happens.
    await fs.rm(path.join(dir, 'config.json'), { force: true }).catch((error: Error) => context.log.error(`Clean-up of an earlier action: ${error.message}`));
    const left: AddedName[] = [];
    const undone: string[] = [];
    for (const added of await readAddedNames(dir)) {
      if (added.engine === context.engine && (await undo(context, added))) undone.push(added.target);
      else left.push(added);
    }
    // Names on another engine wait for a sweep that reaches that engine.
    if (left.length === 0) await fs.rm(dir, { recursive: true, force: true });
    const names = undone.length > 0 ? ` and undid the name${undone.length > 1 ? 's' : ''} ${undone.join(', ')}` : '';
    context.log.info(`Cleaned up after an earlier action (pid ${owner.pid}) that ended without cleaning up: removed its private docker config${names}`);
  }
  await clearStaleLocks(context.log);
}

async function undo(context: SweepContext, added: AddedName): Promise<boolean> {
  try {
    return await withEngineLock({ ...context, reference: added.target, waitMs: SWEEP_LOCK_WAIT_MS }, () =>
      restoreName(context.docker, added, context.log),
    );
  } catch (error) {
    context.log.error(`Clean-up of an earlier action: ${(error as Error).message}`);
    return false;
  }
}
