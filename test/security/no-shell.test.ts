/**
 * No shell: image names, repository names, registry ids (and the other params)
 * made of shell syntax go through every method of the compiled plugin. Each is either refused with
 * an error naming the param, or reaches docker as one inert argument that docker cannot read as a
 * flag. A canary file that every payload tries to create never appears, and every process the
 * plugin starts is started from an argument array with no shell. The methods are config.json's: one
 * declared there without valid params and params to attack here fails the tests.
 *
 * Needs no Docker: a recording stand-in `docker` (devkit/bin/docker.js in its fake mode) answers, so that a
 * payload that got through validation would be seen in the argv docker received.
 */
import childProcess, { type SpawnOptions } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { captureOutput } from '../support/capture-output';
import { startEcrEndpoint, type EcrEndpoint } from '../../devkit/ecr-endpoint';
import { installFakeDocker, type FakeDocker, type FakeDockerCall } from '../../devkit/docker-stand-in';
import { isolateAwsEnvironment } from '../../devkit/aws-env';
import { loadPlugin, readManifest, REPO_ROOT, type LoadedPlugin } from '../../devkit/agent';
import { LOCAL_KEYS, LOCAL_REGION, startLocalEcr, type LocalEcr } from '../../devkit/local-ecr';

jest.setTimeout(60_000);

/** The flags the plugin itself passes; any other argument starting with "-" would be an injection. */
const PLUGIN_FLAGS = new Set(['--username', '--password-stdin', '--format', '--no-prune']);
const KEYS = { ...LOCAL_KEYS, region: LOCAL_REGION };

let canaryDir: string;
let canary: string;
let plugin: LoadedPlugin;
let ecr: LocalEcr;
let docker: FakeDocker;
let restoreEnv: () => void;
const spawned: Array<{ file: string; args: readonly string[]; shell: unknown }> = [];

function payloads(): string[] {
  const touch = `touch ${canary}`;
  return [
    `x; ${touch}`,
    `x;${touch};`,
    `x && ${touch}`,
    `x || ${touch}`,
    `x & ${touch} &`,
    `$(${touch})`,
    `team/app:$(${touch})`,
    `\`${touch}\``,
    `x' ; ${touch} ; '`,
    `x" ; ${touch} ; "`,
    `x\n${touch}`,
    `x\r\n${touch}`,
    `x | ${touch}`,
    `x > ${canary}`,
    `x\${IFS}>\${IFS}${canary}`,
    `-v`,
    `--help`,
    `--config=${canaryDir}`,
    `-H=unix://${canary}`,
    `--password=${canary}`,
    `app:1.0; ${touch}`,
    `app:1.0\n--debug`,
    `123456789012; ${touch}`,
    `123456789012\n${touch}`,
  ];
}

/** Every method config.json declares. */
const METHODS = readManifest().methods.map((method) => method.name);
/** Each method's valid params beyond the keys and region. */
const VALID: Record<string, Record<string, unknown>> = {
  describeRepositories: {},
  getEcrLogin: {},
  pushImgaeToRepo: { repoName: 'team/app', imageName: 'app:1.0' },
  pullImage: { repoName: 'team/app', imageName: '1.0' },
  tagImage: { repoName: 'team/app', imageName: '1.0', tags: 'prod' },
  checkImageScan: { repoName: 'team/app', imageName: '1.0', failOnSeverity: 'NONE', scanTimeoutSeconds: '1' },
  copyImage: { repoName: 'team/app', imageName: '1.0', targetRepoName: 'team/copy' },
};
/** The params of each method that each payload goes into (the others keep their valid values). */
const ATTACKED: Record<string, string[]> = {
  pushImgaeToRepo: ['imageName', 'repoName', 'registryId', 'region', 'accessKeyId'],
  pullImage: ['imageName', 'repoName', 'registryId'],
  describeRepositories: ['registryId', 'repositoryNames'],
  // sessionToken is only ever an HTTP header: a value without whitespace is accepted, and must reach no process.
  getEcrLogin: ['registryIds', 'sessionToken'],
  tagImage: ['imageName', 'tags', 'repoName', 'registryId'],
  checkImageScan: ['imageName', 'repoName', 'registryId', 'failOnSeverity', 'scanTimeoutSeconds'],
  copyImage: ['imageName', 'repoName', 'targetRepoName', 'targetTags', 'targetRegistryId', 'targetRegion'],
};
const TARGETS = METHODS.flatMap((method) => (ATTACKED[method] ?? []).map((param) => ({ method, param, base: VALID[method] ?? {} })));

