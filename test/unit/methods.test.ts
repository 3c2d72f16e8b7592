import {
  BatchGetImageCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ECRServiceException,
  GetAuthorizationTokenCommand,
  PutImageCommand,
  type Repository,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { promises as fs, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as plugin from '../../src/app';
import type { KaholoAction, KaholoSettings } from '../../src/kaholo/contract';
import { captureOutput } from '../support/capture-output';
import { FAKE_DIGEST, installFakeDocker, type FakeDocker } from '../../devkit/docker-stand-in';
import { isolateAwsEnvironment } from '../../devkit/aws-env';
import { registryLockPath, tagReference } from '../../src/agent/registry-lock';

const ecrMock = mockClient(ECRClient);
const HOST = '123456789012.dkr.ecr.eu-west-2.amazonaws.com';
const PASSWORD = 'eyJwYXlsb2FkIjoi:secret:with:colons';
const KEYS = { accessKeyId: 'AKIAEXAMPLEKEY000001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

function action(name: string, params: Record<string, unknown>): KaholoAction {
  return { method: { name }, params };
}

function repositories(from: number, count: number): Repository[] {
  return Array.from({ length: count }, (_, i) => ({ repositoryName: `repo-${String(from + i).padStart(4, '0')}` }));
}

function mockToken(password = PASSWORD, host = HOST): void {
  ecrMock.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [
      {
        authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
        expiresAt: new Date('2026-12-01T00:00:00Z'),
        proxyEndpoint: `https://${host}`,
      },
    ],
  });
}

let restoreEnv: () => void;
beforeEach(() => {
  ecrMock.reset();
  restoreEnv = isolateAwsEnvironment();
});
afterEach(() => restoreEnv());

describe('describeRepositories', () => {
  it('returns every repository across pages, with keys and region from the settings', async () => {
    // Record copies: the SDK's paginator reuses one input object across pages.
    const inputs: unknown[] = [];
    const pages = [
      { repositories: repositories(0, 1000), nextToken: 't1' },
      { repositories: repositories(1000, 1000), nextToken: 't2' },
      { repositories: repositories(2000, 5) },
    ];
    ecrMock.on(DescribeRepositoriesCommand).callsFake((input: object) => {
      inputs.push({ ...input });
      return pages[inputs.length - 1];
    });
    const settings: KaholoSettings = { ...KEYS, region: 'eu-west-2' };

    const { result, output } = await captureOutput(() =>
      plugin.describeRepositories(action('describeRepositories', { registryId: '123456789012', region: '' }), settings),
    );

    const names = (result as { repositories: Repository[] }).repositories.map((r) => r.repositoryName);
    expect(names).toHaveLength(2005);
    expect(new Set(names).size).toBe(2005);
    const calls = ecrMock.commandCalls(DescribeRepositoriesCommand);
    expect(inputs).toEqual([
      { registryId: '123456789012', maxResults: 1000 },
      { registryId: '123456789012', maxResults: 1000, nextToken: 't1' },
      { registryId: '123456789012', maxResults: 1000, nextToken: 't2' },
    ]);
    const client = calls[0].thisValue as ECRClient;
    await expect(client.config.region()).resolves.toBe('eu-west-2');
    await expect(client.config.credentials()).resolves.toMatchObject(KEYS);
    expect(output).toContain('Found 2005 repositories');
    expect(output).not.toContain(KEYS.secretAccessKey);
  });

  it.each([
    ['an empty 200 (no repositories field)', {}],
    ['a page whose repositories is not a list', { repositories: 'none' }],
  ])('%s is an error naming the endpoint, never an empty list', async (_what, answer) => {
    ecrMock.on(DescribeRepositoriesCommand).callsFake(() => answer);
    const { error } = await captureOutput(() => plugin.describeRepositories(action('describeRepositories', { region: 'eu-west-2' }), KEYS));
    expect((error as Error).message).toBe(
      'ECR DescribeRepositories failed: the ECR endpoint answered without a list of repositories (an empty or foreign answer); is it really ECR?',
    );
  });

  it('filters by repositoryNames, in batches of 100 since ECR takes no more', async () => {
    ecrMock.on(DescribeRepositoriesCommand).callsFake((input: { repositoryNames: string[] }) => ({
      repositories: input.repositoryNames.map((repositoryName) => ({ repositoryName })),
    }));
    const names = repositories(0, 150).map((r) => r.repositoryName as string);

    const result = (await plugin.describeRepositories(
      action('describeRepositories', { ...KEYS, region: { id: 'us-east-1', value: 'us-east-1 (US East)' }, repositoryNames: names }),
      {},
    )) as { repositories: Repository[] };

    expect(result.repositories.map((r) => r.repositoryName)).toEqual(names);
    const inputs = ecrMock.commandCalls(DescribeRepositoriesCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.repositoryNames?.length)).toEqual([100, 50]);
    expect(inputs.every((i) => i.maxResults === undefined)).toBe(true);
  });

  it('reads repositoryNames one per line from the form', async () => {
    ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [] });
    await plugin.describeRepositories(
      action('describeRepositories', { ...KEYS, region: 'us-east-1', repositoryNames: 'team/app\n\n  team/worker  \n' }),
      {},
    );
    expect(ecrMock.commandCalls(DescribeRepositoriesCommand)[0].args[0].input.repositoryNames).toEqual(['team/app', 'team/worker']);
  });

  it('takes the keys as a pair: an action with its own key id never borrows the settings\' secret', async () => {
    ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [] });
    const settings = { ...KEYS, region: 'us-east-1' };
    await expect(
      plugin.describeRepositories(action('describeRepositories', { accessKeyId: 'AKIAOTHERKEY00000001' }), settings),
    ).rejects.toThrow('Parameter "secretAccessKey": is required when "accessKeyId" is set (the two keys are taken together');
    await plugin.describeRepositories(action('describeRepositories', { accessKeyId: '', secretAccessKey: '' }), settings);
    const client = ecrMock.commandCalls(DescribeRepositoriesCommand)[0].thisValue as ECRClient;
    await expect(client.config.credentials()).resolves.toMatchObject(KEYS);
  });

  it('uses the SDK default credential chain when no keys are given', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIAFROMENVIRONMENT1';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret-from-environment';
    process.env.AWS_REGION = 'ap-south-1';
    ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [] });

    await plugin.describeRepositories(action('describeRepositories', {}), {});

    const client = ecrMock.commandCalls(DescribeRepositoriesCommand)[0].thisValue as ECRClient;
    await expect(client.config.credentials()).resolves.toMatchObject({ accessKeyId: 'AKIAFROMENVIRONMENT1' });
    await expect(client.config.region()).resolves.toBe('ap-south-1');
  });

  it('passes a session token with temporary keys', async () => {
    ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [] });
    await plugin.describeRepositories(
      action('describeRepositories', { ...KEYS, sessionToken: 'FwoGZXIvYXdzEXAMPLETOKEN', region: 'us-east-1' }),
      {},
    );
    const client = ecrMock.commandCalls(DescribeRepositoriesCommand)[0].thisValue as ECRClient;
    await expect(client.config.credentials()).resolves.toMatchObject({ sessionToken: 'FwoGZXIvYXdzEXAMPLETOKEN' });
  });

  it('reports AWS errors with their name, message and request id, secrets hidden', async () => {
    ecrMock.on(DescribeRepositoriesCommand).rejects(
      new ECRServiceException({
        name: 'RepositoryNotFoundException',
        $fault: 'client',
        $metadata: { requestId: 'req-1234', httpStatusCode: 400 },
        message: `The repository with name 'nope' does not exist (key ${KEYS.secretAccessKey})`,
      }),
    );
    await expect(
      plugin.describeRepositories(action('describeRepositories', { ...KEYS, region: 'us-east-1', repositoryNames: 'nope' }), {}),
    ).rejects.toThrow(
      "ECR DescribeRepositories failed: RepositoryNotFoundException: The repository with name 'nope' does not exist (key [REDACTED]) (request id: req-1234)",
    );
  });

  it('says clearly when no region is set anywhere', async () => {
    await expect(plugin.describeRepositories(action('describeRepositories', { ...KEYS }), {})).rejects.toThrow(
      /Parameter "region": is not set/,
    );
    expect(ecrMock.calls()).toHaveLength(0);
  });

  it.each([
    [{ registryId: '12345678901' }, /Parameter "registryId": "12345678901" is not a registry id/],
    [{ registryId: 123456789012 }, /Parameter "registryId": is a number; expected a string/],
    [{ region: 'Europe' }, /Parameter "region": "Europe" is not an AWS region code/],
    [{ repositoryNames: ['ok-name', 7] }, /Parameter "repositoryNames": item 1 is a number/],
    [{ repositoryNames: 'Bad_Name' }, /Parameter "repositoryNames": "Bad_Name" is not an ECR repository name/],
    [{ accessKeyId: 'AKIAONLYKEY000000001', secretAccessKey: '' }, /Parameter "secretAccessKey": is required/],
  ])('rejects %p before calling AWS', async (params, message) => {
    await expect(
      plugin.describeRepositories(action('describeRepositories', { ...KEYS, region: 'us-east-1', ...params }), {}),
    ).rejects.toThrow(message);
    expect(ecrMock.calls()).toHaveLength(0);
  });
});

