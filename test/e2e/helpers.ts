/**
 * Shared setup of the end-to-end tests: the compiled plugin loaded as the Kaholo agent loads it,
 * the local ECR API endpoint (with one real registry per account when a Docker engine is there),
 * an "agent" docker config, and the after-every-test check that nothing was left behind.
 *
 * Isolation from whatever else runs on the machine (other jest runs, other people's tests):
 * each test file gets its own temporary directory, as an agent started with TMPDIR=<dir> would,
 * so the plugin's private DOCKER_CONFIG directories land where only this file looks, and the
 * leftover check is scoped to it (test/support/leftovers.ts: docker processes are only blamed on
 * this file when they descend from this process or carry its TMPDIR in their environment).
 * (Inside jest, `process.env` is a copy that node's own os.tmpdir() does not read, so os.tmpdir()
 * itself is pointed there too, for this worker process only: the plugin runs in this process.)
 */
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import execa from 'execa';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { E2eEnvironment } from '../support/e2e-environment';
import { isolateAwsEnvironment } from '../../devkit/aws-env';
import { loadPlugin, type LoadedPlugin } from '../../devkit/agent';
import { filesMentioning, leftoversSince, takeSnapshot, type Snapshot } from '../support/leftovers';
import { startLocalEcr, LOCAL_KEYS, LOCAL_REGION, type LocalEcr, type LocalEcrOptions } from '../../devkit/local-ecr';
import type { Registry } from '../../devkit/registry';
import { PRIVATE_CONFIG_PREFIX } from '../../src/docker/docker-config';
import { MANIFEST_MEDIA_TYPES } from '../../src/registry/media-types';

/** Pushes and pulls of 1 MB images take well under a second; this bounds a slow CI machine. */
export const E2E_TEST_TIMEOUT_MS = 60_000;
export const ONE_MB = 1024 * 1024;

/** Keys as a user would paste them into the vault: plain strings. */
export const VAULT_KEYS = { accessKeyId: LOCAL_KEYS.accessKeyId, secretAccessKey: LOCAL_KEYS.secretAccessKey };
/** Plugin settings holding the keys and the region (the settings fallback). */
export const SETTINGS = { ...VAULT_KEYS, region: LOCAL_REGION };
/** The common params left unset, as the Kaholo form sends them: empty strings. */
export const UNSET_CONNECTION = { accessKeyId: '', secretAccessKey: '', sessionToken: '', region: '' };

/** The agent's own docker config: an unrelated login, a credential store and proxies that must survive. */
export const AGENT_CONFIG = `${JSON.stringify(
  {
    auths: { 'registry.example.invalid': { auth: Buffer.from('someone:unrelated-agent-secret').toString('base64') } },
    credsStore: 'kaholo-e2e-no-such-helper',
    proxies: { default: { httpProxy: 'http://proxy.example.invalid:3128', noProxy: 'localhost,127.0.0.1' } },
  },
  null,
  2,
)}\n`;

export interface Stack {
  plugin: LoadedPlugin;
  ecr: LocalEcr;
  /** This file's TMPDIR (the plugin's private configs go below it). */
  tmpDir: string;
  /** DOCKER_CONFIG of the "agent". */
  agentDir: string;
  /** Registry password and authorization token (base64 of AWS:password) of each account, in order. */
  passwords: string[];
  tokens: string[];
  /** Environment for docker commands the test runs itself (engine, agent config). */
  dockerEnv(): NodeJS.ProcessEnv;
}

export interface StackOptions {
  accounts?: number;
  /** More regions (each with a registry per account), and fronts for some registries: see devkit/local-ecr.ts. */
  regions?: LocalEcrOptions['regions'];
  front?: LocalEcrOptions['front'];
  /** Also an ECR Public registry (the first account's), behind the home region's endpoint. */
  publicRegistry?: boolean;
  /** With a Docker engine: start real registries and point DOCKER_HOST at the engine. */
  e2e?: () => E2eEnvironment;
}

/** The machine's temporary directory (before this file points os.tmpdir() at its own). */
const REAL_TMPDIR = os.tmpdir();
const HOME_DOCKER_CONFIG = path.join(os.homedir(), '.docker', 'config.json');

