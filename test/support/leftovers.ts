import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * What an action must not leave behind, taken before and compared after:
 * private docker config directories, changes to the agent's docker config,
 * registry credentials in any docker config file, and docker processes.
 */
export interface Snapshot {
  tempConfigDirs: string[];
  agentConfigHash: string | undefined;
  dockerProcesses: number[];
}

/** The prefix the plugin gives its private DOCKER_CONFIG directories. */
const PRIVATE_CONFIG_PREFIX = 'kaholo-ecr-';

export async function takeSnapshot(agentConfigFile = defaultAgentConfigFile()): Promise<Snapshot> {
  return {
    tempConfigDirs: await privateConfigDirs(),
    agentConfigHash: await hashFile(agentConfigFile),
    dockerProcesses: await dockerCliProcesses(),
  };
}

/** Differences between two snapshots, as readable lines; empty when nothing was left behind. */
export async function leftoversSince(before: Snapshot, agentConfigFile = defaultAgentConfigFile()): Promise<string[]> {
  const after = await takeSnapshot(agentConfigFile);
  const problems: string[] = [];
  const newDirs = after.tempConfigDirs.filter((d) => !before.tempConfigDirs.includes(d));
  if (newDirs.length > 0) problems.push(`private docker config directories left: ${newDirs.join(', ')}`);
  if (after.agentConfigHash !== before.agentConfigHash) problems.push(`${agentConfigFile} changed`);
  const newProcesses = after.dockerProcesses.filter((p) => !before.dockerProcesses.includes(p));
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

async function privateConfigDirs(): Promise<string[]> {
  const entries = await fs.readdir(os.tmpdir()).catch(() => [] as string[]);
  return entries.filter((e) => e.startsWith(PRIVATE_CONFIG_PREFIX)).map((e) => path.join(os.tmpdir(), e));
}

async function hashFile(file: string): Promise<string | undefined> {
  const data = await fs.readFile(file).catch(() => undefined);
  return data === undefined ? undefined : createHash('sha256').update(data).digest('hex');
}

/** `docker` CLI processes (not the daemon) of this machine, by pid. */
async function dockerCliProcesses(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await fs.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const argv0 = path.basename(cmdline.split('\0')[0] ?? '');
    if (argv0 === 'docker') pids.push(Number(entry));
  }
  return pids;
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
