/**
 * No secret in output: for every method, on success and on every failure path,
 * the activity log (stdout and stderr), the thrown error (message and stack) and the result hold
 * neither the secret key, the session token, the registry password nor its base64 token. Only
 * getEcrLogin's result carries the password, in the fields its documentation names.
 *
 * The methods are config.json's, each with its inputs below: a method declared there without
 * inputs here fails the tests, so a new method is scanned from the start.
 *
 * The first block needs no Docker engine: the local ECR endpoint answers, with a real registry
 * behind it for the images tagImage reads, and a stand-in `docker` that repeats the password (twice
 * per line, with its base64 auth) in its output and error text plays the careless CLI. The second
 * block uses the real engine and registry, each action in a node process of its own as the agent
 * runs it, and checks that nothing was left behind.
 */
import { ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { ECRPUBLICClient, PutImageCommand as PublicPutImageCommand } from '@aws-sdk/client-ecr-public';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { captureOutput } from '../support/capture-output';
import { describeWithDocker } from '../support/e2e-environment';
import { makeImage, removeImage } from '../../devkit/images';
import { isolateAwsEnvironment } from '../../devkit/aws-env';
import { loadPlugin, readManifest, type LoadedPlugin } from '../../devkit/agent';
import { leftoversSince, takeSnapshot } from '../support/leftovers';
import { LOCAL_KEYS, LOCAL_REGION, startLocalEcr, type LocalEcr } from '../../devkit/local-ecr';
import { agentEnvironment, runAgentAction } from '../../devkit/agent-process';
import { installLeakyDocker, leakedSecrets, registrySecrets, sessionToken, visibleText, type Secret } from './support/secrets';
import type { DockerStandIn } from '../../devkit/docker-stand-in';

jest.setTimeout(60_000);

type Method = string;
/** Every method config.json declares. */
const METHODS: Method[] = readManifest().methods.map((method) => method.name);
/**
 * Each method's params beyond the keys and region, that make it succeed against the first block's
 * endpoint and registry (its stand-in docker has the local image "app:1.0"; the registry, the tag
 * "1.0" in "team/app").
 */
const INPUTS: Record<Method, Record<string, unknown>> = {
  describeRepositories: {},
  getEcrLogin: {},
  pushImgaeToRepo: { repoName: 'team/app', imageName: 'app:1.0' },
  pullImage: { repoName: 'team/app', imageName: '1.0' },
  tagImage: { repoName: 'team/app', imageName: '1.0', tags: 'prod' },
  checkImageScan: { repoName: 'team/app', imageName: '1.0', failOnSeverity: 'NONE' },
  copyImage: { repoName: 'team/app', imageName: '1.0', targetRepoName: 'team/copy', createRepository: true },
};
/** A method's inputs; one config.json declares without inputs here fails the test that asks. */
function inputsOf(method: Method): Record<string, unknown> {
  const inputs = INPUTS[method] as Record<string, unknown> | undefined;
  if (inputs === undefined) throw new Error(`config.json declares the method "${method}", but this test has no inputs for it: add them to INPUTS`);
  return inputs;
}
const REDACTED = '[REDACTED]';
const WRONG_SECRET = 'wrong/Secret+Key/that/must/never/show/1234';
/** A password with every character that trips naive redaction (regex and replacement syntax) and colons. */
const TRICKY_PASSWORD = `p4ss:w$&rd.*+?^(x)[y]{2}|\\z:$1${Date.now()}`;

/** getEcrLogin's result with the documented credential fields taken out; what is left must hold no secret. */
function withoutDocumentedCredentials(result: unknown): unknown {
  const data = (result as { authorizationData?: Array<Record<string, unknown>> }).authorizationData ?? [];
  return {
    ...(result as object),
    authorizationData: data.map(({ authorizationToken: _token, baseDockerLoginCommand: _command, decodedToken, ...rest }) => ({
      ...rest,
      decodedToken: { ...(decodedToken as object), password: undefined },
    })),
  };
}

/** Everything the user sees of a run, minus what getEcrLogin documents as its output. */
function userVisible(method: Method, run: { output: string; error?: unknown; result?: unknown }): string {
  const result = method === 'getEcrLogin' && run.result !== undefined ? withoutDocumentedCredentials(run.result) : run.result;
  return visibleText({ output: run.output, error: run.error, result });
}

describeWithDocker('no secret in output (local endpoint and registry, stand-in docker)', (e2e) => {
  let plugin: LoadedPlugin;
  let ecr: LocalEcr;
  let leaky: DockerStandIn;
  let emptyBin: string;
  let restoreEnv: () => void;
  const token = sessionToken();
  const originalPath = process.env.PATH ?? '';
  let secrets: Secret[];

  const keys = (): Record<string, string> => ({ ...LOCAL_KEYS, sessionToken: token, region: LOCAL_REGION });
  const baseParams = (method: Method): Record<string, unknown> => ({ ...keys(), ...inputsOf(method) });

  async function run(method: Method, params: Record<string, unknown>, settings: Record<string, unknown> = {}) {
    const outcome = await captureOutput(() => plugin.run(method, params, settings));
    return { ...outcome, visible: userVisible(method, outcome) };
  }

  beforeAll(async () => {
    restoreEnv = isolateAwsEnvironment();
    ecr = await startLocalEcr({ accounts: 1, startRegistry: (options) => e2e().startRegistry(options), publicRegistry: true });
    await ecr.registries[0].setPassword(TRICKY_PASSWORD);
    ecr.endpoint.setPassword(ecr.accountIds[0], TRICKY_PASSWORD);
    ecr.publicRegistry?.state.setPassword(TRICKY_PASSWORD);
    process.env.AWS_ENDPOINT_URL_ECR = ecr.env.AWS_ENDPOINT_URL_ECR;
    process.env.AWS_ENDPOINT_URL_ECR_PUBLIC = ecr.env.AWS_ENDPOINT_URL_ECR_PUBLIC;
    // An image for tagImage to read (an index of no platforms needs no layers), with a scan for checkImageScan to report.
    ecr.endpoint.createRepositories(['team/app']);
    const index = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] });
    const client = new ECRClient({ region: LOCAL_REGION, credentials: LOCAL_KEYS, endpoint: ecr.endpoint.url });
    // The same image in the public registry, for tagImage with registryType public.
    ecr.publicRegistry?.state.add('team/app');
    const publicClient = new ECRPUBLICClient({ region: 'us-east-1', credentials: LOCAL_KEYS, endpoint: ecr.endpoint.url });
    try {
      await client.send(new PutImageCommand({ repositoryName: 'team/app', imageTag: '1.0', imageManifest: index, imageManifestMediaType: 'application/vnd.oci.image.index.v1+json' }));
      await publicClient.send(new PublicPutImageCommand({ repositoryName: 'team/app', imageTag: '1.0', imageManifest: index, imageManifestMediaType: 'application/vnd.oci.image.index.v1+json' }));
    } finally {
      client.destroy();
      publicClient.destroy();
    }
    const digest = `sha256:${createHash('sha256').update(index).digest('hex')}`;
    ecr.endpoint.scans.set({ repositoryName: 'team/app', digest, tags: ['1.0'], scan: [{ status: 'COMPLETE', findings: [{ name: 'CVE-2024-1', severity: 'HIGH', package: 'openssl', version: '3.0.1' }] }] });
    leaky = await installLeakyDocker();
    emptyBin = await fs.mkdtemp(path.join(os.tmpdir(), 'no-docker-'));
    plugin = loadPlugin();
    secrets = [
      { name: 'secret key', value: LOCAL_KEYS.secretAccessKey },
      { name: 'wrong secret key', value: WRONG_SECRET },
      { name: 'session token', value: token },
      ...registrySecrets(TRICKY_PASSWORD),
    ];
  });

  afterEach(() => {
    process.env.PATH = originalPath;
    delete process.env.DEVKIT_DOCKER_FAIL;
    ecr.endpoint.failNext(0, 'server-error');
  });

  afterAll(async () => {
    await leaky.remove();
    await fs.rm(emptyBin, { recursive: true, force: true });
    await ecr.stop();
    restoreEnv();
  });

  const useLeakyDocker = (failing: string): void => {
    process.env.PATH = `${leaky.binDir}${path.delimiter}${originalPath}`;
    process.env.DEVKIT_DOCKER_FAIL = failing;
  };

  it('has inputs for every method config.json declares, and for no other', () => {
    expect(Object.keys(INPUTS).sort()).toEqual([...METHODS].sort());
  });

  it.each(METHODS)('%s succeeds with a session token and shows no secret', async (method) => {
    useLeakyDocker(''); // push and pull: docker prints the password twice per line, and its base64 auth
    const { error, result, output, visible } = await run(method, baseParams(method));
    expect(error).toBeUndefined();
    expect(result).toBeDefined();
    expect(leakedSecrets(visible, secrets)).toEqual([]);
    if (method === 'pushImgaeToRepo' || method === 'pullImage') {
      // The stand-in did print them: they were there to hide, every occurrence of them.
      expect(output).toContain(`password=${REDACTED} again ${REDACTED} auth=${REDACTED}`);
    }
    // The call carried the session token: it was used, not dropped.
    expect(ecr.endpoint.calls.at(-1)?.sessionToken).toBe(token);
  });

  // registryType public: the same token shape through ECR Public's API (checkImageScan refuses public before any call).
  it.each(METHODS.filter((m) => m !== 'checkImageScan'))('%s with registryType public succeeds with a session token and shows no secret', async (method) => {
    useLeakyDocker('');
    const { error, result, output, visible } = await run(method, { ...baseParams(method), registryType: 'public' });
    expect(error).toBeUndefined();
    expect(result).toBeDefined();
    expect(leakedSecrets(visible, secrets)).toEqual([]);
    if (method === 'pushImgaeToRepo' || method === 'pullImage') expect(output).toContain(`password=${REDACTED} again ${REDACTED} auth=${REDACTED}`);
    expect(ecr.endpoint.publicCalls.at(-1)?.sessionToken).toBe(token);
  });

  it.each(METHODS.filter((m) => m !== 'checkImageScan'))('%s with registryType public and a wrong secret key: the AWS error shows, the key does not', async (method) => {
    const { error, visible } = await run(method, { ...baseParams(method), registryType: 'public', secretAccessKey: WRONG_SECRET });
    expect((error as Error).message).toMatch(/^ECR Public \w+ failed: InvalidSignatureException/);
    expect(leakedSecrets(visible, secrets)).toEqual([]);
  });

  it('getEcrLogin returns the password only in its documented fields', async () => {
    const { result } = await run('getEcrLogin', baseParams('getEcrLogin'));
    const [entry] = (result as { authorizationData: Array<Record<string, unknown>> }).authorizationData;
    expect(entry.decodedToken).toMatchObject({ password: TRICKY_PASSWORD, user: 'AWS' });
    expect(entry.authorizationToken).toBe(registrySecrets(TRICKY_PASSWORD)[1].value);
    expect(entry.baseDockerLoginCommand).toContain(TRICKY_PASSWORD);
    const rest = JSON.stringify(withoutDocumentedCredentials(result));
    expect(leakedSecrets(rest, secrets)).toEqual([]);
  });

  it.each(METHODS)('%s with a wrong secret key: the AWS error shows, the key does not', async (method) => {
    const { error, visible } = await run(method, { ...baseParams(method), secretAccessKey: WRONG_SECRET });
    expect((error as Error).message).toMatch(/InvalidSignatureException/);
    expect(leakedSecrets(visible, secrets)).toEqual([]);
  });

  it.each(METHODS)('%s with a wrong secret key in the plugin settings: hidden too', async (method) => {
    const params = { ...baseParams(method), accessKeyId: '', secretAccessKey: '', sessionToken: '' };
    const { error, visible } = await run(method, params, { accessKeyId: LOCAL_KEYS.accessKeyId, secretAccessKey: WRONG_SECRET });
    expect((error as Error).message).toMatch(/InvalidSignatureException/);
    expect(leakedSecrets(visible, secrets)).toEqual([]);
  });

  it.each(METHODS)('%s when the ECR API keeps answering 5xx', async (method) => {
    ecr.endpoint.failNext(10, 'server-error');
    const { error, visible } = await run(method, baseParams(method));
    expect((error as Error).message).toMatch(/ServerException/);
    expect(leakedSecrets(visible, secrets)).toEqual([]);
  });

  /** A secret pasted into a param of each method (at least one each), and the param the error must name. */
  const pasted: Array<[Method, Record<string, unknown>, string]> = [
    ['describeRepositories', { registryId: LOCAL_KEYS.secretAccessKey }, 'registryId'],
    ['getEcrLogin', { registryIds: `123456789012\n${token}` }, 'registryIds'],
    ['pushImgaeToRepo', { repoName: LOCAL_KEYS.secretAccessKey }, 'repoName'],
    ['pullImage', { imageName: `app@sha256:${token}` }, 'imageName'],
    ['pullImage', { region: token }, 'region'],
    ['tagImage', { imageName: `sha256:${token}` }, 'imageName'],
    ['tagImage', { tags: `prod\n${token}` }, 'tags'],
    ['checkImageScan', { ignoreFindings: `CVE-1 until ${token}` }, 'ignoreFindings'],
    ['copyImage', { targetTags: `prod\n${token}` }, 'targetTags'],
    ['copyImage', { targetRegistryId: LOCAL_KEYS.secretAccessKey }, 'targetRegistryId'],
  ];

  it('pastes a secret into a param of every method config.json declares', () => {
    expect(METHODS.filter((method) => !pasted.some(([m]) => m === method))).toEqual([]);
  });

  it.each(pasted)('%s with a secret pasted into a param: the error quotes it hidden', async (method, bad, param) => {
    const { error, visible } = await run(method, { ...baseParams(method), ...bad });
    expect((error as Error).message).toMatch(new RegExp(`^Parameter "${param}": `));
    expect((error as Error).message).toContain(REDACTED);
    expect(leakedSecrets(visible, secrets)).toEqual([]);
  });

  it.each(['pushImgaeToRepo', 'pullImage'] as const)('%s without the docker CLI', async (method) => {
    process.env.PATH = emptyBin;
    const { error, visible } = await run(method, baseParams(method));
    expect((error as Error).message).toMatch(/docker CLI was not found/);
    expect(leakedSecrets(visible, secrets)).toEqual([]);
  });

  it.each(['pushImgaeToRepo', 'pullImage'] as const)('%s when docker login fails with the password in its error, twice', async (method) => {
    useLeakyDocker('login');
    const { error, output, visible } = await run(method, baseParams(method));
    const message = (error as Error).message;
    expect(message).toMatch(/^The registry \S+ refused the login ECR authorized: docker login failed: /);
    expect(message.split(REDACTED).length - 1).toBeGreaterThanOrEqual(4); // "AWS:<pw>@", "password=<pw> again <pw> auth=<token>"
    expect(leakedSecrets(visible, secrets)).toEqual([]);
    expect(output).not.toContain('Logged out'); // never logged in
  });

  it.each([
    ['pushImgaeToRepo', 'push'],
    ['pullImage', 'pull'],
  ] as const)('%s when docker %s and logout fail with the password in their output and errors', async (method, command) => {
    useLeakyDocker(`${command},logout`);
    const { error, output, visible } = await run(method, baseParams(method));
    const message = (error as Error).message;
    expect(message).toContain(`unauthorized: password=${REDACTED} again ${REDACTED} auth=${REDACTED}`);
    expect(output).toMatch(/docker logout failed \(credentials are removed anyway\): .*\[REDACTED\].*\[REDACTED\]/);
    expect(leakedSecrets(visible, secrets)).toEqual([]);
  });
});