/** Arguments docker received that it would read as a flag the plugin did not mean to pass. */
function unexpectedFlags(calls: FakeDockerCall[]): string[] {
  return calls.flatMap((call) => call.argv.filter((arg) => arg.startsWith('-') && !PLUGIN_FLAGS.has(arg)));
}

beforeAll(async () => {
  restoreEnv = isolateAwsEnvironment();
  canaryDir = await fs.mkdtemp(path.join(os.tmpdir(), 'canary-'));
  canary = path.join(canaryDir, 'CANARY');
  ecr = await startLocalEcr({ accounts: 1 });
  process.env.AWS_ENDPOINT_URL_ECR = ecr.env.AWS_ENDPOINT_URL_ECR;
  docker = await installFakeDocker();
  process.env.PATH = `${docker.binDir}${path.delimiter}${process.env.PATH ?? ''}`;
  process.env.DEVKIT_DOCKER_SCENARIO = 'ok';
  process.env.DEVKIT_DOCKER_LOCAL_IMAGES = 'app:1.0';
  plugin = loadPlugin();
  // execa starts every process through child_process.spawn: record how.
  const realSpawn = childProcess.spawn;
  jest.spyOn(childProcess, 'spawn').mockImplementation((file: string, args: readonly string[], options: SpawnOptions) => {
    spawned.push({ file, args, shell: options?.shell });
    return realSpawn(file, args, options);
  });
});

afterAll(async () => {
  jest.restoreAllMocks();
  await docker.remove();
  await ecr.stop();
  await fs.rm(canaryDir, { recursive: true, force: true });
  restoreEnv();
});

