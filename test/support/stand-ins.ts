/**
 * Builds the stand-in executables of test/support/stand-ins/ (TypeScript,
 * linted and type-checked like the rest) into a bin directory a test puts
 * first on an action's PATH, and drives the gated `docker` stand-in.
 */
import { buildSync } from 'esbuild';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findExecutable } from './docker-engine';

export interface StandInBin {
  /** Directory to put first on PATH. */
  dir: string;
  remove(): Promise<void>;
}

const SOURCES = path.join(__dirname, 'stand-ins');

/** Makes a bin directory with the named stand-ins: `docker` (gated) and/or the credential helpers. */
export async function buildStandIns(which: { docker?: boolean; credentialHelpers?: boolean }): Promise<StandInBin> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'standin-bin-'));
  const install = async (source: string, names: string[]): Promise<void> => {
    const [first, ...others] = names.map((name) => path.join(dir, name));
    buildSync({
      entryPoints: [path.join(SOURCES, source)],
      outfile: first,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node18',
      banner: { js: `#!${process.execPath}` },
      logLevel: 'warning',
    });
    await fs.chmod(first, 0o755);
    for (const other of others) await fs.copyFile(first, other).then(() => fs.chmod(other, 0o755));
  };
  if (which.docker) await install('gated-docker.ts', ['docker']);
  if (which.credentialHelpers) await install('credential-helper.ts', ['docker-credential-secretservice', 'docker-credential-pass']);
  return { dir, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}

/** One action's gate: what to hold, and the calls to reach and release each hold. */
export interface Gate {
  /** Environment for the action that holds the given subcommands. */
  env: Record<string, string>;
  /** Resolves when the subcommand reached its hold (bounded). */
  reached(subcommand: string, timeoutMs?: number): Promise<void>;
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
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'standin-gate-'));
  return {
    env: { STANDIN_GATE_DIR: dir, STANDIN_HOLD: holds.join(','), STANDIN_REAL_DOCKER: realDocker },
    async reached(subcommand, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!existsSync(path.join(dir, `${subcommand}.reached`))) {
        if (Date.now() > deadline) throw new Error(`docker ${subcommand} did not reach its hold within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    release: (subcommand) => fs.writeFile(path.join(dir, `${subcommand}.release`), ''),
    async calls() {
      const text = await fs.readFile(path.join(dir, 'calls.log'), 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean);
    },
    remove: () => fs.rm(dir, { recursive: true, force: true }),
  };
}
