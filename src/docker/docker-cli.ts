import execa from 'execa';
import { accessSync, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import type { ActivityLog } from '../kaholo/activity-log';
import { PluginError, quote, seconds, shorten } from '../errors';
import type { Redactor } from '../kaholo/redactor';
import type { TimeLimit } from '../params/time-limit';

export interface DockerRunOptions {
  /** Written to docker's stdin (the registry password for `login --password-stdin`). */
  input?: string;
  /** Stream docker's output to the activity log line by line as it comes. */
  stream?: boolean;
  /** Upper bound for this command; docker is stopped when it is reached (or sooner, at the runner's time limit). */
  timeoutMs: number;
  /** Clean-up: runs even after the action was interrupted or its time limit came, and neither stops it. */
  afterInterrupt?: boolean;
  /** Stop the command when it prints nothing for this long (a transfer that makes no progress). */
  stallMs?: number;
}

export interface DockerOutput {
  stdout: string;
  stderr: string;
}

/** Thrown when docker exits non-zero; `stderr` is already redacted. */
export class DockerCommandError extends PluginError {
  constructor(message: string, readonly stderr: string) {
    super(message);
    this.name = 'DockerCommandError';
  }
}

export interface DockerCliOptions {
  /** The program to run; default `docker` from PATH. */
  executable?: string;
  /** Work commands stop at this limit (clean-up commands do not). */
  limit?: TimeLimit;
}

/**
 * What docker never needs and must never hold: AWS credentials, and what
 * leads to them (the container credential endpoint and its token, the web
 * identity token file and its role). docker reaches ECR with the login the
 * action gives it; the private config has no credential helper that could
 * use them.
 */
export const AWS_CREDENTIAL_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_ROLE_SESSION_NAME',
];

/**
 * Runs the docker CLI from an argument array (never a shell) with a given
 * environment, less AWS credentials. An interrupt, or the time limit, stops
 * the work commands that run, never a clean-up command. On Linux, docker runs under util-linux `setpriv
 * --pdeathsig` when it is on PATH (it execs docker, so the pid and argv are
 * docker's; it costs about half a millisecond): the kernel sends docker
 * SIGTERM when the action's process dies, even by SIGKILL, so no docker
 * command outlives the action.
 */
export class DockerCli {
  private readonly running = new Set<execa.ExecaChildProcess>();
  private interrupted = false;
  private readonly stoppedByInterrupt = new Set<execa.ExecaChildProcess>();
  private readonly launcher: string | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private readonly executable: string;
  private readonly limit: TimeLimit | undefined;

  constructor(
    env: NodeJS.ProcessEnv,
    private readonly redactor: Redactor,
    private readonly log: ActivityLog,
    options: DockerCliOptions = {},
  ) {
    this.env = Object.fromEntries(Object.entries(env).filter(([name]) => !AWS_CREDENTIAL_VARIABLES.includes(name)));
    this.executable = options.executable ?? 'docker';
    this.limit = options.limit;
    this.launcher = process.platform === 'linux' ? findOnPath('setpriv', env.PATH) : undefined;
  }

