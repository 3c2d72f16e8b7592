/**
 * A Docker engine for the tests that use real parts (see DESIGN.md, "Testing with real parts").
 *
 * `ensureDockerEngine()` uses an engine that already answers (DOCKER_HOST, then the default socket);
 * otherwise, as root, it starts a private `dockerd` (Debian's docker.io) in a fresh temporary
 * directory: its own data root (vfs), exec root, pid file and unix socket, no iptables, no bridge.
 *
 * Every long-running process of the harness (this engine, the registry of registry.ts) runs under
 * `startSupervised()`: a small watchdog process (node) that
 *  - starts the command under `timeout`, so it stops by itself after its lifetime even if everything
 *    else is killed;
 *  - stops it (SIGTERM, grace, SIGKILL on its process group) when told to, or when its stdin reaches
 *    end-of-file, which is what happens when the test process dies, however it dies;
 *  - then kills leftovers whose argv names the private directory (dockerd's containerd runs in its
 *    own session), lazily unmounts anything mounted under it (dockerd bind-mounts its data root onto
 *    itself), and removes the directory when asked to or when the test process is gone.
 * No shell anywhere: every process is started by execa with an argument array.
 */
import execa from 'execa';
import { constants as fsConstants, promises as fs, openSync, closeSync, rmSync } from 'fs';
import * as path from 'path';
import * as readline from 'readline';

export type DockerEnv = { DOCKER_HOST: string };

export interface DockerEngine {
  /** What a child process needs to reach this engine (merge it into its environment). */
  env: DockerEnv;
  /** True when this harness started a private dockerd (false: an engine that was already running). */
  started: boolean;
  /** Stops the private engine and removes its directory; does nothing for an engine we did not start. */
  stop(): Promise<void>;
}

export type Availability = { ok: true } | { ok: false; reason: string };

