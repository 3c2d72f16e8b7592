import execa from 'execa';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import type { ActivityLog } from './activity-log';
import { PluginError } from './errors';
import type { Redactor } from './redact';

export interface DockerRunOptions {
  /** Written to docker's stdin (the registry password for `login --password-stdin`). */
  input?: string;
  /** Stream docker's output to the activity log line by line as it comes. */
  stream?: boolean;
  /** Upper bound for this command; docker is stopped when it is reached. */
  timeoutMs: number;
  /** Run even after the action was interrupted (logout must still happen). */
  afterInterrupt?: boolean;
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

/**
 * Runs the docker CLI from an argument array (never a shell) with a given
 * environment, one command at a time, so that an interrupt can stop the
 * running one.
 */
export class DockerCli {
  private running: execa.ExecaChildProcess | undefined;
  private interrupted = false;
  private stoppedByInterrupt: execa.ExecaChildProcess | undefined;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly redactor: Redactor,
    private readonly log: ActivityLog,
    private readonly executable = 'docker',
  ) {}

  async run(args: string[], options: DockerRunOptions): Promise<DockerOutput> {
    if (this.interrupted && !options.afterInterrupt) throw new PluginError('The action was interrupted');
    const child = execa(this.executable, args, {
      env: this.env,
      extendEnv: false,
      input: options.input,
      stdin: options.input === undefined ? 'ignore' : 'pipe',
    });
    this.running = child;
    // Our own timer rather than execa's, which is never cleared when docker cannot be spawned.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM', { forceKillAfterTimeout: 5000 });
    }, options.timeoutMs);
    if (options.stream) {
      streamLines(child.stdout, (line) => this.log.info(line));
      streamLines(child.stderr, (line) => this.log.error(line));
    }
    try {
      const { stdout, stderr } = await child;
      return { stdout, stderr };
    } catch (error) {
      if (child === this.stoppedByInterrupt) throw new PluginError(`docker ${args[0]} was stopped: the action was interrupted`);
      throw this.explain(args[0], error as execa.ExecaError, timedOut ? options.timeoutMs : undefined);
    } finally {
      clearTimeout(timer);
      this.running = undefined;
    }
  }

  /** Stops the running command and refuses new ones, except those run after an interrupt. */
  interrupt(): void {
    this.interrupted = true;
    this.stoppedByInterrupt = this.running;
    this.running?.kill('SIGTERM', { forceKillAfterTimeout: 3000 });
  }

  private explain(command: string, error: execa.ExecaError, timedOutAfterMs: number | undefined): PluginError {
    const stderr = this.redactor.redact(String(error.stderr ?? '').trim());
    if ((error as { code?: unknown }).code === 'ENOENT') {
      return new PluginError(
        `The docker CLI was not found on the agent (looked for "${this.executable}" on PATH). ` +
          'Push and pull need Docker installed where the Kaholo agent runs.',
      );
    }
    if (timedOutAfterMs !== undefined) {
      return new PluginError(`docker ${command} did not finish within ${timedOutAfterMs / 1000} s and was stopped`);
    }
    if (/Cannot connect to the Docker daemon|error during connect|Is the docker daemon running/i.test(stderr)) {
      const where = this.env.DOCKER_HOST ? `at ${this.env.DOCKER_HOST}` : 'on its default socket';
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
