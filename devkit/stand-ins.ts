/**
 * Stand-ins for races and faults with deterministic timing, on the kit's one stand-in docker
 * (devkit/bin/docker.js, real mode): a bin directory to put first on an action's PATH, and a gate
 * per action that holds chosen docker subcommands until the test releases them. Also the stand-in
 * credential helpers (devkit/bin/docker-credential.js), to tell whether any action used a store.
 */
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installDockerStandIn } from './docker-stand-in';
import { findExecutable } from './docker-engine';
import { completeLines } from './whole-file';

export interface StandInBin {
  /** Directory to put first on PATH. */
  dir: string;
  remove(): Promise<void>;
}

const CREDENTIAL_HELPER = path.join(__dirname, 'bin', 'docker-credential.js');

/** A bin directory with the stand-in `docker` (real mode) and/or the credential helpers. */
export async function buildStandIns(which: { docker?: boolean; credentialHelpers?: boolean }): Promise<StandInBin> {
  const docker = which.docker ? await installDockerStandIn({ mode: 'real' }) : undefined;
  const dir = docker?.binDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'kdk-docker-')));
  if (which.credentialHelpers) {
    for (const name of ['docker-credential-secretservice', 'docker-credential-pass']) await fs.symlink(CREDENTIAL_HELPER, path.join(dir, name));
  }
  return { dir, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}

/** One action's gate: what to hold, and the calls to reach and release each hold. */
export interface Gate {
  /** Environment for the action that holds the given subcommands. */
  env: Record<string, string>;
  /** Resolves when the subcommand reached its hold (bounded). */
  reached(subcommand: string, timeoutMs?: number): Promise<void>;
  /** Whether the subcommand has reached its hold by now. */
  hasReached(subcommand: string): boolean;
  release(subcommand: string): Promise<void>;
  /** Subcommand lines docker was called with so far (argv joined by spaces). */
  calls(): Promise<string[]>;
  remove(): Promise<void>;
}

/** A gate for one action: the stand-in holds `holds` (e.g. ['push'], ['tag:after']) until released. */
export async function makeGate(holds: string[]): Promise<Gate> {
  // The real CLI the stand-in runs: the docker on this (the test's) PATH, where no stand-in is.
  const realDocker = await findExecutable('docker');
  if (realDocker === undefined) throw new Error('no docker CLI on PATH for the stand-in to run');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kdk-gate-'));
  return {
    env: { STANDIN_GATE_DIR: dir, STANDIN_HOLD: holds.join(','), STANDIN_REAL_DOCKER: realDocker },
    async reached(subcommand, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!existsSync(path.join(dir, `${subcommand}.reached`))) {
        if (Date.now() > deadline) throw new Error(`docker ${subcommand} did not reach its hold within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    hasReached: (subcommand) => existsSync(path.join(dir, `${subcommand}.reached`)),
    release: (subcommand) => fs.writeFile(path.join(dir, `${subcommand}.release`), ''),
    async calls() {
      const text = await fs.readFile(path.join(dir, 'calls.log'), 'utf8').catch(() => '');
      return completeLines(text); // a line still being appended waits for the next read
    },
    remove: () => fs.rm(dir, { recursive: true, force: true }),
  };
}