describe('the AWS client of every method is closed when the method ends', () => {
  // The SDK keeps connections alive for reuse until a client is destroyed.
  const destroyed = (): number => destroySpy.mock.calls.length;
  let destroySpy: jest.SpyInstance;
  beforeEach(() => {
    destroySpy = jest.spyOn(ECRClient.prototype, 'destroy');
  });
  afterEach(() => destroySpy.mockRestore());
  const settings: KaholoSettings = { ...KEYS, region: 'eu-west-2' };

  it('after a success, and after an AWS error', async () => {
    ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: repositories(0, 2) });
    await captureOutput(() => plugin.describeRepositories(action('describeRepositories', {}), settings));
    expect(destroyed()).toBe(1);

    ecrMock.on(DescribeRepositoriesCommand).rejects(new Error('no way'));
    const { error } = await captureOutput(() => plugin.describeRepositories(action('describeRepositories', {}), settings));
    expect(error).toBeInstanceOf(Error);
    expect(destroyed()).toBe(2);

    mockToken();
    await captureOutput(() => plugin.getEcrLogin(action('getEcrLogin', {}), settings));
    expect(destroyed()).toBe(3);
  });

  it('none is made when a param is refused before any call', async () => {
    const { error } = await captureOutput(() => plugin.describeRepositories(action('describeRepositories', { registryId: '12' }), settings));
    expect((error as Error).message).toMatch(/registryId/);
    expect(ecrMock.calls()).toHaveLength(0);
    expect(destroyed()).toBe(0);
  });
});