/** Registers the hooks of one e2e test file and returns the stack (valid inside hooks and tests). */
export function useLocalStack(options: StackOptions = {}): () => Stack {
  let stack: Stack | undefined;
  let restoreEnv: (() => void) | undefined;
  let savedEnv: NodeJS.ProcessEnv = {};
  let tmpdirSpy: jest.SpyInstance<string, []> | undefined;
  let tmpDirToRemove: string | undefined;
  let before: { agent: Snapshot; home: Snapshot; homeBytes: Buffer | undefined } | undefined;

  beforeAll(async () => {
    savedEnv = { ...process.env };
    restoreEnv = isolateAwsEnvironment();
    const tmpDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ke2e-'));
    tmpDirToRemove = tmpDir;
    const agentDir = path.join(tmpDir, 'agent-docker');
    await fs.mkdir(agentDir, { mode: 0o700 });
    await fs.writeFile(path.join(agentDir, 'config.json'), AGENT_CONFIG, { mode: 0o600 });
    process.env.TMPDIR = tmpDir;
    tmpdirSpy = jest.spyOn(os, 'tmpdir').mockReturnValue(tmpDir);
    process.env.DOCKER_CONFIG = agentDir;
    const environment = options.e2e?.();
    if (environment) process.env.DOCKER_HOST = environment.env.DOCKER_HOST;
    const ecr = await startLocalEcr({
      accounts: options.accounts ?? 1,
      regions: options.regions,
      front: options.front,
      ...(environment ? { startRegistry: (o) => environment.startRegistry(o) } : {}),
      ...(options.publicRegistry ? { publicRegistry: true } : {}),
    });
    process.env.AWS_ENDPOINT_URL_ECR = ecr.env.AWS_ENDPOINT_URL_ECR;
    process.env.AWS_ENDPOINT_URL_ECR_PUBLIC = ecr.env.AWS_ENDPOINT_URL_ECR_PUBLIC;
    process.env.AWS_ENDPOINT_URL_STS = ecr.env.AWS_ENDPOINT_URL_STS;
    // The passwords, straight from the endpoint with the SDK (not through the plugin under test).
    const client = new ECRClient({ region: LOCAL_REGION, credentials: LOCAL_KEYS });
    const response = await client.send(new GetAuthorizationTokenCommand({ registryIds: ecr.accountIds }));
    client.destroy();
    const tokens = (response.authorizationData ?? []).map((d) => d.authorizationToken ?? '');
    const passwords = tokens.map((t) => Buffer.from(t, 'base64').toString('utf8').replace(/^AWS:/, ''));
    const publicPassword = ecr.publicRegistry?.state.currentPassword();
    if (publicPassword !== undefined) {
      passwords.push(publicPassword);
      tokens.push(Buffer.from(`AWS:${publicPassword}`).toString('base64'));
    }
    ecr.endpoint.calls.length = 0;
    stack = {
      plugin: loadPlugin(),
      ecr,
      tmpDir,
      agentDir,
      passwords,
      tokens,
      dockerEnv: () => ({ ...process.env }),
    };
  }, E2E_TEST_TIMEOUT_MS);

  beforeEach(async () => {
    const { tmpDir, agentDir } = current();
    before = {
      agent: await takeSnapshot({ tmpDir, agentConfigFile: path.join(agentDir, 'config.json') }),
      home: await takeSnapshot({ tmpDir, agentConfigFile: HOME_DOCKER_CONFIG }),
      homeBytes: await fs.readFile(HOME_DOCKER_CONFIG).catch(() => undefined),
    };
  });

  afterEach(async () => {
    const s = current();
    if (!before) throw new Error('no snapshot taken before the test');
    const agentFile = path.join(s.agentDir, 'config.json');
    const problems = [...(await leftoversSince(before.agent)), ...(await leftoversSince(before.home))];
    if ((await fs.readFile(agentFile, 'utf8')) !== AGENT_CONFIG) problems.push(`${agentFile} is not byte-for-byte the agent's config any more`);
    const homeBytes = await fs.readFile(HOME_DOCKER_CONFIG).catch(() => undefined);
    if (!sameBytes(before.homeBytes, homeBytes)) problems.push(`${HOME_DOCKER_CONFIG} changed`);
    // Ours (this file's directories, ~/.docker): not even the registry's name. The machine's /tmp,
    // which others share: the credentials (the ports of our registries may have been someone's before).
    const credentials = [...s.passwords, ...s.tokens];
    const hosts = [...s.ecr.registries, ...(s.ecr.publicRegistry?.registry ? [s.ecr.publicRegistry.registry] : [])].map((r) => r.host);
    const mentioning = [
      ...(await filesMentioning([...credentials, ...hosts], [s.tmpDir, s.agentDir, path.dirname(HOME_DOCKER_CONFIG)])),
      ...(await filesMentioning(credentials, [REAL_TMPDIR])),
    ];
    if (mentioning.length > 0) problems.push(`docker config files mention the registry or its credentials: ${mentioning.join(', ')}`);
    const privateDirs = (await fs.readdir(s.tmpDir)).filter((e) => e.startsWith(PRIVATE_CONFIG_PREFIX));
    if (privateDirs.length > 0) problems.push(`private docker config directories left in ${s.tmpDir}: ${privateDirs.join(', ')}`);
    // Report once, then start the next test clean so it is not blamed for this one.
    for (const dir of privateDirs) await fs.rm(path.join(s.tmpDir, dir), { recursive: true, force: true });
    await fs.writeFile(agentFile, AGENT_CONFIG, { mode: 0o600 });
    expect([...new Set(problems)]).toEqual([]);
  });

  afterAll(async () => {
    await stack?.ecr.stop();
    if (tmpDirToRemove) await fs.rm(tmpDirToRemove, { recursive: true, force: true });
    tmpdirSpy?.mockRestore();
    restoreEnv?.();
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  }, E2E_TEST_TIMEOUT_MS);

  const current = (): Stack => {
    if (!stack) throw new Error('e2e stack not started (use it inside hooks and tests only)');
    return stack;
  };
  return current;
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.equals(b);
}

