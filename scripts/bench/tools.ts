/**
 * Processes for the benchmarks: finding the tools, a clean environment for child processes, a
 * timed runner (execa with an argument array, never a shell), and the versions of everything used.
 */
import execa from 'execa';
import { constants as fsConstants, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findExecutable } from '../../devkit/docker-engine';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Where AWS config and credential files are looked for in children: nowhere, so only what we pass counts. */
const NO_AWS_FILE = path.join(REPO_ROOT, '.tmp', 'bench-no-such-aws-file');

export interface Tools {
  node: string;
  /** The docker CLI the plugin finds on PATH; the raw sequences use the very same binary. */
  docker?: string;
  /** Debian's AWS CLI v2 (not a pyenv shim), when installed. */
  aws?: string;
  /** GNU time, for peak RSS of a whole process, when installed. */
  gnuTime?: string;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await fs.access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** /usr/bin/aws first (Debian's awscli); else the first `aws` on PATH that is not a pyenv or asdf shim. */
async function findAws(): Promise<string | undefined> {
  const override = process.env.BENCH_AWS;
  if (override) return (await isExecutable(override)) ? override : undefined;
  if (await isExecutable('/usr/bin/aws')) return '/usr/bin/aws';
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    if (/[/\\](\.pyenv|\.asdf)[/\\]shims/.test(dir)) continue;
    const candidate = path.join(dir, 'aws');
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export async function findTools(): Promise<Tools> {
  const docker = await findExecutable('docker');
  const gnuTime = (await isExecutable('/usr/bin/time')) ? '/usr/bin/time' : undefined;
  return { node: process.execPath, docker, aws: await findAws(), gnuTime };
}

let privateTmp: string | undefined;

/**
 * A directory of this run's own for TMPDIR of every child: the plugin makes its private
 * DOCKER_CONFIG there (under os.tmpdir()), so other people's test runs on this machine that look
 * for leftover `kaholo-ecr-*` directories in /tmp never see the benchmark's actions.
 */
export async function usePrivateTmpdir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbench-tmp-'));
  privateTmp = dir;
  return {
    dir,
    remove: async () => {
      privateTmp = undefined;
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Where temporary files of the run go (the private TMPDIR when there is one). */
export function benchTmpdir(): string {
  return privateTmp ?? os.tmpdir();
}

/**
 * The environment of every child process: this one's, less anything AWS, npm or Node related that
 * would change what is measured (a profile, a region, NODE_OPTIONS loading tsx), plus `extra`.
 */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/^(AWS_|npm_|NODE_|BENCH_)/i.test(key) || key === 'DOCKER_CONFIG' || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  env.AWS_CONFIG_FILE = NO_AWS_FILE;
  env.AWS_SHARED_CREDENTIALS_FILE = NO_AWS_FILE;
  env.AWS_EC2_METADATA_DISABLED = 'true';
  if (privateTmp !== undefined) env.TMPDIR = privateTmp;
  return { ...env, ...extra };
}

export interface TimedResult {
  /** Wall time from spawn to exit, measured here. */
  ms: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env: Record<string, string>;
  input?: string;
  timeoutMs: number;
  cwd?: string;
}

/** Runs a process to its end and returns its wall time; a non-zero exit is an error. */
export async function timed(file: string, args: readonly string[], options: RunOptions): Promise<TimedResult> {
  const start = process.hrtime.bigint();
  const result = await execa(file, [...args], {
    env: options.env,
    extendEnv: false,
    cwd: options.cwd ?? REPO_ROOT,
    reject: false,
    timeout: options.timeoutMs,
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
  });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.exitCode !== 0 || result.timedOut) {
    const why = result.timedOut ? `timed out after ${options.timeoutMs} ms` : `exit ${String(result.exitCode)}`;
    throw new Error(`${path.basename(file)} ${args[0] ?? ''} failed (${why}): ${tail(result.stderr || result.stdout)}`);
  }
  return { ms: elapsed, stdout: result.stdout, stderr: result.stderr };
}

export function tail(text: string, lines = 6): string {
  return text.trim().split('\n').slice(-lines).join(' / ');
}

/** Peak RSS (KiB) of a whole process as GNU time reports it (`%M`), written to a file, not argv. */
export async function peakRssKiB(gnuTime: string, file: string, args: readonly string[], options: RunOptions): Promise<number> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbench-rss-'));
  try {
    const out = path.join(dir, 'rss');
    await timed(gnuTime, ['-f', '%M', '-o', out, file, ...args], options);
    const kib = Number((await fs.readFile(out, 'utf8')).trim().split('\n').pop());
    if (!Number.isFinite(kib) || kib <= 0) throw new Error('GNU time reported no peak RSS');
    return kib;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export interface Versions {
  node: string;
  dockerClient: string;
  dockerd: string;
  registry: string;
  awsCli: string;
  sdk: string;
  execa: string;
  esbuild: string;
}

function packageVersion(name: string): string {
  try {
    const file = require.resolve(`${name}/package.json`, { paths: [REPO_ROOT] });
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '?';
  } catch {
    return 'not installed';
  }
}

async function firstLine(file: string | undefined, args: string[], env: Record<string, string>): Promise<string> {
  if (!file) return 'not installed';
  const result = await execa(file, args, { env, extendEnv: false, reject: false, timeout: 30_000, stdin: 'ignore' });
  const text = `${result.stdout}\n${result.stderr}`.trim().split('\n')[0] ?? '';
  return result.exitCode === 0 && text !== '' ? text.trim() : `unknown (exit ${String(result.exitCode)})`;
}

export async function versions(tools: Tools, dockerHost: string | undefined): Promise<Versions> {
  const env = childEnv(dockerHost ? { DOCKER_HOST: dockerHost } : {});
  let dockerClient: string;
  let dockerd: string;
  if (!tools.docker) {
    dockerClient = 'not installed';
    dockerd = 'n/a';
  } else if (dockerHost) {
    [dockerClient, dockerd] = (await firstLine(tools.docker, ['version', '--format', '{{.Client.Version}} {{.Server.Version}}'], env)).split(' ');
  } else {
    // No engine in this run: the client's own version, and the daemon binary's.
    dockerClient = (await firstLine(tools.docker, ['--version'], env)).replace(/^Docker version ([^,\s]+).*$/, '$1');
    dockerd = `${(await firstLine(await findExecutable('dockerd'), ['--version'], env)).replace(/^Docker version /, '')} (binary; no engine started)`;
  }
  const registryBinary = (await findExecutable('docker-registry')) ?? (await findExecutable('registry'));
  return {
    node: process.version,
    dockerClient: tools.docker ? `${dockerClient} (${tools.docker})` : dockerClient,
    dockerd: dockerd ?? 'n/a',
    registry: (await firstLine(registryBinary, ['--version'], env)).replace(/^\S*registry\S*\s+/, ''),
    awsCli: tools.aws ? `${(await firstLine(tools.aws, ['--version'], env)).split(' ').slice(0, 2).join(' ')} (${tools.aws})` : 'not installed',
    sdk: `@aws-sdk/client-ecr ${packageVersion('@aws-sdk/client-ecr')}`,
    execa: packageVersion('execa'),
    esbuild: packageVersion('esbuild'),
  };
}

/** config.json's `main`, resolved against the repository (or `override`, when given). */
export function manifestMain(override?: string): { relative: string; absolute: string; fromManifest: boolean } {
  if (override !== undefined) {
    const absolute = path.resolve(override);
    return { relative: path.relative(REPO_ROOT, absolute), absolute, fromManifest: false };
  }
  const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'config.json'), 'utf8')) as { main?: unknown };
  if (typeof manifest.main !== 'string' || manifest.main === '') throw new Error('config.json has no "main"');
  return { relative: manifest.main, absolute: path.join(REPO_ROOT, manifest.main), fromManifest: true };
}
