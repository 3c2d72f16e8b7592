/**
 * A real Docker registry for the tests: Debian's `docker-registry` (CNCF distribution 2.8) with
 * filesystem storage in a private temporary directory and htpasswd (bcrypt) basic auth, listening
 * on 127.0.0.1 only, plain HTTP (docker treats 127.0.0.0/8 as an insecure registry by default).
 * With `tokenAuth` it trusts a token service instead (registry-tokens.ts), as public.ecr.aws does:
 * Bearer challenges, and tokens that may be anonymous.
 *
 * Lifecycle: `startRegistry()` → `stop()` (the port refuses connections; the data stays, so that
 * `start()` brings the same registry back on the same port) → `dispose()` (stops it and removes its
 * directory). Call `dispose()` in afterAll; directories not disposed are removed when the process
 * exits, and a running registry whose test process dies is stopped and removed by its watchdog.
 *
 * The password never appears in argv: the htpasswd entry is made by `htpasswd -niB`, which reads
 * the password from stdin.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import * as http from 'http';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { findExecutable, removeDirSync, startSupervised, waitFor, type Availability, type Supervised } from './docker-engine';
import { freePort } from './ports';
import type { RegistryTokenAuth } from './registry-tokens';

export interface RegistryOptions {
  /** Basic-auth user; default `AWS` (what an ECR token decodes to). */
  user?: string;
  /** The htpasswd password (unused with `tokenAuth`: the token service checks passwords). */
  password: string;
  /** Trust this token service instead of htpasswd. */
  tokenAuth?: RegistryTokenAuth;
}

export interface Registry {
  /** 'http://127.0.0.1:PORT' */
  readonly url: string;
  /** '127.0.0.1:PORT' (what `docker login` and image references use) */
  readonly host: string;
  readonly user: string;
  /** Private directory (config, htpasswd, storage under data/, log in registry.log). */
  readonly dir: string;
  /** Replaces the password; the old one stops working (the registry re-reads the htpasswd file). */
  setPassword(password: string): Promise<void>;
  /** Stops the server: the port refuses connections. The data is kept for start(). Idempotent. */
  stop(): Promise<void>;
  /** Starts it again after stop(): same port, same data, same password. */
  start(): Promise<void>;
  /** Stops it and removes its directory. Idempotent. */
  dispose(): Promise<void>;
  running(): boolean;
}

export const REGISTRY_LIFETIME_SECONDS = 3600;
const START_TIMEOUT_MS = 20_000;

const undisposed = new Set<string>();
let exitHookInstalled = false;
function trackDir(dir: string): void {
  undisposed.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const left of undisposed) removeDirSync(left);
    });
  }
}

async function registryBinary(): Promise<string | undefined> {
  return (await findExecutable('docker-registry')) ?? (await findExecutable('registry'));
}

/** Whether a registry can be started here (docker-registry and htpasswd installed). */
export async function registryAvailability(): Promise<Availability> {
  if (!(await registryBinary())) return { ok: false, reason: 'docker-registry (CNCF distribution) is not installed' };
  if (!(await findExecutable('htpasswd'))) return { ok: false, reason: 'htpasswd (apache2-utils) is not installed' };
  return { ok: true };
}