/** The default socket of a system engine. */
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
/** How long a private engine may live at most (it stops itself after that). */
export const ENGINE_LIFETIME_SECONDS = 3600;
const ENGINE_START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Finds an executable on PATH (and in the sbin directories, which a non-root PATH may lack). */
export async function findExecutable(name: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SBIN_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      await fs.access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The server version when an engine answers at `dockerHost`, else undefined. */
export async function dockerServerVersion(dockerHost: string, timeoutMs = 10_000): Promise<string | undefined> {
  const result = await execa('docker', ['version', '--format', '{{.Server.Version}}'], {
    env: { DOCKER_HOST: dockerHost },
    reject: false,
    timeout: timeoutMs,
    stdin: 'ignore',
  });
  const version = result.stdout.trim();
  return result.exitCode === 0 && version !== '' ? version : undefined;
}

async function existingEngineHost(): Promise<string | undefined> {
  const fromEnv = process.env.DOCKER_HOST;
  if (fromEnv && (await dockerServerVersion(fromEnv))) return fromEnv;
  try {
    await fs.access(DEFAULT_DOCKER_SOCKET);
  } catch {
    return undefined;
  }
  const host = `unix://${DEFAULT_DOCKER_SOCKET}`;
  return (await dockerServerVersion(host)) ? host : undefined;
}

/** Whether an engine answers already or can be started here (docker CLI; dockerd and root). */
export async function dockerAvailability(): Promise<Availability> {
  if (!(await findExecutable('docker'))) return { ok: false, reason: 'docker CLI not found on PATH' };
  if (await existingEngineHost()) return { ok: true };
  const none = `no engine answers at ${process.env.DOCKER_HOST ? `DOCKER_HOST=${process.env.DOCKER_HOST} or ` : ''}${DEFAULT_DOCKER_SOCKET}`;
  if (!(await findExecutable('dockerd'))) return { ok: false, reason: `${none}, and dockerd is not installed` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return { ok: false, reason: `${none}, and starting a private dockerd needs root` };
  }
  if (!(await findExecutable('timeout'))) return { ok: false, reason: `${none}, and coreutils timeout is missing` };
  return { ok: true };
}

/** Uses the engine that answers, or starts a private one (root only). */
export async function ensureDockerEngine(): Promise<DockerEngine> {
  const existing = await existingEngineHost();
  if (existing) {
    return { env: { DOCKER_HOST: existing }, started: false, stop: () => Promise.resolve() };
  }
  const availability = await dockerAvailability();
  if (!availability.ok) throw new Error(`Cannot get a Docker engine: ${availability.reason}`);
  return startPrivateEngine();
}

async function startPrivateEngine(): Promise<DockerEngine> {
  // Short path: the engine's socket (and containerd's, under exec/) must fit in sockaddr_un (~107 bytes).
  const dir = await fs.mkdtemp('/tmp/kdk-');
  const dockerd = (await findExecutable('dockerd')) ?? 'dockerd';
  const socket = path.join(dir, 'sock');
  const env: DockerEnv = { DOCKER_HOST: `unix://${socket}` };
  const started = Date.now();
  let proc: Supervised | undefined;
  try {
    // Our own (empty) daemon.json, so the host's /etc/docker/daemon.json does not apply, and the
    // identity key lives in our directory instead of /etc/docker/key.json.
    await fs.writeFile(path.join(dir, 'daemon.json'), `${JSON.stringify({ 'deprecated-key-path': path.join(dir, 'key.json') })}\n`);
    proc = await startSupervised({
      command: dockerd,
      args: [
        '--config-file', path.join(dir, 'daemon.json'),
        '--data-root', path.join(dir, 'data'),
        '--exec-root', path.join(dir, 'exec'),
        '--pidfile', path.join(dir, 'pid'),
        '-H', `unix://${socket}`,
        '--storage-driver', 'vfs',
        '--iptables=false',
        '--ip-masq=false',
        '--bridge=none',
      ],
      dir,
      logFile: path.join(dir, 'dockerd.log'),
      lifetimeSeconds: ENGINE_LIFETIME_SECONDS,
    });
    const running = proc;
    await waitFor(
      async () => (await dockerServerVersion(env.DOCKER_HOST, 5_000)) !== undefined,
      {
        timeoutMs: ENGINE_START_TIMEOUT_MS,
        what: `private dockerd (${env.DOCKER_HOST})`,
        stillRunning: () => running.running(),
        logFile: running.logFile,
      },
    );
  } catch (error) {
    if (proc) await proc.stop(true);
    else await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
  if (process.env.KAHOLO_TEST_VERBOSE) console.warn(`docker-engine: private dockerd ready in ${Date.now() - started} ms at ${env.DOCKER_HOST}`);
  const running = proc;
  return { env, started: true, stop: () => running.stop(true) };
}

/* ------------------------------------------------------------------------------------------------
 * Supervised processes (shared with registry.ts)
 * ---------------------------------------------------------------------------------------------- */

export interface SupervisedSpec {
  command: string;
  args: readonly string[];
  /** The process's private directory (its cwd); leftovers naming it are killed, mounts under it unmounted. */
  dir: string;
  /** Where the command's stdout and stderr go (append). */
  logFile: string;
  /** Hard bound: `timeout` stops the command after this many seconds. */
  lifetimeSeconds: number;
  /** Between SIGTERM and SIGKILL (ms). */
  graceMs?: number;
  /** Extra environment for the command (passed through the environment, never argv). */
  env?: Record<string, string>;
}

export interface Supervised {
  /** Process group of the command (pid of the `timeout` wrapper). */
  readonly pgid: number;
  readonly logFile: string;
  /** Resolves when the command has exited. */
  readonly exited: Promise<void>;
  running(): boolean;
  /** Stops the command (SIGTERM, grace, SIGKILL); removes the directory when `removeDir`. Idempotent. */
  stop(removeDir: boolean): Promise<void>;
}

/** The watchdog (a real file; see its header). */
const WATCHDOG = path.join(__dirname, 'bin', 'watchdog.js');

type WatchdogEvent =
  | { event: 'started'; pid: number }
  | { event: 'exit'; code: number | null; signal: string | null }
  | { event: 'spawn-failed' | 'rm-failed'; message: string }
  | { event: 'done' };

/** Starts `spec.command` under a watchdog (see the top of this file). Resolves once it is spawned. */
export async function startSupervised(spec: SupervisedSpec): Promise<Supervised> {
  const graceMs = spec.graceMs ?? STOP_GRACE_MS;
  const payload = JSON.stringify({
    command: spec.command,
    args: spec.args,
    dir: spec.dir,
    logFile: spec.logFile,
    lifetimeSeconds: spec.lifetimeSeconds,
    graceMs,
  });
  const logFd = openSync(spec.logFile, 'a');
  let watchdog: execa.ExecaChildProcess;
  try {
    watchdog = execa(process.execPath, [WATCHDOG, payload], {
      // Its own session: a Ctrl-C aimed at jest does not reach it; it notices jest is gone by stdin EOF.
      detached: true,
      cleanup: false,
      buffer: false,
      reject: false,
      // The environment goes through the environment (never argv); the command inherits it.
      env: spec.env,
      extendEnv: true,
      stdio: ['pipe', 'pipe', logFd],
    });
  } finally {
    closeSync(logFd);
  }
  const child = watchdog;
  let commandRunning = false;
  let watchdogAlive = true;
  let pgid = 0;
  let resolveExited: () => void = () => undefined;
  const exited = new Promise<void>((resolve) => {
    resolveExited = resolve;
  });
  const watchdogGone = new Promise<void>((resolve) => {
    // (`void`: an execa child is also a promise, which its reject:false settles without error.)
    void child.on('exit', () => {
      watchdogAlive = false;
      commandRunning = false;
      resolveExited();
      resolve();
    });
  });
  child.stdin?.on('error', () => undefined);
  const startedPid = new Promise<number>((resolve, reject) => {
    if (!child.stdout) {
      reject(new Error('watchdog has no stdout'));
      return;
    }
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      let event: WatchdogEvent;
      try {
        event = JSON.parse(line) as WatchdogEvent;
      } catch {
        return;
      }
      if (event.event === 'started') {
        pgid = event.pid;
        commandRunning = true;
        resolve(event.pid);
      } else if (event.event === 'exit') {
        commandRunning = false;
        resolveExited();
      } else if (event.event === 'spawn-failed') {
        reject(new Error(`cannot start ${spec.command}: ${event.message}`));
      } else if (event.event === 'rm-failed') {
        console.warn(`harness: could not remove ${spec.dir}: ${event.message}`);
      }
    });
    void watchdogGone.then(() => reject(new Error(`watchdog for ${spec.command} exited before starting it (see ${spec.logFile})`)));
  });
  await startedPid;

  // From now on the watchdog must neither keep this process alive nor outlive it by more than a stop.
  child.unref();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();

  let stopping: Promise<void> | undefined;
  const stop = async (removeDir: boolean): Promise<void> => {
    stopping ??= (async () => {
      if (watchdogAlive && child.stdin && !child.stdin.destroyed) {
        child.stdin.write(removeDir ? 'stop-rm\n' : 'stop\n');
      }
      // A referenced timer: it keeps this process alive while we wait (the watchdog is unref'd).
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), graceMs + 10_000);
      });
      const outcome = await Promise.race([watchdogGone.then(() => 'done' as const), late]);
      clearTimeout(timer);
      if (outcome === 'late') {
        for (const target of [pgid === 0 ? 0 : -pgid, child.pid ?? 0]) {
          try {
            if (target !== 0) process.kill(target, 'SIGKILL');
          } catch {
            // gone
          }
        }
      }
      child.stdin?.destroy();
      child.stdout?.destroy();
    })();
    await stopping;
    // Also when a stop(true) follows a stop(false), or the watchdog could not remove it.
    if (removeDir) await fs.rm(spec.dir, { recursive: true, force: true, maxRetries: 3 });
  };

  return {
    get pgid() {
      return pgid;
    },
    logFile: spec.logFile,
    exited,
    running: () => commandRunning,
    stop,
  };
}

/** Removes a directory at once, for exit hooks (sync). */
export function removeDirSync(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // best effort
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Last lines of a log file, for error messages. */
export async function logTail(file: string, lines = 20): Promise<string> {
  try {
    const text = await fs.readFile(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls `check` until it returns true; fails with the log tail on timeout or when the process died. */
export async function waitFor(
  check: () => Promise<boolean>,
  options: { timeoutMs: number; what: string; stillRunning: () => boolean; logFile: string; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await check()) return;
    if (!options.stillRunning()) {
      throw new Error(`${options.what} exited before it was ready; last lines of ${options.logFile}:\n${await logTail(options.logFile)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${options.what} not ready after ${options.timeoutMs} ms; last lines of ${options.logFile}:\n${await logTail(options.logFile)}`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}