describeWithDocker('no secret in output (real engine and registry)', (e2e) => {
  let ecr: LocalEcr;
  const token = sessionToken();
  const tag = `t${process.pid}`;
  const localImage = `sec-output/app:${tag}`;
  let secrets: Secret[];
  let params: Record<string, string>;
  let host: string;
  let tmp: string;

  /** Runs the method as the agent does, in a node process whose TMPDIR is ours (the leftover check's scope). */
  async function run(method: Method, extra: Record<string, string>, env: Record<string, string> = {}) {
    const before = await takeSnapshot({ tmpDir: tmp });
    const outcome = await runAgentAction(
      { method, params: { ...params, ...extra } },
      agentEnvironment({ ...e2e().env, ...ecr.env, TMPDIR: tmp, ...env }),
    );
    expect(await leftoversSince(before)).toEqual([]);
    return { ...outcome, visible: userVisible(method, outcome) };
  }

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sec-output-'));
    ecr = await startLocalEcr({ accounts: 1, startRegistry: (options) => e2e().startRegistry(options) });
    // The same tricky password on both sides, through htpasswd and docker login for real.
    await ecr.registries[0].setPassword(TRICKY_PASSWORD);
    ecr.endpoint.setPassword(ecr.accountIds[0], TRICKY_PASSWORD);
    host = ecr.registries[0].host;
    await makeImage(e2e().env, localImage, 512 * 1024);
    params = { ...LOCAL_KEYS, sessionToken: token, region: LOCAL_REGION, repoName: 'sec/output' };
    secrets = [
      { name: 'secret key', value: LOCAL_KEYS.secretAccessKey },
      { name: 'session token', value: token },
      ...registrySecrets(TRICKY_PASSWORD),
      ...registrySecrets('refused-password-the-registry-holds', 'registry-side password'),
    ];
  });

  afterAll(async () => {
    await removeImage(e2e().env, localImage);
    await removeImage(e2e().env, `${host}/sec/output:${tag}`);
    await ecr.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('push and pull succeed and show no secret', async () => {
    const push = await run('pushImgaeToRepo', { imageName: localImage });
    expect(push.error).toBeUndefined();
    expect(leakedSecrets(push.visible, secrets)).toEqual([]);
    const pull = await run('pullImage', { imageName: tag });
    expect(pull.error).toBeUndefined();
    expect(pull.output).toMatch(/Pulling from|Digest:/);
    expect(leakedSecrets(pull.visible, secrets)).toEqual([]);
  });

  it('the registry refusing the password ECR handed out', async () => {
    await ecr.registries[0].setPassword('refused-password-the-registry-holds');
    try {
      const { error, visible } = await run('pushImgaeToRepo', { imageName: localImage });
      expect(error).toMatch(/^The registry \S+ refused the login ECR authorized: docker login failed: .*(unauthorized|401)/i);
      expect(leakedSecrets(visible, secrets)).toEqual([]);
    } finally {
      await ecr.registries[0].setPassword(TRICKY_PASSWORD);
    }
  });

  it('the Docker engine down', async () => {
    const { error, visible } = await run('pullImage', { imageName: '1' }, { DOCKER_HOST: `unix://${path.join(tmp, 'no-engine.sock')}` });
    expect(error).toMatch(/The Docker engine does not answer at unix:/);
    expect(leakedSecrets(visible, secrets)).toEqual([]);
  });

  it('a push of an image that does not exist locally', async () => {
    const { error, visible } = await run('pushImgaeToRepo', { imageName: 'sec-output/missing:1' });
    expect(error).toMatch(/^Parameter "imageName": no such local image/);
    expect(leakedSecrets(visible, secrets)).toEqual([]);
  });

  it('a pull of a tag that does not exist', async () => {
    const { error, visible } = await run('pullImage', { imageName: 'no-such-tag' });
    expect(error).toMatch(/is not in the registry/);
    expect(leakedSecrets(visible, secrets)).toEqual([]);
  });
});