describe('getEcrLogin', () => {
  it('decodes each token and adds the documented login command', async () => {
    mockToken();
    const result = (await plugin.getEcrLogin(action('getEcrLogin', { ...KEYS, region: 'eu-west-2' }), {})) as {
      authorizationData: Array<Record<string, unknown>>;
    };
    expect(ecrMock.commandCalls(GetAuthorizationTokenCommand)[0].args[0].input).toEqual({});
    expect(result.authorizationData).toHaveLength(1);
    const [entry] = result.authorizationData;
    expect(entry.decodedToken).toEqual({ host: HOST, user: 'AWS', password: PASSWORD });
    expect(entry.baseDockerLoginCommand).toBe(`docker login --username AWS --password "${PASSWORD}" ${HOST}`);
    expect(entry.proxyEndpoint).toBe(`https://${HOST}`);
    expect(entry.expiresAt).toEqual(new Date('2026-12-01T00:00:00Z'));
    expect(result).not.toHaveProperty('$metadata');
  });

  it.each([
    ['a comma- and newline-separated string', '111111111111, 222222222222\n333333333333'],
    ['an array', ['111111111111', '222222222222', '333333333333']],
  ])('takes registryIds as %s', async (_label, registryIds) => {
    mockToken();
    await plugin.getEcrLogin(action('getEcrLogin', { ...KEYS, region: 'eu-west-2', registryIds }), {});
    expect(ecrMock.commandCalls(GetAuthorizationTokenCommand)[0].args[0].input).toEqual({
      registryIds: ['111111111111', '222222222222', '333333333333'],
    });
  });

  it('rejects a registry id that is not 12 digits', async () => {
    await expect(
      plugin.getEcrLogin(action('getEcrLogin', { ...KEYS, region: 'eu-west-2', registryIds: '111111111111,1234567890123' }), {}),
    ).rejects.toThrow(/Parameter "registryIds": "1234567890123" is not a registry id/);
  });
});

