/**
 * The one entry point of the tests that need real parts (a Docker engine, a registry).
 *
 * Engine sharing: jest's globalSetup (global-setup.ts) checks availability ONCE per jest run,
 * starts or finds the engine, and publishes through process.env (inherited by the workers):
 *   KAHOLO_E2E_DOCKER          'ready' | 'unavailable'
 *   KAHOLO_E2E_DOCKER_REASON   why it is unavailable
 *   KAHOLO_E2E_DOCKER_STARTED  '1' when the harness started a private dockerd, '0' for an existing engine
 *   DOCKER_HOST                the engine
 * Without that globalSetup (jest.config.js not wired, or another runner), startE2eEnvironment()
 * checks and starts an engine itself, for the test file that asked (and stop() stops it).
 *
 * Gating idiom (recommended): describeWithDocker, which decides at load time, skips with ONE line
 * when there is no engine, and FAILS the file when CI=true:
 *
 *   describeWithDocker('push and pull', (e2e) => {
 *     let registry: Registry;
 *     beforeAll(async () => { registry = await e2e().startRegistry({ password: 'pw' }); });
 *     test('pushes', async () => { ... run the plugin with { ...process.env, ...e2e().env } ... });
 *   });
 *
 * `e2e()` is valid inside hooks and tests (the environment starts in a beforeAll). Registries made
 * with e2e().startRegistry() are disposed when the block ends; so is an engine the block started.
 * Lower level: `const e2e = await startE2eEnvironment(); if (!e2e) return;` in your own hooks.
 */
import execa from 'execa';
import { accessSync, constants as fsConstants } from 'fs';
import * as path from 'path';
import {
  DEFAULT_DOCKER_SOCKET,
  dockerAvailability,
  dockerServerVersion,
  ensureDockerEngine,
  type Availability,
  type DockerEngine,
  type DockerEnv,
} from '../../devkit/docker-engine';
import { tinyproxyInstalled } from '../../devkit/proxy';
import { registryAvailability, startRegistry, type Registry, type RegistryOptions } from '../../devkit/registry';

export const MARKER = 'KAHOLO_E2E_DOCKER';
export const MARKER_REASON = 'KAHOLO_E2E_DOCKER_REASON';
export const MARKER_STARTED = 'KAHOLO_E2E_DOCKER_STARTED';
/** Set KAHOLO_E2E=off to skip the real-parts tests on purpose (no engine is started; still a failure under CI=true). */
export const OPT_OUT = 'KAHOLO_E2E';

/** How long the environment may take to come up in a beforeAll (engine start included). */
export const E2E_SETUP_TIMEOUT_MS = 90_000;

export interface E2eEnvironment {
  /** Environment for child processes that use docker: merge into process.env. */
  env: DockerEnv;
  /** The engine (shared across the run when started by globalSetup). */
  engine: DockerEngine;
  /** Starts a registry that stop() disposes. */
  startRegistry(options: RegistryOptions): Promise<Registry>;
  /** Disposes the registries; stops the engine only if this environment started it. */
  stop(): Promise<void>;
}

export function isCi(): boolean {
  return process.env.CI === 'true';
}

export function skipLine(reason: string): string {
  return `e2e: skipped — no Docker engine (${reason}); install docker.io, docker-registry and apache2-utils, run as root`;
}

function unavailableError(reason: string): Error {
  return new Error(`e2e: CI=true but the real-parts tests cannot run: ${reason}. CI must run them (install docker.io, docker-registry and apache2-utils; run as root).`);
}

/** Engine and registry both available (async, as used by globalSetup). */
export async function e2eAvailability(): Promise<Availability> {
  if (process.env[OPT_OUT] === 'off') return { ok: false, reason: `disabled by ${OPT_OUT}=off` };
  const docker = await dockerAvailability();
  if (!docker.ok) return docker;
  return registryAvailability();
}