describe('no shell', () => {
  it('has valid params and params to attack for every method config.json declares, and for no other', () => {
    expect(Object.keys(VALID).sort()).toEqual([...METHODS].sort());
    expect(Object.keys(ATTACKED).sort()).toEqual([...METHODS].sort());
    expect(METHODS.filter((method) => (ATTACKED[method] ?? []).length === 0)).toEqual([]);
  });

  it('the plugin source never asks for a shell', async () => {
    const dir = path.join(REPO_ROOT, 'src');
    const files = (await fs.readdir(dir, { recursive: true })).filter((file) => file.endsWith('.ts'));
    expect(files).toEqual(expect.arrayContaining([path.join('docker', 'docker-cli.ts'), path.join('scan', 'scan-wait.ts'), path.join('copy', 'copy-engine.ts')])); // the folders are searched
    for (const file of files) {
      const text = await fs.readFile(path.join(dir, file), 'utf8');
      expect({ file, shellOption: /\bshell\s*:/.test(text) }).toEqual({ file, shellOption: false });
      // Processes start only through execa(file, args): no child_process, no command strings.
      expect({ file, shellApi: /execaCommand|execa\.command|\bchild_process\b/.test(text) }).toEqual({ file, shellApi: false });
    }
  });

  it('every payload in every param is refused with an error naming the param, and runs nothing', async () => {
    const refused: string[] = [];
    const accepted: string[] = [];
    for (const target of TARGETS) {
      for (const payload of payloads()) {
        const before = (await docker.calls()).length;
        const params = { ...KEYS, ...target.base, [target.param]: payload };
        const { error } = await captureOutput(() => plugin.run(target.method, params));
        const label = `${target.method}.${target.param} = ${JSON.stringify(payload)}`;
        const calls = (await docker.calls()).slice(before);
        if (error === undefined) {
          accepted.push(label);
          // Accepted: it may only ever be one whole argument, never part of one or a flag.
          const inArgs = calls.flatMap((c) => c.argv).filter((arg) => arg.includes(payload));
          expect({ label, inArgs }).toEqual({ label, inArgs: inArgs.filter((arg) => arg === payload && !arg.startsWith('-')) });
        } else {
          // Trailing line breaks are trimmed like any whitespace; what remains must be judged as it is.
          expect({ label, message: (error as Error).message }).toEqual({ label, message: expect.stringMatching(new RegExp(`^Parameter "${target.param}": `)) as string });
          refused.push(label);
        }
        expect({ label, flags: unexpectedFlags(calls) }).toEqual({ label, flags: [] });
        expect({ label, canary: existsSync(canary) }).toEqual({ label, canary: false });
      }
    }
    // No payload is a valid name, id or region: all are refused before anything runs. Only a
    // session token without whitespace is accepted: it travels as an HTTP header, never to docker.
    const printable = payloads().filter((p) => /^[\x21-\x7e]+$/.test(p.trim()));
    expect(accepted).toEqual(printable.map((p) => `getEcrLogin.sessionToken = ${JSON.stringify(p)}`));
    expect(refused.length + accepted.length).toBe(TARGETS.length * payloads().length);
    expect(await fs.readdir(canaryDir)).toEqual([]);
  });

  it('values from ECR with shell syntax (host, password) reach docker as single inert arguments', async () => {
    const touch = `touch ${canary}`;
    const password = `$(${touch});\`${touch}\` | ${touch} && echo '"`;
    const evil: EcrEndpoint = await startEcrEndpoint({
      ...LOCAL_KEYS,
      region: LOCAL_REGION,
      registries: { '123456789012': { url: `http://127.0.0.1:9/$(${touch});${touch}`, password } },
    });
    const saved = process.env.AWS_ENDPOINT_URL_ECR;
    process.env.AWS_ENDPOINT_URL_ECR = evil.url;
    const host = `127.0.0.1:9/$(${touch});${touch}`;
    process.env.DEVKIT_DOCKER_LOCAL_IMAGES = 'app:1.0';
    try {
      for (const method of ['pushImgaeToRepo', 'pullImage'] as const) {
        const before = (await docker.calls()).length;
        const imageName = method === 'pushImgaeToRepo' ? 'app:1.0' : '1.0';
        const { error, result } = await captureOutput(() => plugin.run(method, { ...KEYS, repoName: 'team/app', imageName }));
        expect(error).toBeUndefined();
        expect(result).toMatchObject({ image: `${host}/team/app:1.0`, registry: host });
        const calls = (await docker.calls()).slice(before);
        const login = calls.find((c) => c.argv[0] === 'login');
        expect(login?.argv).toEqual(['login', '--username', 'AWS', '--password-stdin', host]);
        expect(login?.stdin).toBe(password);
        const transfer = calls.find((c) => c.argv[0] === (method === 'pushImgaeToRepo' ? 'push' : 'pull'));
        expect(transfer?.argv).toEqual([transfer?.argv[0], `${host}/team/app:1.0`]);
        expect(calls.every((c) => !c.argv.some((arg) => arg.includes(password)))).toBe(true);
        expect(unexpectedFlags(calls)).toEqual([]);
        expect(existsSync(canary)).toBe(false);
      }
    } finally {
      process.env.AWS_ENDPOINT_URL_ECR = saved;
      await evil.close();
    }
  });

  it('starts each process as docker from an argument array, without a shell: docker receives exactly that array', async () => {
    spawned.length = 0;
    const before = (await docker.calls()).length;
    process.env.DEVKIT_DOCKER_LOCAL_IMAGES = 'app:1.0';
    // Every method, whatever its outcome here (tagImage finds no registry behind the endpoint, checkImageScan no scan): what it starts is what counts.
    const errors: Record<string, unknown> = {};
    for (const method of METHODS) errors[method] = (await captureOutput(() => plugin.run(method, { ...KEYS, ...VALID[method] }))).error;
    expect({ push: errors.pushImgaeToRepo, pull: errors.pullImage }).toEqual({ push: undefined, pull: undefined });
    const calls = (await docker.calls()).slice(before);
    expect(calls.map((c) => c.argv[0])).toEqual(expect.arrayContaining(['login', 'push', 'pull', 'logout']));
    // One spawn per docker call, each handing docker its arguments as they were given: a shell
    // would show as another program, a `shell` option, or arguments split or joined differently.
    // docker runs directly or through util-linux setpriv --pdeathsig, which execs it (src/docker/docker-cli.ts).
    const started = spawned.map((s) =>
      path.basename(s.file) === 'setpriv'
        ? { file: s.args[3], args: s.args.slice(4), shell: s.shell ?? false, setpriv: s.args.slice(0, 3) }
        : { file: s.file, args: [...s.args], shell: s.shell ?? false, setpriv: ['--pdeathsig', 'TERM', '--'] },
    );
    // Compared as sets of calls: the login runs beside the engine's steps, so the order in which
    // docker logs its calls may differ from the order they were spawned in.
    const byArgs = (list: Array<{ args: string[] }>) => [...list].sort((a, b) => a.args.join(' ').localeCompare(b.args.join(' ')));
    expect(byArgs(started)).toEqual(byArgs(calls.map((c) => ({ file: 'docker', args: c.argv, shell: false, setpriv: ['--pdeathsig', 'TERM', '--'] }))));
  });
});
