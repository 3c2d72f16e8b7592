/**
 * `leftoversSince` (test/support/leftovers.ts) for the actions of one test, when other test files
 * or other people's runs on the same machine make private docker configs and docker processes at
 * the same time. The actions run in agent processes (support/agent-process.ts) whose TMPDIR is a
 * directory of the test's own: the plugin makes its private DOCKER_CONFIG under os.tmpdir(), and
 * the docker processes it starts inherit TMPDIR. So:
 * - private config directories are looked for in that directory (the shared one is not ours);
 * - a docker process counts as left behind when it carries that TMPDIR;
 * - the agent's docker config is compared as leftoversSince does.
 * (Setting TMPDIR inside a jest test file would not do: jest gives the test its own copy of
 * process.env, and node's os.tmpdir() reads the real one.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { leftoversSince, takeSnapshot, type Snapshot } from '../../support/leftovers';

const PROCESSES_LEFT = 'docker CLI processes still running: ';
const DIRS_LEFT = 'private docker config directories left: ';
const PRIVATE_CONFIG_PREFIX = 'kaholo-ecr-';

function carriesTmpdir(pid: number, tmpDir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`TMPDIR=${tmpDir}`);
  } catch {
    return false; // gone since
  }
}

/** Private docker config directories in `tmpDir` right now. */
export function privateConfigsIn(tmpDir: string): string[] {
  try {
    return readdirSync(tmpDir)
      .filter((entry) => entry.startsWith(PRIVATE_CONFIG_PREFIX))
      .map((entry) => path.join(tmpDir, entry));
  } catch {
    return [];
  }
}

export async function ownSnapshot(tmpDir: string, agentConfigFile?: string): Promise<Snapshot> {
  const snapshot = await takeSnapshot(agentConfigFile);
  return { ...snapshot, tempConfigDirs: privateConfigsIn(tmpDir) };
}

/** What the actions that ran with TMPDIR=tmpDir left behind since `before` (empty: nothing). */
export async function ownLeftovers(tmpDir: string, before: Snapshot, agentConfigFile?: string): Promise<string[]> {
  const problems = (await leftoversSince(before, agentConfigFile)).flatMap((problem) => {
    if (problem.startsWith(DIRS_LEFT)) return []; // the shared temporary directory: not where ours go
    if (!problem.startsWith(PROCESSES_LEFT)) return [problem];
    const ours = problem
      .slice(PROCESSES_LEFT.length)
      .split(', ')
      .map(Number)
      .filter((pid) => carriesTmpdir(pid, tmpDir));
    return ours.length > 0 ? [`${PROCESSES_LEFT}${ours.join(', ')}`] : [];
  });
  const newDirs = privateConfigsIn(tmpDir).filter((dir) => !before.tempConfigDirs.includes(dir));
  if (newDirs.length > 0) problems.unshift(`${DIRS_LEFT}${newDirs.join(', ')}`);
  return problems;
}