function onPathSync(name: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  return dirs.some((dir) => {
    try {
      accessSync(path.join(dir, name), fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function answersSync(dockerHost: string): boolean {
  const result = execa.sync('docker', ['version', '--format', '{{.Server.Version}}'], {
    env: { DOCKER_HOST: dockerHost },
    reject: false,
    timeout: 10_000,
    stdin: 'ignore',
  });
  return result.exitCode === 0 && result.stdout.trim() !== '';
}

/** The same decision as e2eAvailability(), synchronously (describe blocks are declared synchronously). */
export function e2eAvailabilitySync(): Availability {
  const marker = process.env[MARKER];
  if (marker === 'ready') return { ok: true };
  if (marker === 'unavailable') return { ok: false, reason: process.env[MARKER_REASON] ?? 'unknown reason' };
  if (process.env[OPT_OUT] === 'off') return { ok: false, reason: `disabled by ${OPT_OUT}=off` };
  if (!onPathSync('docker')) return { ok: false, reason: 'docker CLI not found on PATH' };
  if (!onPathSync('docker-registry') && !onPathSync('registry')) return { ok: false, reason: 'docker-registry (CNCF distribution) is not installed' };
  if (!onPathSync('htpasswd')) return { ok: false, reason: 'htpasswd (apache2-utils) is not installed' };
  const envHost = process.env.DOCKER_HOST;
  if (envHost && answersSync(envHost)) return { ok: true };
  if (answersSync(`unix://${DEFAULT_DOCKER_SOCKET}`)) return { ok: true };
  if (!onPathSync('dockerd')) return { ok: false, reason: 'no engine answers, and dockerd is not installed' };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { ok: false, reason: 'no engine answers, and starting a private dockerd needs root' };
  return { ok: true };
}

let warned = false;
function warnOnce(reason: string): void {
  if (warned) return;
  warned = true;
  // One line (console.warn inside a jest test file adds a header and a stack location).
  process.stderr.write(`${skipLine(reason)}\n`);
}

/**
 * The environment, or undefined (after one warning line) when there is no Docker engine.
 * Throws under CI=true instead of skipping.
 */
export async function startE2eEnvironment(): Promise<E2eEnvironment | undefined> {
  const marker = process.env[MARKER];
  let engine: DockerEngine;
  if (marker === 'unavailable') {
    const reason = process.env[MARKER_REASON] ?? 'unknown reason';
    if (isCi()) throw unavailableError(reason);
    return undefined; // globalSetup printed the line already
  } else if (marker === 'ready') {
    const host = process.env.DOCKER_HOST;
    if (!host || !(await dockerServerVersion(host))) {
      throw new Error(`e2e: the Docker engine published by globalSetup (DOCKER_HOST=${host ?? ''}) does not answer`);
    }
    engine = { env: { DOCKER_HOST: host }, started: false, stop: () => Promise.resolve() };
  } else {
    const availability = await e2eAvailability();
    if (!availability.ok) {
      if (isCi()) throw unavailableError(availability.reason);
      warnOnce(availability.reason);
      return undefined;
    }
    engine = await ensureDockerEngine();
  }

  const registries: Registry[] = [];
  return {
    env: engine.env,
    engine,
    startRegistry: async (options) => {
      const registry = await startRegistry(options);
      registries.push(registry);
      return registry;
    },
    stop: async () => {
      const errors: unknown[] = [];
      for (const registry of registries.splice(0)) await registry.dispose().catch((e: unknown) => errors.push(e));
      await engine.stop().catch((e: unknown) => errors.push(e));
      if (errors.length > 0) throw errors[0];
    },
  };
}

/**
 * `describe` for tests that need real parts: runs when an engine is (or can be) there, otherwise
 * `describe.skip` with one line — and under CI=true it throws, failing the test file.
 */
export function describeWithDocker(name: string, body: (e2e: () => E2eEnvironment) => void): void {
  const availability = e2eAvailabilitySync();
  if (!availability.ok) {
    if (isCi()) throw unavailableError(availability.reason);
    if (process.env[MARKER] !== 'unavailable') warnOnce(availability.reason);
    describe.skip(name, () =>
      body(() => {
        throw new Error('e2e environment unavailable');
      }),
    );
    return;
  }
  describe(name, () => {
    let environment: E2eEnvironment | undefined;
    beforeAll(async () => {
      environment = await startE2eEnvironment();
      if (!environment) throw new Error('e2e: Docker engine unavailable after all');
    }, E2E_SETUP_TIMEOUT_MS);
    body(() => {
      if (!environment) throw new Error('e2e: environment not started (use e2e() inside hooks and tests only)');
      return environment;
    });
    // Declared after the body's hooks: jest runs afterAll hooks in declaration order, so the body's
    // own cleanup (which may still need the engine) runs first.
    afterAll(async () => {
      await environment?.stop();
    }, E2E_SETUP_TIMEOUT_MS);
  });
}

/**
 * `describe` for tests that need tinyproxy: skipped with one line where it is not installed, and a
 * failure under CI=true (which installs it), never a skip there.
 */
export function describeWithTinyproxy(name: string, body: () => void): void {
  if (tinyproxyInstalled()) {
    describe(name, body);
    return;
  }
  if (isCi()) throw new Error('CI=true but tinyproxy is not installed: CI must run the proxy tests (apt-get install tinyproxy)');
  process.stderr.write('proxy tests: skipped — tinyproxy is not installed (apt-get install tinyproxy)\n');
  describe.skip(name, body);
}
