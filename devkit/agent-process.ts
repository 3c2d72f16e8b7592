/**
 * Runs one plugin method in its own node process, the way a Kaholo agent does, with the kit's one
 * runner (devkit/agent-runner.js).
 *
 * The action (params and settings, secrets included) goes to the child through stdin, never argv
 * or the environment, so that the tests that scan /proc see only what the plugin itself exposes.
 * The outcome comes back on file descriptor 3; stdout and stderr are the activity log.
 */
import execa from 'execa';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { REPO_ROOT } from './agent';
import { withoutAwsSettings } from './aws-env';

const RUNNER = path.join(__dirname, 'agent-runner.js');

export interface AgentOutcome {
  exitCode: number | null;
  /** The signal that ended the process, if one did. */
  signal: string | null;
  /** stdout and stderr as they arrived, interleaved. */
  output: string;
  /** Set when the method resolved. */
  result?: unknown;
  /** The thrown error as the agent shows it (String(error)), when the method rejected. */
  error?: string;
  /** False when the process ended before reporting (killed by a signal, crashed). */
  reported: boolean;
  /** Peak resident set size of the process when it reported (KiB). */
  maxRssKiB?: number;
  /** The files the process loaded, when the action asked for them (`modules: true`). */
  modules?: string[];
}

export interface AgentProcess {
  pid: number;
  /** The activity log so far. */
  output(): string;
  /** Resolves once the activity log matches `pattern`; rejects after `timeoutMs` or if the process ends first. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** Closes the reading end of the action's stdout and stderr, as a reader that went away does. */
  closeOutput(): void;
  finished: Promise<AgentOutcome>;
}

export interface AgentAction {
  /** A method of config.json, or (with `autocomplete` set instead) an autocomplete function. */
  method?: string;
  autocomplete?: string;
  query?: string;
  /** Report the files the process loaded. */
  modules?: boolean;
  params: Record<string, unknown>;
  settings?: Record<string, unknown>;
}

export interface AgentOptions {
  /** The plugin's directory (default: this repository). */
  root?: string;
  /** Options for node before the runner (e.g. `--require` of a probe). */
  nodeArgs?: string[];
  /** The node binary to run it with (default: this process's, e.g. the agent image's from agent-node.ts). */
  node?: string;
}

/** Starts the action in a child node process with exactly `env` (nothing inherited). */
export function startAgentAction(action: AgentAction, env: NodeJS.ProcessEnv, options: AgentOptions = {}): AgentProcess {
  const root = options.root ?? REPO_ROOT;
  const child = execa(options.node ?? process.execPath, [...(options.nodeArgs ?? []), RUNNER, root], {
    env,
    extendEnv: false,
    cwd: path.resolve(root),
    input: JSON.stringify({ ...action, settings: action.settings ?? {} }),
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    reject: false,
    buffer: false,
  });
  if (child.pid === undefined) throw new Error('could not start a node process for the action');
  let output = '';
  const waiters = new Set<() => void>();
  const append = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    for (const check of [...waiters]) check();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let report = '';
  const fd3 = child.stdio[3] as Readable | null;
  fd3?.on('data', (chunk: Buffer) => {
    report += chunk.toString('utf8');
  });
  const fd3Closed = new Promise<void>((resolve) => {
    if (!fd3) resolve();
    else fd3.on('close', () => resolve()).on('error', () => resolve());
  });

  let ended = false;
  const finished = (async (): Promise<AgentOutcome> => {
    const result = await child;
    await fd3Closed;
    ended = true;
    for (const check of [...waiters]) check();
    const outcome: AgentOutcome = {
      exitCode: typeof result.exitCode === 'number' ? result.exitCode : null,
      signal: result.signal ?? null,
      output,
      reported: report !== '',
    };
    if (report !== '') {
      const parsed = JSON.parse(report) as { ok: boolean; result?: unknown; error?: string; maxRssKiB?: number; modules?: string[] };
      outcome.maxRssKiB = parsed.maxRssKiB;
      outcome.modules = parsed.modules;
      if (parsed.ok) outcome.result = parsed.result;
      else outcome.error = parsed.error;
    }
    return outcome;
  })();

  return {
    pid: child.pid,
    output: () => output,
    waitForOutput(pattern, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`no output matching ${String(pattern)} within ${timeoutMs} ms; output so far:\n${output}`)), timeoutMs);
        const check = (): void => {
          if (pattern.test(output)) done();
          else if (ended) done(new Error(`the action ended without output matching ${String(pattern)}; output:\n${output}`));
        };
        function done(error?: Error): void {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve();
        }
        waiters.add(check);
        check();
      });
    },
    kill: (signal) => {
      child.kill(signal);
    },
    closeOutput: () => {
      child.stdout?.destroy();
      child.stderr?.destroy();
    },
    finished,
  };
}

/**
 * An agent's environment: this process's environment without any AWS settings of whoever runs
 * the tests (so only what a test sets applies), plus `extra`.
 */
export function agentEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...withoutAwsSettings(), ...extra };
}

/** Runs the action in its own node process to the end. */
export function runAgentAction(action: AgentAction, env: NodeJS.ProcessEnv, options: AgentOptions = {}): Promise<AgentOutcome> {
  return startAgentAction(action, env, options).finished;
}
