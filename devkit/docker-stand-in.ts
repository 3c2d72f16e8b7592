/**
 * Puts the kit's stand-in `docker` (devkit/bin/docker.js) first on PATH, in a directory of its own
 * with the stand-in.json that picks its mode; see that file for the modes. Unit tests use `fake`
 * (no engine), the security tests `leaky`, race tests `real` with delays or waits on chosen
 * subcommands before the real CLI runs.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findExecutable } from './docker-engine';
import { completeLines, writeWhole } from './whole-file';

export type FakeDockerScenario = 'ok' | 'daemon-down' | 'no-local-image' | 'unknown-tag' | 'login-denied' | 'slow-push' | 'push-missing' | 'push-no-repository' | 'quiet-pull' | 'quiet-pull-elsewhere';

export type DockerStandInMode =
  | { mode: 'fake'; scenario?: FakeDockerScenario; localImages?: string[] }
  | { mode: 'leaky'; fail?: string[] }
  | {
      mode: 'real';
      /** Milliseconds to wait before running a subcommand, by subcommand (`push`, `login`, ...). */
      delays?: Record<string, number>;
      /** A file to wait for before running a subcommand, by subcommand. */
      waits?: Record<string, string>;
      /** Bound of each wait for a file (default 30 s): then the command fails. */
      waitMs?: number;
    };

export interface DockerCall {
  argv: string[];
  /** What `login` read on stdin (fake and leaky modes only). */
  stdin: string;
  dockerConfig: string | undefined;
  configJson: string | undefined;
  dockerHost: string | undefined;
  pid: number;
  /** The process that ran this docker command (the action's node process: setpriv execs docker in its place). */
  ppid: number;
  /** Date.now() when the call began, before any wait. */
  at: number;
}
/** The name the unit tests know it by. */
export type FakeDockerCall = DockerCall;

export interface DockerStandIn {
  /** Directory to put first on PATH. */
  binDir: string;
  /** PATH with binDir first, for a child's environment. */
  path: string;
  /** Every call so far, in order. */
  calls(): Promise<DockerCall[]>;
  /** Resolves with the first call of `subcommand` (it may be waiting there); rejects after timeoutMs. */
  waitForCall(subcommand: string, timeoutMs: number): Promise<DockerCall>;
  /** Changes the mode or its settings for the calls that follow. */
  set(mode: DockerStandInMode): Promise<void>;
  remove(): Promise<void>;
}
export type FakeDocker = DockerStandIn;

export const FAKE_DIGEST = `sha256:${'ab'.repeat(32)}`;
const EXECUTABLE = path.join(__dirname, 'bin', 'docker.js');

export async function installDockerStandIn(mode: DockerStandInMode = { mode: 'fake' }): Promise<DockerStandIn> {
  const binDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kdk-docker-'));
  const log = path.join(binDir, 'calls.jsonl');
  const realDocker = await findExecutable('docker'); // found before binDir goes first on PATH
  // Written whole: a call of an action still running may be reading it.
  const set = (next: DockerStandInMode): Promise<void> => {
    writeWhole(path.join(binDir, 'stand-in.json'), JSON.stringify({ ...next, log, realDocker }));
    return Promise.resolve();
  };
  await set(mode);
  await fs.writeFile(log, '');
  await fs.symlink(EXECUTABLE, path.join(binDir, 'docker'));
  // Calls append to the log while it is read: a line still being written waits for the next read.
  const calls = async (): Promise<DockerCall[]> => completeLines(await fs.readFile(log, 'utf8')).map((line) => JSON.parse(line) as DockerCall);
  return {
    binDir,
    path: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`,
    calls,
    async waitForCall(subcommand, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const call = (await calls()).find((c) => c.argv.find((a) => !a.startsWith('-')) === subcommand);
        if (call) return call;
        if (Date.now() > deadline) throw new Error(`no docker ${subcommand} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    set,
    remove: () => fs.rm(binDir, { recursive: true, force: true }),
  };
}

/** The fake mode, as the unit tests use it. */
export function installFakeDocker(): Promise<DockerStandIn> {
  return installDockerStandIn({ mode: 'fake' });
}