  async run(args: string[], options: DockerRunOptions): Promise<DockerOutput> {
    if (this.interrupted && !options.afterInterrupt) throw new PluginError('The action was interrupted');
    // A work command ends at the time limit when that comes before its own bound.
    const limit = !options.afterInterrupt && this.limit !== undefined && this.limit.remainingMs() <= options.timeoutMs ? this.limit : undefined;
    const timeoutMs = limit ? limit.remainingMs() : options.timeoutMs;
    if (limit && timeoutMs === 0) throw limit.exceeded(`docker ${args[0]} was not started`);
    const [file, argv] = this.launcher
      ? [this.launcher, ['--pdeathsig', 'TERM', '--', this.executable, ...args]]
      : [this.executable, args];
    const child = execa(file, argv, {
      env: this.env,
      extendEnv: false,
      input: options.input,
      stdin: options.input === undefined ? 'ignore' : 'pipe',
    });
    if (!options.afterInterrupt) this.running.add(child);
    // Our own timers rather than execa's, which is never cleared when docker cannot be spawned.
    let stopped: 'timeout' | 'stall' | undefined;
    const stop = (why: 'timeout' | 'stall') => (): void => {
      stopped ??= why;
      child.kill('SIGTERM', { forceKillAfterTimeout: 5000 });
    };
    const timer = setTimeout(stop('timeout'), timeoutMs);
    let stallTimer: NodeJS.Timeout | undefined;
    const progressed = (): void => {
      if (options.stallMs === undefined) return;
      clearTimeout(stallTimer);
      stallTimer = setTimeout(stop('stall'), options.stallMs);
    };
    progressed();
    child.stdout?.on('data', progressed);
    child.stderr?.on('data', progressed);
    if (options.stream) {
      streamLines(child.stdout, (line) => this.log.info(line));
      streamLines(child.stderr, (line) => this.log.error(line));
    }
    try {
      const { stdout, stderr } = await child;
      return { stdout, stderr };
    } catch (error) {
      if (this.stoppedByInterrupt.has(child)) throw new PluginError(`docker ${args[0]} was stopped: the action was interrupted`);
      if (stopped === 'stall') {
        throw new PluginError(`docker ${args[0]} made no progress for ${seconds(options.stallMs ?? 0)} s and was stopped`);
      }
      if (stopped === 'timeout' && limit) throw limit.exceeded(`docker ${args[0]} was stopped`);
      throw this.explain(args[0], error as execa.ExecaError, stopped === 'timeout' ? timeoutMs : undefined);
    } finally {
      clearTimeout(timer);
      clearTimeout(stallTimer);
      this.running.delete(child);
    }
  }

  /** Stops the running work commands and refuses new ones; clean-up commands run on. */
  interrupt(): void {
    this.interrupted = true;
    for (const child of this.running) {
      this.stoppedByInterrupt.add(child);
      child.kill('SIGTERM', { forceKillAfterTimeout: 3000 });
    }
  }

  private explain(command: string, error: execa.ExecaError, timedOutAfterMs: number | undefined): PluginError {
    const stderr = this.redactor.redact(String(error.stderr ?? '').trim());
    const launcherMissedDocker = this.launcher !== undefined && error.exitCode === 127 && /failed to execute/.test(stderr);
    if ((error as { code?: unknown }).code === 'ENOENT' || launcherMissedDocker) {
      return new PluginError(
        `The docker CLI was not found on the agent (looked for ${quote(this.executable)} on PATH). ` +
          'Push and pull need Docker installed where the Kaholo agent runs.',
      );
    }
    if (timedOutAfterMs !== undefined) {
      return new PluginError(`docker ${command} did not finish within ${seconds(timedOutAfterMs)} s and was stopped`);
    }
    if (/Cannot connect to the Docker daemon|error during connect|Is the docker daemon running/i.test(stderr)) {
      const where = this.env.DOCKER_HOST ? `at ${shorten(this.env.DOCKER_HOST)}` : 'on its default socket';
      return new DockerCommandError(
        `The Docker engine does not answer ${where}: is the daemon running, and may the agent's user reach it? (${lastLines(stderr)})`,
        stderr,
      );
    }
    const detail = stderr === '' ? `exit code ${String(error.exitCode)}` : lastLines(stderr);
    return new DockerCommandError(`docker ${command} failed: ${detail}`, stderr);
  }
}

function streamLines(stream: Readable | null, onLine: (line: string) => void): void {
  if (!stream) return;
  readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
    if (line.trim() !== '') onLine(line);
  });
}

/** The end of docker's error output, which is where it says what went wrong. */
function lastLines(text: string, count = 3): string {
  return text.split('\n').filter((line) => line.trim() !== '').slice(-count).join(' / ');
}

/** The first executable `name` in the PATH directories, as execvp would find it. */
function findOnPath(name: string, searchPath: string | undefined): string | undefined {
  for (const dir of (searchPath ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
