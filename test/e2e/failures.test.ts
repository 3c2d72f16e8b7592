/**
 * Failures end to end, each with the clear message the user sees in Kaholo and nothing left behind
 * (checked after every test by the shared afterEach): wrong keys, a missing repository, a missing
 * local image, an unknown tag, the registry down, the Docker engine down.
 */
import path from 'node:path';
import { describeWithDocker } from '../support/e2e-environment';
import { makeImage, removeImage } from '../../devkit/images';
import { LOCAL_KEYS } from '../../devkit/local-ecr';
import { installDockerStandIn, type DockerCall } from '../../devkit/docker-stand-in';
import { httpStatus } from '../../devkit/registry';
import {
  E2E_TEST_TIMEOUT_MS,
  ONE_MB,
  SETTINGS,
  UNSET_CONNECTION,
  expectNoSecrets,
  failed,
  hasImage,
  runAction,
  succeeded,
  useLocalStack,
} from './helpers';

jest.setTimeout(E2E_TEST_TIMEOUT_MS);

const REQUEST_ID = /\(request id: [0-9a-f-]{36}\)/;
const WRONG_KEYS = { accessKeyId: 'AKIAWRONGKEY00000000', secretAccessKey: 'wrong/Secret+Key/not-the-local-one' };

describeWithDocker('failures (local ECR API endpoint, real registry, real Docker engine)', (e2e) => {
  const stack = useLocalStack({ e2e });
  const images: string[] = [];

  afterAll(async () => {
    for (const image of images) await removeImage(stack().dockerEnv(), image);
  });

  const push = (imageName: string, settings: Record<string, unknown> = SETTINGS, params: Record<string, unknown> = {}) =>
    runAction(stack().plugin, 'pushImgaeToRepo', { ...UNSET_CONNECTION, registryId: '', repoName: 'team/app', imageName, ...params }, settings);
  const pull = (imageName: string) =>
    runAction(stack().plugin, 'pullImage', { ...UNSET_CONNECTION, registryId: '', repoName: 'team/app', imageName }, SETTINGS);

  test('wrong access key (in the params, over good settings): UnrecognizedClientException with its request id', async () => {
    const run = await runAction(stack().plugin, 'describeRepositories', { ...UNSET_CONNECTION, ...WRONG_KEYS, repositoryNames: '' }, SETTINGS);
    const error = failed(run);
    expect(error.message).toContain('ECR DescribeRepositories failed: UnrecognizedClientException: The security token included in the request is invalid.');
    expect(error.message).toMatch(REQUEST_ID);
    expect(error.message).not.toContain(WRONG_KEYS.secretAccessKey);
    expect(stack().ecr.endpoint.calls.at(-1)).toMatchObject({ operation: 'DescribeRepositories', accessKeyId: WRONG_KEYS.accessKeyId });
  });

  test('right access key with a wrong secret: the signature is refused (the secret really signs the request)', async () => {
    const settings = { ...SETTINGS, secretAccessKey: WRONG_KEYS.secretAccessKey };
    const run = await runAction(stack().plugin, 'getEcrLogin', { ...UNSET_CONNECTION, registryIds: '' }, settings);
    const error = failed(run);
    expect(error.message).toMatch(/^ECR GetAuthorizationToken failed: InvalidSignatureException: The request signature we calculated does not match/);
    expect(error.message).toMatch(REQUEST_ID);
    expect(error.message + run.output).not.toContain(WRONG_KEYS.secretAccessKey);
  });

  test('wrong keys on a push: fails at the token, before any docker login', async () => {
    const run = await push('local/never-made:1.0', { ...SETTINGS, accessKeyId: WRONG_KEYS.accessKeyId });
    const error = failed(run);
    expect(error.message).toContain('ECR GetAuthorizationToken failed: UnrecognizedClientException');
    expect(run.output).not.toContain('Logged in');
  });

  test('a repository that does not exist: RepositoryNotFoundException naming it, with the request id', async () => {
    stack().ecr.endpoint.createRepositories(['team/exists']);
    const run = await runAction(
      stack().plugin,
      'describeRepositories',
      { ...UNSET_CONNECTION, repositoryNames: 'team/exists\nteam/does-not-exist' },
      { accessKeyId: LOCAL_KEYS.accessKeyId, secretAccessKey: LOCAL_KEYS.secretAccessKey, region: SETTINGS.region },
    );
    const error = failed(run);
    expect(error.message).toMatch(/^ECR DescribeRepositories failed: RepositoryNotFoundException: /);
    expect(error.message).toContain("'team/does-not-exist'");
    expect(error.message).toContain(stack().ecr.endpoint.defaultRegistryId);
    expect(error.message).toMatch(REQUEST_ID);
  });

  test('push of a local image that does not exist: names the parameter and the image it looked for', async () => {
    const run = await push('local/never-made:1.0');
    const error = failed(run);
    expect(error.message).toBe('Parameter "imageName": no such local image on the agent (looked for "local/never-made:1.0"); build or pull it first');
    // It got that far for real: logged in and out again.
    expect(run.output).toContain(`Logged out of ${stack().ecr.registries[0].host}`);
    expectNoSecrets(stack(), error.message, run.output);
  });

  test('pull of a tag that is not in the registry: says so, with the reference', async () => {
    const host = stack().ecr.registries[0].host;
    const run = await pull('no-such-tag');
    const error = failed(run);
    expect(error.message).toContain(`${host}/team/app:no-such-tag is not in the registry: check "repoName" and "imageName"`);
    expect(error.message).toMatch(/manifest unknown|not found/);
    expectNoSecrets(stack(), error.message, run.output);
  });

  test('registry down: the login fails with the registry and why; it works again once the registry is back', async () => {
    const registry = stack().ecr.registries[0];
    const imageId = await makeImage(stack().dockerEnv(), 'local/app:down', ONE_MB);
    images.push(imageId);
    await registry.stop();
    try {
      expect(await httpStatus(`${registry.url}/v2/`)).toBeUndefined();
      const run = await push('local/app:down');
      const error = failed(run);
      expect(error.message).toMatch(/^The registry \S+ cannot be reached from the agent: docker login failed: /);
      expect(error.message).toContain(registry.host);
      expect(error.message).toMatch(/connection refused/);
      expectNoSecrets(stack(), error.message, run.output);
    } finally {
      await registry.start();
    }
    // Same registry, same data, same password: the same push now goes through.
    const again = await push('local/app:down');
    expect(succeeded(again)).toMatchObject({ image: `${registry.host}/team/app:down` });
    expect(await hasImage(stack().dockerEnv(), 'local/app:down')).toBe(true);
  });

  test('Docker engine down (DOCKER_HOST where nothing listens): says the engine does not answer, and where', async () => {
    const socket = `unix://${path.join(stack().tmpDir, 'no-engine.sock')}`; // nothing listens there
    // The real CLI behind the kit's stand-in, which records the engine each docker command was sent to.
    const docker = await installDockerStandIn({ mode: 'real' });
    const saved = { DOCKER_HOST: process.env.DOCKER_HOST, PATH: process.env.PATH };
    process.env.DOCKER_HOST = socket;
    process.env.PATH = docker.path;
    let runs: Array<Awaited<ReturnType<typeof pull>>>;
    let calls: DockerCall[];
    try {
      runs = [await pull('1.0'), await push('local/app:1.0')];
      calls = await docker.calls();
    } finally {
      Object.assign(process.env, saved);
      await docker.remove();
    }
    for (const run of runs) {
      const error = failed(run);
      expect(error.message.startsWith(`The Docker engine does not answer at ${socket}: is the daemon running`)).toBe(true);
      expectNoSecrets(stack(), error.message, run.output);
    }
    // Docker was asked, and only ever the engine the agent names: never a fallback to another one.
    expect(calls.length).toBeGreaterThan(0);
    expect([...new Set(calls.map((call) => call.dockerHost))]).toEqual([socket]);
  });
});