/** A bcrypt htpasswd line for `user`; the password goes through stdin. */
async function htpasswdLine(user: string, password: string): Promise<string> {
  if (/[:\n\r]/.test(user) || user === '') throw new Error(`invalid registry user ${JSON.stringify(user)}`);
  if (/[\n\r]/.test(password)) throw new Error('a registry password cannot contain a line break');
  const result = await execa('htpasswd', ['-niB', user], { input: `${password}\n`, reject: false });
  const line = result.stdout.split('\n').find((l) => l.startsWith(`${user}:$2`));
  if (result.exitCode !== 0 || !line) {
    throw new Error(`htpasswd failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
  }
  return line.trim();
}

async function writeHtpasswd(dir: string, user: string, password: string): Promise<void> {
  const file = path.join(dir, 'htpasswd');
  const temp = `${file}.${randomBytes(4).toString('hex')}`;
  await fs.writeFile(temp, `${await htpasswdLine(user, password)}\n`, { mode: 0o600 });
  await fs.rename(temp, file); // new inode and mtime: the registry reloads the file on its next request
}

/** Status code of GET url (credentials may be in the URL), or undefined when nothing answers. */
export function httpStatus(url: string, options: { headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: options.timeoutMs ?? 2_000, agent: false, headers: options.headers }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}

function configYaml(dir: string, port: number, tokenAuth: RegistryTokenAuth | undefined): string {
  const q = (s: string): string => JSON.stringify(s); // JSON strings are valid YAML scalars
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  formatter: text',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${q(path.join(dir, 'data'))}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${q(`127.0.0.1:${port}`)}`,
    `  secret: ${q(randomBytes(16).toString('hex'))}`,
    'auth:',
    ...(tokenAuth
      ? [
          '  token:',
          `    realm: ${q(tokenAuth.realm)}`,
          `    service: ${q(tokenAuth.service)}`,
          `    issuer: ${q(tokenAuth.issuer)}`,
          `    rootcertbundle: ${q(tokenAuth.rootCertBundle)}`,
        ]
      : ['  htpasswd:', '    realm: kaholo-test-registry', `    path: ${q(path.join(dir, 'htpasswd'))}`]),
    '',
  ].join('\n');
}

export async function startRegistry(options: RegistryOptions): Promise<Registry> {
  const binary = await registryBinary();
  if (!binary) throw new Error('Cannot start a registry: docker-registry (CNCF distribution) is not installed');
  const user = options.user ?? 'AWS';
  const dir = await fs.mkdtemp('/tmp/kreg-');
  trackDir(dir);
  const logFile = path.join(dir, 'registry.log');
  const configFile = path.join(dir, 'config.yml');
  let port = 0;
  let proc: Supervised | undefined;
  let disposed = false;

  const launch = async (): Promise<void> => {
    const url = `http://127.0.0.1:${port}`;
    const current = await startSupervised({
      command: binary,
      args: ['serve', configFile],
      dir,
      logFile,
      lifetimeSeconds: REGISTRY_LIFETIME_SECONDS,
      graceMs: 5_000,
    });
    proc = current;
    try {
      await waitFor(async () => (await httpStatus(`${url}/v2/`)) === 401, {
        timeoutMs: START_TIMEOUT_MS,
        what: `registry on ${url}`,
        stillRunning: () => current.running(),
        logFile,
        intervalMs: 100,
      });
    } catch (error) {
      await current.stop(false);
      throw error;
    }
  };

  try {
    if (!options.tokenAuth) await writeHtpasswd(dir, user, options.password);
    // The port is free when we look, but may be taken before the registry binds it: retry.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      await fs.writeFile(configFile, configYaml(dir, port, options.tokenAuth), { mode: 0o600 });
      try {
        await launch();
        break;
      } catch (error) {
        if (attempt >= 3 || !/address already in use/i.test(String(error))) throw error;
      }
    }
  } catch (error) {
    await proc?.stop(true);
    removeDirSync(dir);
    undisposed.delete(dir);
    throw error;
  }

  const host = `127.0.0.1:${port}`;
  const registry: Registry = {
    url: `http://${host}`,
    host,
    user,
    dir,
    setPassword: (password) => {
      if (options.tokenAuth) return Promise.reject(new Error('a registry with token auth has no password of its own: the token service checks it'));
      return writeHtpasswd(dir, user, password);
    },
    stop: async () => {
      await proc?.stop(false);
    },
    start: async () => {
      if (disposed) throw new Error('registry was disposed');
      if (proc?.running()) return;
      await launch();
    },
    dispose: async () => {
      disposed = true;
      await proc?.stop(true);
      await fs.rm(dir, { recursive: true, force: true });
      undisposed.delete(dir);
    },
    running: () => proc?.running() ?? false,
  };
  return registry;
}