/** The image id the stand-in docker gives every local image. */
const IMAGE_ID = `sha256:${'12'.repeat(32)}`;

describe('push and pull with a stand-in docker CLI', () => {
  let docker: FakeDocker;
  let agentConfigDir: string;
  const agentConfig = {
    auths: { 'other.example.com': { auth: 'c2VjcmV0' } },
    credsStore: 'desktop',
    proxies: { default: { httpProxy: 'http://proxy.internal:3128' } },
  };

  beforeEach(async () => {
    docker = await installFakeDocker();
    agentConfigDir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-docker-'));
    await fs.writeFile(path.join(agentConfigDir, 'config.json'), JSON.stringify(agentConfig));
    process.env.PATH = `${docker.binDir}${path.delimiter}${process.env.PATH ?? ''}`;
    process.env.DOCKER_CONFIG = agentConfigDir;
    delete process.env.DOCKER_HOST; // the stand-in, not the engine the e2e setup may have started
    process.env.DEVKIT_DOCKER_LOCAL_IMAGES = 'app:1.2.0';
    mockToken();
  });
  afterEach(async () => {
    await docker.remove();
    await fs.rm(agentConfigDir, { recursive: true, force: true });
  });

  const pushParams = { ...KEYS, region: 'eu-west-2', repoName: 'team/app', imageName: 'app:1.2.0' };

  it('tags, logs in through stdin into a private config, pushes, untags and logs out', async () => {
    const { result, output, error } = await captureOutput(() => plugin.pushImgaeToRepo(action('pushImgaeToRepo', pushParams), {}));
    expect(error).toBeUndefined();
    expect(result).toEqual({ image: `${HOST}/team/app:1.2.0`, digest: FAKE_DIGEST, registry: HOST, tags: ['1.2.0'] });

    const calls = await docker.calls();
    const order = (argv: string[]): number => calls.findIndex((c) => c.argv.join(' ') === argv.join(' '));
    const login = ['login', '--username', 'AWS', '--password-stdin', HOST];
    const push = ['push', `${HOST}/team/app:1.2.0`];
    const logout = ['logout', HOST];
    // What needs only the engine (resolving the image, naming it) runs while the login does, in its own order.
    expect(calls.map((c) => c.argv).filter((argv) => argv[0] !== 'login' && argv[0] !== 'logout')).toEqual([
      ['image', 'inspect', '--format', '{{.Id}}', 'app:1.2.0'],
      ['image', 'inspect', '--format', '{{.Id}}', `${HOST}/team/app:1.2.0`],
      ['tag', IMAGE_ID, `${HOST}/team/app:1.2.0`],
      push,
      ['image', 'inspect', '--format', '{{json .RepoDigests}}', IMAGE_ID],
      ['image', 'inspect', '--format', '{{.Id}}', `${HOST}/team/app:1.2.0`],
      ['rmi', '--no-prune', `${HOST}/team/app:1.2.0`],
    ]);
    // The push waits for the login; the logout follows the push (while the name is restored); once each.
    expect(calls.filter((c) => c.argv[0] === 'login' || c.argv[0] === 'logout').map((c) => c.argv)).toEqual([login, logout]);
    expect(order(login)).toBeLessThan(order(push));
    expect(order(logout)).toBeGreaterThan(order(push));
    const loginCall = calls[order(login)];
    expect(loginCall.stdin).toBe(PASSWORD);
    expect(calls.every((c) => !c.argv.join(' ').includes(PASSWORD))).toBe(true);

    // One private directory for the whole action, not the agent's, gone afterwards.
    const dirs = new Set(calls.map((c) => c.dockerConfig));
    expect(dirs.size).toBe(1);
    const [privateDir] = [...dirs] as string[];
    expect(privateDir).not.toBe(agentConfigDir);
    expect(existsSync(privateDir)).toBe(false);
    // It started as the agent's settings without credentials.
    // A placeholder login keeps docker from choosing a credential store of its own.
    expect(JSON.parse(loginCall.configJson ?? '{}')).toEqual({ proxies: agentConfig.proxies, auths: { 'kaholo-ecr-private.invalid': {} } });
    await expect(fs.readFile(path.join(agentConfigDir, 'config.json'), 'utf8')).resolves.toBe(JSON.stringify(agentConfig));

    expect(output).toContain('5f70bf18a086: Pushed');
    expect(output).not.toContain(PASSWORD);
  });

  describe('with additional tags', () => {
    const MANIFEST = '{"schemaVersion":2}';
    const params = { ...pushParams, additionalTags: 'latest\nrc' };
    beforeEach(() => {
      ecrMock.on(BatchGetImageCommand).resolves({ images: [{ imageId: { imageDigest: FAKE_DIGEST }, imageManifest: MANIFEST }], failures: [] });
    });

    it('writes them while it still holds the lock of every tag it writes', async () => {
      const tags = ['1.2.0', 'latest', 'rc'];
      const seen: Array<{ tag: string; tagsLocked: boolean[] }> = [];
      ecrMock.on(PutImageCommand).callsFake((input: { imageTag: string; imageDigest: string }) => {
        seen.push({ tag: input.imageTag, tagsLocked: tags.map((tag) => existsSync(registryLockPath(tagReference(HOST, 'team/app', tag)))) });
        return Promise.resolve({ image: { imageId: { imageDigest: input.imageDigest, imageTag: input.imageTag } } });
      });
      const { result, error } = await captureOutput(() => plugin.pushImgaeToRepo(action('pushImgaeToRepo', params), {}));
      expect(error).toBeUndefined();
      expect(result).toEqual({ image: `${HOST}/team/app:1.2.0`, digest: FAKE_DIGEST, registry: HOST, tags });
      expect(seen).toEqual(['latest', 'rc'].map((tag) => ({ tag, tagsLocked: [true, true, true] })));
      for (const tag of tags) expect(existsSync(registryLockPath(tagReference(HOST, 'team/app', tag)))).toBe(false);
    });

    it('a tag that fails after the push: one line with the pushed digest, the tags in place and the one that failed', async () => {
      ecrMock.on(PutImageCommand).callsFake((input: { imageTag: string; imageDigest: string }) =>
        input.imageTag === 'rc'
          ? Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { requestId: 'req-9' } }))
          : Promise.resolve({ image: { imageId: { imageDigest: input.imageDigest, imageTag: input.imageTag } } }),
      );
      const { error } = await captureOutput(() => plugin.pushImgaeToRepo(action('pushImgaeToRepo', params), {}));
      expect((error as Error).message).toBe(
        'Tag "rc": ECR PutImage failed: ThrottlingException: Rate exceeded (request id: req-9). ' +
          `The image itself was pushed to "team/app" with digest ${FAKE_DIGEST}; tags in place (verified): "1.2.0", "latest"; not in place: "rc"`,
      );
    });

    it('a tag PutImage answers for but the registry does not hold: not in place, and said so', async () => {
      ecrMock.on(PutImageCommand).resolves({});
      ecrMock.on(BatchGetImageCommand, { imageIds: [{ imageTag: 'latest' }] }).resolves({
        images: [],
        failures: [{ imageId: { imageTag: 'latest' }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }],
      });
      const { error } = await captureOutput(() => plugin.pushImgaeToRepo(action('pushImgaeToRepo', params), {}));
      expect((error as Error).message).toBe(
        'Tag "latest" is not in place: ECR PutImage answered without the image it stored, but reading the tag back (BatchGetImage) found no such tag. ' +
          `The image itself was pushed to "team/app" with digest ${FAKE_DIGEST}; tags in place (verified): "1.2.0"; not in place: "latest", "rc"`,
      );
    });
  });

  it('pushes a bare tag as <repoName>:<tag> when no local image has that name', async () => {
    process.env.DEVKIT_DOCKER_LOCAL_IMAGES = 'team/app:2.0.0';
    const result = await plugin.pushImgaeToRepo(action('pushImgaeToRepo', { ...pushParams, imageName: '2.0.0' }), {});
    expect(result).toEqual({ image: `${HOST}/team/app:2.0.0`, digest: FAKE_DIGEST, registry: HOST, tags: ['2.0.0'] });
    const argv = (await docker.calls()).map((c) => c.argv);
    expect(argv).toContainEqual(['tag', IMAGE_ID, `${HOST}/team/app:2.0.0`]);
  });

  it('pulls a tag and reports the digest', async () => {
    const { result } = await captureOutput(() =>
      plugin.pullImage(action('pullImage', { ...pushParams, imageName: '1.2.0' }), {}),
    );
    expect(result).toEqual({ image: `${HOST}/team/app:1.2.0`, digest: FAKE_DIGEST, registry: HOST });
    expect((await docker.calls()).map((c) => c.argv[0])).toEqual(['login', 'pull', 'logout']);
  });

  it('closes its AWS client after the transfer, and after a failed one', async () => {
    const destroy = jest.spyOn(ECRClient.prototype, 'destroy');
    try {
      await captureOutput(() => plugin.pullImage(action('pullImage', { ...pushParams, imageName: '1.2.0' }), {}));
      expect(destroy).toHaveBeenCalledTimes(1);
      process.env.DEVKIT_DOCKER_LOCAL_IMAGES = '';
      const { error } = await captureOutput(() => plugin.pushImgaeToRepo(action('pushImgaeToRepo', pushParams), {}));
      expect(error).toBeInstanceOf(Error);
      expect(destroy).toHaveBeenCalledTimes(2);
    } finally {
      destroy.mockRestore();
    }
  });

  it('reads the digest from the engine\'s record of this repository when the pull prints none', async () => {
    process.env.DEVKIT_DOCKER_SCENARIO = 'quiet-pull';
    const result = await plugin.pullImage(action('pullImage', { ...pushParams, imageName: '1.2.0' }), {});
    expect(result).toEqual({ image: `${HOST}/team/app:1.2.0`, digest: FAKE_DIGEST, registry: HOST });
    expect((await docker.calls()).map((c) => c.argv)).toContainEqual(['image', 'inspect', '--format', '{{json .RepoDigests}}', `${HOST}/team/app:1.2.0`]);
  });

  it('takes no digest the engine recorded for another repository only', async () => {
    process.env.DEVKIT_DOCKER_SCENARIO = 'quiet-pull-elsewhere';
    const { error } = await captureOutput(() => plugin.pullImage(action('pullImage', { ...pushParams, imageName: '1.2.0' }), {}));
    expect((error as Error).message).toBe(`docker reported no digest for ${HOST}/team/app:1.2.0`);
  });

  it('pulls by digest', async () => {
    const digest = `sha256:${'cd'.repeat(32)}`;
    const result = await plugin.pullImage(action('pullImage', { ...pushParams, imageName: `app@${digest}` }), {});
    expect(result).toMatchObject({ image: `${HOST}/team/app@${digest}` });
  });

  it('explains a missing local image, after logging out again', async () => {
    process.env.DEVKIT_DOCKER_LOCAL_IMAGES = '';
    const { error } = await captureOutput(() => plugin.pushImgaeToRepo(action('pushImgaeToRepo', pushParams), {}));
    expect((error as Error).message).toMatch(/Parameter "imageName": no such local image on the agent \(looked for "app:1.2.0"\)/);
    expect((await docker.calls()).map((c) => c.argv[0]).pop()).toBe('logout');
  });

  it('pushes a full reference into this registry straight away, and explains when docker has no such image', async () => {
    const target = `${HOST}/team/app:3.0.0`;
    process.env.DEVKIT_DOCKER_LOCAL_IMAGES = target;
    const result = await plugin.pushImgaeToRepo(action('pushImgaeToRepo', { ...pushParams, imageName: target }), {});
    expect(result).toEqual({ image: target, digest: FAKE_DIGEST, registry: HOST, tags: ['3.0.0'] });
    // Resolved to its image id (one inspect: the image is the target, so it also says what the name named),
    // pushed without a tag of its own, the pushed digest checked against that id.
    const steps = (await docker.calls()).map((c) => c.argv.slice(0, 2).join(' '));
    // (login and logout run beside the engine's steps: only their place around the push is fixed)
    expect(steps.filter((step) => !step.startsWith('log'))).toEqual(['image inspect', 'push ' + target, 'image inspect']);
    expect(steps.indexOf('login --username')).toBeLessThan(steps.indexOf('push ' + target));
    expect(steps.indexOf('logout ' + HOST)).toBeGreaterThan(steps.indexOf('push ' + target));

    process.env.DEVKIT_DOCKER_LOCAL_IMAGES = '';
    const { error } = await captureOutput(() => plugin.pushImgaeToRepo(action('pushImgaeToRepo', { ...pushParams, imageName: target }), {}));
    expect((error as Error).message).toBe(
      `Parameter "imageName": no such local image on the agent (looked for "${target}"); build or pull it first`,
    );
  });

  it('explains a push into a repository the registry does not have, naming repoName and createRepository', async () => {
    process.env.DEVKIT_DOCKER_SCENARIO = 'push-no-repository';
    const { error } = await captureOutput(() => plugin.pushImgaeToRepo(action('pushImgaeToRepo', pushParams), {}));
    expect((error as Error).message).toMatch(
      new RegExp(`^Parameter "repoName": repository "team/app" does not exist in ${HOST.replace(/\./g, '\\.')}: create it, or set "createRepository" \\(.*name unknown`),
    );
    expect((await docker.calls()).filter((c) => c.argv[0] === 'push')).toHaveLength(1); // a refusal: not retried
  });

  it('explains an unknown tag on pull', async () => {
    process.env.DEVKIT_DOCKER_SCENARIO = 'unknown-tag';
    const { error } = await captureOutput(() => plugin.pullImage(action('pullImage', { ...pushParams, imageName: '9.9.9' }), {}));
    expect((error as Error).message).toMatch(new RegExp(`${HOST}/team/app:9.9.9 is not in the registry`));
  });

  it('explains a Docker engine that does not answer', async () => {
    process.env.DEVKIT_DOCKER_SCENARIO = 'daemon-down';
    const { error } = await captureOutput(() => plugin.pushImgaeToRepo(action('pushImgaeToRepo', pushParams), {}));
    expect((error as Error).message).toMatch(/The Docker engine does not answer on its default socket/);
  });

  it('explains a refused login without the password', async () => {
    process.env.DEVKIT_DOCKER_SCENARIO = 'login-denied';
    const { error, output } = await captureOutput(() => plugin.pushImgaeToRepo(action('pushImgaeToRepo', pushParams), {}));
    expect((error as Error).message).toMatch(/docker login failed: .*401 Unauthorized/);
    expect(`${(error as Error).message}${output}`).not.toContain(PASSWORD);
  });

  it('explains a missing docker CLI', async () => {
    process.env.PATH = agentConfigDir; // a directory without docker
    await expect(plugin.pushImgaeToRepo(action('pushImgaeToRepo', pushParams), {})).rejects.toThrow(
      /The docker CLI was not found on the agent/,
    );
  });

  it.each([
    [{ repoName: '' }, /Parameter "repoName": is required/],
    [{ imageName: '   ' }, /Parameter "imageName": is required/],
    [{ repoName: 'Team/App' }, /Parameter "repoName": "Team\/App" is not an ECR repository name/],
    [{ imageName: 'app:1.0; rm -rf /' }, /Parameter "imageName": "app:1.0; rm -rf \/" is not a valid image reference/],
    [{ imageName: '-help' }, /Parameter "imageName": "-help" is neither a tag nor an image name/],
    [{ registryId: '12345' }, /Parameter "registryId": "12345" is not a registry id/],
  ])('rejects %p before calling AWS or docker', async (params, message) => {
    await expect(plugin.pushImgaeToRepo(action('pushImgaeToRepo', { ...pushParams, ...params }), {})).rejects.toThrow(message);
    expect(ecrMock.calls()).toHaveLength(0);
    expect(await docker.calls()).toEqual([]);
  });

  it('refuses a full reference into another repository of the same registry, before docker runs', async () => {
    await expect(
      plugin.pullImage(action('pullImage', { ...pushParams, imageName: `${HOST}/team/other:1.0` }), {}),
    ).rejects.toThrow(/Parameter "imageName": names repository "team\/other" in this registry, but "repoName" is "team\/app"/);
    expect(await docker.calls()).toEqual([]);
  });
});

describe('listRegions', () => {
  it('filters by code or name and needs no credentials', async () => {
    const london = await plugin.listRegions('london');
    expect(london).toEqual([{ id: 'eu-west-2', value: 'eu-west-2 (Europe, London)' }]);
    const eu = await plugin.listRegions('EU-WEST');
    expect(eu.map((r) => r.id)).toEqual(['eu-west-1', 'eu-west-2', 'eu-west-3']);
  });
});
