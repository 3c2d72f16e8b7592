import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PRIVATE_CONFIG_PREFIX } from '../../src/docker/docker-config';
import { descendantsOf, isDockerCli, listProcesses, readEnvironmentBlock } from './processes';

/**
 * What an action must not leave behind, taken before and compared after:
 * private docker config directories, changes to the agent's docker config,
 * registry credentials in any docker config file, and docker processes.
 */
export interface Snapshot {
  tempConfigDirs: string[];
  agentConfigHash: string | undefined;
  dockerProcesses: number[];
  /** What the snapshot was taken of; leftoversSince() compares within the same unless told otherwise. */
  scope: LeftoverScope;
}

/**
 * Whose leftovers to look for. Without `tmpDir`: the machine's temporary directory and every
 * docker CLI process on the machine, which blames whatever else runs there at the same time
 * (other test files, other people's runs). With `tmpDir`, the TMPDIR the actions ran with (the
 * plugin makes its private DOCKER_CONFIG under os.tmpdir(), and docker inherits the environment):
 * - private config directories are looked for in `tmpDir` only;
 * - a docker CLI process counts when its environment carries `tmpDir` or it descends from this
 *   process (an action run here, or in an agent process started from here).
 */
export interface LeftoverScope {
  tmpDir?: string;
  /** The agent's docker config file, which must not change; default: defaultAgentConfigFile(). */
  agentConfigFile?: string;
}


export async function takeSnapshot(scope: LeftoverScope = {}): Promise<Snapshot> {
  return {
    tempConfigDirs: await privateConfigDirs(scope.tmpDir ?? os.tmpdir()),
    agentConfigHash: await hashFile(scope.agentConfigFile ?? defaultAgentConfigFile()),
    dockerProcesses: listProcesses()
      .filter(isDockerCli)
      .map((p) => p.pid),
    scope,
  };
}

/** Differences between two snapshots, as readable lines; empty when nothing was left behind. */
export async function leftoversSince(before: Snapshot, scope: LeftoverScope = before.scope): Promise<string[]> {
  const after = await takeSnapshot(scope);
  const problems: string[] = [];
  const newDirs = after.tempConfigDirs.filter((d) => !before.tempConfigDirs.includes(d));
  if (newDirs.length > 0) problems.push(`private docker config directories left: ${newDirs.join(', ')}`);
  if (after.agentConfigHash !== before.agentConfigHash) problems.push(`${scope.agentConfigFile ?? defaultAgentConfigFile()} changed`);
  const newProcesses = ownProcesses(
    after.dockerProcesses.filter((p) => !before.dockerProcesses.includes(p)),
    scope.tmpDir,
  );
  if (newProcesses.length > 0) problems.push(`docker CLI processes still running: ${newProcesses.join(', ')}`);
  return problems;
}

/** Docker config files under `roots` (and the private dirs) that mention a registry host or password. */
export async function filesMentioning(needles: string[], roots: string[] = [os.tmpdir(), path.join(os.homedir(), '.docker')]): Promise<string[]> {
  const hits: string[] = [];
  for (const root of roots) {
    for (const file of await configFiles(root)) {
      const text = await fs.readFile(file, 'utf8').catch(() => '');
      if (needles.some((n) => n !== '' && text.includes(n))) hits.push(file);
    }
  }
  return hits;
}

export function defaultAgentConfigFile(): string {
  return path.join(process.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker'), 'config.json');
}

/** Private docker config directories in `dir` right now. */
async function privateConfigDirs(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir).catch(() => [] as string[]);
  return entries.filter((e) => e.startsWith(PRIVATE_CONFIG_PREFIX)).map((e) => path.join(dir, e));
}

/** Those of `pids` that are ours in the scope of `tmpDir` (all of them without one). */
function ownProcesses(pids: number[], tmpDir: string | undefined): number[] {
  if (tmpDir === undefined || pids.length === 0) return pids;
  const below = new Set(descendantsOf(process.pid, listProcesses()).map((p) => p.pid));
  return pids.filter((pid) => below.has(pid) || readEnvironmentBlock(pid).includes(tmpDir));
}

async function hashFile(file: string): Promise<string | undefined> {
  const data = await fs.readFile(file).catch(() => undefined);
  return data === undefined ? undefined : createHash('sha256').update(data).digest('hex');
}

/** config.json files one or two levels below `root` (docker config dirs and the dirs holding them). */
async function configFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  const direct = path.join(root, 'config.json');
  if (await fs.stat(direct).then((s) => s.isFile()).catch(() => false)) files.push(direct);
  for (const entry of await fs.readdir(root).catch(() => [] as string[])) {
    const candidate = path.join(root, entry, 'config.json');
    if (await fs.stat(candidate).then((s) => s.isFile()).catch(() => false)) files.push(candidate);
  }
  return files;
}
