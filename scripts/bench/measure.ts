/** Timing, statistics and markdown tables for the benchmark. */
import execa from 'execa';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runAgentAction } from '../../devkit/agent-process';
import { withoutAwsSettings } from '../../devkit/aws-env';
import { LOCAL_KEYS, LOCAL_REGION } from '../../devkit/local-ecr';

/** One measured quantity: its samples (ms, or KiB for memory). */
export type Samples = number[];

export function median(samples: Samples): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function ms(value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 1000) return `${(value / 1000).toFixed(2)} s`;
  return Math.abs(value) >= 20 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`;
}

/** The median with its range, e.g. `534 ms (532 ms–612 ms)`. */
export function spread(samples: Samples): string {
  if (samples.length === 0) return '—';
  return `${ms(median(samples))} (${ms(Math.min(...samples))}–${ms(Math.max(...samples))})`;
}

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * The environment of every child: this one's without AWS settings, npm's or node's options (tsx
 * loads through NODE_OPTIONS), and the agent's docker config, plus `extra`.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = withoutAwsSettings();
  for (const key of Object.keys(env)) if (/^(npm_|NODE_)/i.test(key) || key === 'DOCKER_CONFIG' || key === 'INIT_CWD') delete env[key];
  return { ...env, TMPDIR: os.tmpdir(), ...extra };
}

/** Runs a process to its end (argument array, no shell); returns its wall time. A failure throws. */
export async function timed(file: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<number> {
  const start = performance.now();
  const result = await execa(file, args, { env, extendEnv: false, reject: false, timeout: 300_000, ...(input === undefined ? { stdin: 'ignore' } : { input }) });
  const elapsed = performance.now() - start;
  if (result.exitCode !== 0) throw new Error(`${file} ${args[0] ?? ''} failed (exit ${String(result.exitCode)}): ${result.stderr.slice(-400)}`);
  return elapsed;
}

/** Wall time of `work`. */
export async function clock(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/** One action in a fresh agent-style process (the kit's runner) with the local keys and region; a failure throws. */
export async function agentAction(method: string, params: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<void> {
  const outcome = await runAgentAction({ method, params, settings: { ...LOCAL_KEYS, region: LOCAL_REGION } }, env);
  if (outcome.exitCode !== 0) throw new Error(`${method} failed: ${outcome.error ?? outcome.output.slice(-400)}`);
}

/** `work` with a docker config of its own (its logins stay in it), removed after. */
export async function withDockerConfig<T>(env: NodeJS.ProcessEnv, work: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbench-docker-'));
  try {
    return await work({ ...env, DOCKER_CONFIG: dir });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
