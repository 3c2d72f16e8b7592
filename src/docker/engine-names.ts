import type { ActivityLog } from '../kaholo/activity-log';
import { DockerCli, DockerCommandError } from './docker-cli';
import type { AddedName } from '../agent/added-names';

/** Bound on a docker command that only talks to the engine (inspect, tag, rmi). */
export const LOCAL_TIMEOUT_MS = 2 * 60 * 1000;

/** The id of the image `reference` names in the engine now; undefined when it names none. */
export async function imageIdOf(docker: DockerCli, reference: string, cleanup = false): Promise<string | undefined> {
  try {
    const { stdout } = await docker.run(['image', 'inspect', '--format', '{{.Id}}', reference], {
      timeoutMs: LOCAL_TIMEOUT_MS,
      afterInterrupt: cleanup,
    });
    return lastLine(stdout);
  } catch (error) {
    if (error instanceof DockerCommandError && /No such image/i.test(error.stderr)) return undefined;
    throw error;
  }
}

/**
 * Undoes a name an action added: the name goes back to the image it named
 * before, or is removed if it named none; but only while it still names the
 * image the action pointed it at (anything else was done by someone else and
 * stays). Runs as clean-up, so an interrupt does not stop it; a failure is
 * logged and returned, never swallowed.
 */
export async function restoreName(docker: DockerCli, added: AddedName, log: ActivityLog): Promise<boolean> {
  try {
    const current = await imageIdOf(docker, added.target, true);
    if (current !== added.imageId) {
      if (current !== undefined) log.info(`Left ${added.target} as it is: it now names another image`);
      return true;
    }
    if (added.previousId !== undefined) {
      await docker.run(['tag', added.previousId, added.target], { timeoutMs: LOCAL_TIMEOUT_MS, afterInterrupt: true });
      log.info(`${added.target} names the image it named before again`);
    } else {
      await docker.run(['rmi', '--no-prune', added.target], { timeoutMs: LOCAL_TIMEOUT_MS, afterInterrupt: true });
      log.info(`Removed the name ${added.target} this action had added`);
    }
    return true;
  } catch (error) {
    log.error(`Clean-up: could not undo the name ${added.target}: ${(error as Error).message}`);
    return false;
  }
}

/** What a --format query answers: its last line (anything before it is not the answer). */
export function lastLine(stdout: string): string {
  return stdout.trim().split('\n').pop() ?? '';
}