export interface ActionRun<T> {
  /** The activity log: everything the method wrote to stdout and stderr. */
  output: string;
  result?: T;
  error?: Error;
}

/**
 * Runs a plugin method as the agent does, capturing its activity log while still showing it
 * (so a person running one file watches the push). `onOutput` sees each chunk as it is written.
 */
export async function runAction<T = unknown>(
  plugin: LoadedPlugin,
  method: string,
  params: Record<string, unknown>,
  settings: Record<string, unknown> = {},
  onOutput?: (chunk: string) => void,
): Promise<ActionRun<T>> {
  const chunks: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const tee = (write: typeof out) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      chunks.push(text);
      onOutput?.(text);
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof out;
  out(`\n── activity log of ${method} ──\n`);
  process.stdout.write = tee(out);
  process.stderr.write = tee(err);
  let run: ActionRun<T>;
  try {
    const result = (await plugin.run(method, params, settings)) as T;
    run = { output: chunks.join(''), result };
  } catch (error) {
    run = { output: chunks.join(''), error: error instanceof Error ? error : new Error(String(error)) };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  const shown = run.error ? `failed: ${run.error.message}` : `returned ${truncate(JSON.stringify(run.result), 300)}`;
  out(`── ${method} ${shown}\n`);
  return run;
}

function truncate(text: string | undefined, length: number): string {
  if (text === undefined) return 'undefined';
  return text.length <= length ? text : `${text.slice(0, length)}… (${text.length} characters)`;
}

/** The result, or the action's error rethrown with its activity log (so a failure explains itself). */
export function succeeded<T>(run: ActionRun<T>): T {
  if (run.error) throw new Error(`the action failed: ${run.error.message}\nactivity log:\n${run.output}`);
  return run.result as T;
}

/** The action's error; fails the test when the action succeeded. */
export function failed(run: ActionRun<unknown>): Error {
  if (!run.error) throw new Error(`the action succeeded but should have failed; result: ${JSON.stringify(run.result)}`);
  return run.error;
}

/**
 * Waits until no client holds a connection to the local ECR/STS endpoint: the plugin closes its
 * clients when an action ends, and the endpoint keeps an idle connection 30 s, so one left open
 * shows. The close reaches the endpoint a moment after the action returns; bounded by `timeoutMs`.
 */
export async function expectNoOpenConnections(stack: Stack, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (stack.ecr.endpoint.openConnections() > 0) {
    if (Date.now() > deadline) throw new Error(`${stack.ecr.endpoint.openConnections()} connection(s) to the endpoint still open ${timeoutMs} ms after the action ended`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Asserts that no secret appears in any of the texts. */
export function expectNoSecrets(stack: Stack, ...texts: string[]): void {
  for (const secret of [...stack.passwords, ...stack.tokens, LOCAL_KEYS.secretAccessKey]) {
    for (const text of texts) expect(text.includes(secret)).toBe(false);
  }
}

/** `docker …` with the test's environment (engine, agent config); rejects on failure. */
export async function docker(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<execa.ExecaReturnValue> {
  return execa('docker', args, { env, extendEnv: false, ...(input !== undefined ? { input } : { stdin: 'ignore' }) });
}

/** Whether the engine has an image by this reference. */
export async function hasImage(env: NodeJS.ProcessEnv, reference: string): Promise<boolean> {
  const result = await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', reference], { env, extendEnv: false, reject: false, stdin: 'ignore' });
  return result.exitCode === 0;
}

const MANIFEST_TYPES = MANIFEST_MEDIA_TYPES.join(', ');

/** The registry's own answer for a manifest (HTTP API, basic auth): its digest and body. */
export function registryManifest(registry: Registry, password: string, repository: string, reference: string): Promise<{ status: number; digest?: string; body: string }> {
  const auth = Buffer.from(`${registry.user}:${password}`).toString('base64');
  return new Promise((resolve, reject) => {
    const request = http.get(
      `${registry.url}/v2/${repository}/manifests/${reference}`,
      { headers: { Authorization: `Basic ${auth}`, Accept: MANIFEST_TYPES }, agent: false, timeout: 10_000 },
      (response) => {
        const body: Buffer[] = [];
        response.on('data', (chunk: Buffer) => body.push(chunk));
        response.on('end', () => {
          const digest = response.headers['docker-content-digest'];
          resolve({ status: response.statusCode ?? 0, digest: typeof digest === 'string' ? digest : undefined, body: Buffer.concat(body).toString('utf8') });
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error('registry did not answer')));
    request.on('error', reject);
  });
}
