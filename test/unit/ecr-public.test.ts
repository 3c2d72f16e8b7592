/**
 * registryType public, against the ECR Public SDK client mocked: which region its calls go to,
 * what the methods send and how they read the answers, where the registry's host and alias come
 * from, which repository settings a public repository refuses, and when a pull goes without
 * credentials. The real SDK over HTTP, docker and a registry are the e2e tests' part.
 */
import {
  CreateRepositoryCommand,
  DescribeRegistriesCommand,
  DescribeRepositoriesCommand,
  ECRPUBLICClient,
  GetAuthorizationTokenCommand,
  type Registry,
} from '@aws-sdk/client-ecr-public';
import { ECRClient } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as plugin from '../../src/app';
import { choosePublicRegistry } from '../../src/aws/ecr-public-registry';
import { ParamReader } from '../../src/kaholo/param-reader';
import { readRepositorySettings } from '../../src/params/repository-settings';
import { registryOrigin } from '../../src/registry/authorization';
import { captureOutput } from '../support/capture-output';
import { FAKE_DIGEST, installFakeDocker, type FakeDocker } from '../../devkit/docker-stand-in';
import { isolateAwsEnvironment } from '../../devkit/aws-env';

const publicMock = mockClient(ECRPUBLICClient);
const privateMock = mockClient(ECRClient);
const KEYS = { accessKeyId: 'AKIAEXAMPLEKEY000001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const HOST = 'public.ecr.aws';
const ALIAS = 'k7x2q9z1';
const PASSWORD = 'eyJwYXlsb2FkIjoi:public:secret';
const TOKEN = Buffer.from(`AWS:${PASSWORD}`).toString('base64');
const EXPIRES = new Date('2026-12-01T00:00:00Z');
const REGISTRY: Registry = {
  registryId: '123456789012',
  registryArn: 'arn:aws:ecr-public::123456789012:registry/123456789012',
  registryUri: `${HOST}/${ALIAS}`,
  verified: false,
  aliases: [{ name: ALIAS, status: 'ACTIVE', primaryRegistryAlias: true, defaultRegistryAlias: true }],
};

const run = (method: keyof typeof plugin, params: Record<string, unknown>, settings: Record<string, unknown> = {}) =>
  captureOutput(() => (plugin[method] as (a: unknown, s: unknown) => Promise<unknown>)({ method: { name: method }, params: { registryType: 'public', ...params } }, settings));

const noCredentials = (): Error => Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });

let restoreEnv: () => void;
beforeEach(() => {
  publicMock.reset();
  privateMock.reset();
  restoreEnv = isolateAwsEnvironment();
  publicMock.on(DescribeRegistriesCommand).resolves({ registries: [REGISTRY] });
  publicMock.on(GetAuthorizationTokenCommand).resolves({ authorizationData: { authorizationToken: TOKEN, expiresAt: EXPIRES } });
});
afterEach(() => restoreEnv());

describe('the region rule', () => {
  it.each([['eu-west-2'], ['ap-southeast-2'], ['us-gov-west-1'], ['us-east-1'], [undefined]])(
    'with region %p, every call goes to us-east-1, and the log says so once when the region is another',
    async (region) => {
      publicMock.on(DescribeRepositoriesCommand).resolves({ repositories: [] });
      const { error, output } = await run('describeRepositories', { ...KEYS, ...(region !== undefined ? { region } : {}) });
      expect(error).toBeUndefined();
      const client = publicMock.commandCalls(DescribeRepositoriesCommand)[0].thisValue as ECRPUBLICClient;
      await expect(client.config.region()).resolves.toBe('us-east-1');
      const said = output.split('\n').filter((line) => line.includes('in us-east-1 only'));
      expect(said).toEqual(region === undefined || region === 'us-east-1' ? [] : [`ECR Public's API is in us-east-1 only: its calls go there ("region" ${region} does not apply to them)`]);
      expect(privateMock.calls()).toHaveLength(0);
    },
  );

  it('a region from the plugin settings or AWS_REGION is overruled alike', async () => {
    publicMock.on(DescribeRepositoriesCommand).resolves({ repositories: [] });
    const { error, output } = await run('describeRepositories', {}, { ...KEYS, region: 'eu-central-1' });
    expect(error).toBeUndefined();
    expect(output).toContain('"region" eu-central-1 does not apply');
    process.env.AWS_REGION = 'ap-south-1';
    await run('describeRepositories', KEYS);
    for (const call of publicMock.commandCalls(DescribeRepositoriesCommand)) {
      await expect((call.thisValue as ECRPUBLICClient).config.region()).resolves.toBe('us-east-1');
    }
  });
});

describe('getEcrLogin', () => {
  it('returns the public token in the private shape, its proxyEndpoint made from the registry host', async () => {
    const { result, error } = await run('getEcrLogin', { ...KEYS, region: 'eu-west-2' });
    expect(error).toBeUndefined();
    expect(publicMock.commandCalls(GetAuthorizationTokenCommand)[0].args[0].input).toEqual({});
    expect(result).toEqual({
      authorizationData: [
        {
          authorizationToken: TOKEN,
          expiresAt: EXPIRES,
          proxyEndpoint: `https://${HOST}`,
          decodedToken: { host: HOST, user: 'AWS', password: PASSWORD },
          baseDockerLoginCommand: `docker login --username AWS --password "${PASSWORD}" ${HOST}`,
        },
      ],
    });
  });

  it('refuses registryIds, which ECR Public has no use for, before any call', async () => {
    const { error } = await run('getEcrLogin', { ...KEYS, registryIds: '123456789012' });
    expect((error as Error).message).toMatch(/^Parameter "registryIds": ECR Public gives one token for every public registry/);
    expect(publicMock.calls()).toHaveLength(0);
  });

  it('fails clearly on an answer without a token', async () => {
    publicMock.on(GetAuthorizationTokenCommand).resolves({});
    const { error } = await run('getEcrLogin', KEYS);
    expect((error as Error).message).toBe('ECR Public GetAuthorizationToken returned no authorization token');
  });
});

describe('describeRepositories', () => {
  it('lists every public repository across pages, with their URIs', async () => {
    const inputs: unknown[] = [];
    const pages = [
      { repositories: [{ repositoryName: 'a', repositoryUri: `${HOST}/${ALIAS}/a` }], nextToken: 't1' },
      { repositories: [{ repositoryName: 'team/b', repositoryUri: `${HOST}/${ALIAS}/team/b` }] },
    ];
    publicMock.on(DescribeRepositoriesCommand).callsFake((input: object) => {
      inputs.push({ ...input });
      return pages[inputs.length - 1];
    });
    const { result } = await run('describeRepositories', { ...KEYS, registryId: '123456789012' });
    expect(inputs).toEqual([
      { registryId: '123456789012', maxResults: 1000 },
      { registryId: '123456789012', maxResults: 1000, nextToken: 't1' },
    ]);
    expect(result).toEqual({ repositories: pages.flatMap((p) => p.repositories) });
  });

  it('names go in batches of 100', async () => {
    publicMock.on(DescribeRepositoriesCommand).callsFake((input: { repositoryNames: string[] }) => ({
      repositories: input.repositoryNames.map((repositoryName) => ({ repositoryName })),
    }));
    const names = Array.from({ length: 130 }, (_, i) => `repo-${i}`);
    await run('describeRepositories', { ...KEYS, repositoryNames: names });
    expect(publicMock.commandCalls(DescribeRepositoriesCommand).map((c) => c.args[0].input.repositoryNames?.length)).toEqual([100, 30]);
  });
});

describe('the registry host and alias', () => {
  it('come from DescribeRegistries: the host of the registryUri, the primary alias before the default one', () => {
    const registry: Registry = {
      ...REGISTRY,
      aliases: [
        { name: 'default-one', status: 'ACTIVE', primaryRegistryAlias: false, defaultRegistryAlias: true },
        { name: 'chosen', status: 'ACTIVE', primaryRegistryAlias: true, defaultRegistryAlias: false },
      ],
    };
    expect(choosePublicRegistry([registry], undefined)).toEqual({ registryId: '123456789012', host: HOST, alias: 'chosen' });
    const pending = { ...registry, aliases: [registry.aliases![0], { ...registry.aliases![1], status: 'PENDING' as const }] };
    expect(choosePublicRegistry([pending], '123456789012')).toMatchObject({ alias: 'default-one' });
    expect(choosePublicRegistry([{ ...REGISTRY, registryUri: '127.0.0.1:5000/local' }], undefined)).toMatchObject({ host: '127.0.0.1:5000', alias: ALIAS });
  });

  it('refuse what cannot name a registry', () => {
    expect(() => choosePublicRegistry([REGISTRY], '210987654321')).toThrow(/^Parameter "registryId": ECR Public describes no public registry 210987654321/);
    expect(() => choosePublicRegistry([], undefined)).toThrow(/returned no registry/);
    expect(() => choosePublicRegistry([{ ...REGISTRY, aliases: [] }], undefined)).toThrow(/has no active alias/);
    expect(() => choosePublicRegistry([{ ...REGISTRY, registryUri: undefined }], undefined)).toThrow(/without its id or URI/);
  });

  it('a host on the agent itself is reached over plain HTTP, as docker does; any other over HTTPS', () => {
    expect(registryOrigin('public.ecr.aws')).toBe('https://public.ecr.aws');
    expect(registryOrigin('127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(registryOrigin('localhost:5000')).toBe('http://localhost:5000');
    expect(registryOrigin('[::1]:5000')).toBe('http://[::1]:5000');
    expect(registryOrigin('127.example.com')).toBe('https://127.example.com');
  });
});

describe('repository settings for a public repository', () => {
  const read = (params: Record<string, unknown>, type: 'private' | 'public' = 'public') => readRepositorySettings(new ParamReader({ createRepository: true, ...params }, {}), type);
  /** What the Kaholo form sends when nobody touched the settings. */
  const FORM_DEFAULTS = { imageTagMutability: 'MUTABLE', scanOnPush: true, encryptionType: 'AES256', kmsKey: '' };

  it("takes the form's defaults as not set, and scanOnPush either way (ECR Public scans nothing)", () => {
    expect(read(FORM_DEFAULTS)).toEqual({ type: 'public', catalog: { architectures: [], operatingSystems: [] }, tags: [] });
    expect(read({ ...FORM_DEFAULTS, scanOnPush: 'false' })).toEqual({ type: 'public', catalog: { architectures: [], operatingSystems: [] }, tags: [] });
  });

  it.each([
    [{ imageTagMutability: 'IMMUTABLE' }, 'Parameter "imageTagMutability": IMMUTABLE is for private repositories only (a public one\'s tags can always move): with "registryType" public leave it MUTABLE'],
    [{ encryptionType: 'KMS' }, 'Parameter "encryptionType": KMS is for private repositories only (AWS manages a public one\'s keys): with "registryType" public leave it AES256'],
    // kmsKey alone (the form's AES256 left as it is): refused as private-only, not "choose KMS", which would be refused next.
    [{ kmsKey: 'alias/app' }, 'Parameter "kmsKey": is for private repositories only (AWS manages a public one\'s keys): with "registryType" public leave it empty'],
    [{ encryptionType: 'KMS', kmsKey: 'alias/app' }, 'Parameter "encryptionType": KMS is for private repositories only (AWS manages a public one\'s keys): with "registryType" public leave it AES256; the same goes for "kmsKey"'],
    [
      { imageTagMutability: 'IMMUTABLE', encryptionType: 'KMS', kmsKey: 'alias/app' },
      'Parameter "imageTagMutability": IMMUTABLE is for private repositories only (a public one\'s tags can always move): with "registryType" public leave it MUTABLE; the same goes for "encryptionType", "kmsKey"',
    ],
  ])('refuses %p, naming it', (params, message) => {
    expect(() => read({ ...FORM_DEFAULTS, ...params })).toThrow(message);
    // Whether or not the push would create the repository: the mistake shows before it matters.
    expect(() => read({ ...FORM_DEFAULTS, ...params, createRepository: false })).toThrow(message);
  });

  it('reads the catalog data, badges in the Gallery spelling, and the resource tags', () => {
    expect(
      read({
        ...FORM_DEFAULTS,
        catalogDescription: 'The payments API',
        catalogAboutText: '# About\n\nIt serves payments.',
        catalogUsageText: '`docker run ...`',
        catalogArchitectures: 'x86-64\narm 64, ARM  64',
        catalogOperatingSystems: ['linux'],
        repositoryTags: 'team=payments',
      }),
    ).toEqual({
      type: 'public',
      catalog: {
        description: 'The payments API',
        aboutText: '# About\n\nIt serves payments.',
        usageText: '`docker run ...`',
        architectures: ['x86-64', 'ARM 64'],
        operatingSystems: ['Linux'],
      },
      tags: [{ Key: 'team', Value: 'payments' }],
    });
  });

  it('refuses a badge the Gallery does not know, and catalog data for a private repository', () => {
    expect(() => read({ catalogArchitectures: 'amd64' })).toThrow('Parameter "catalogArchitectures": "amd64" is not one the ECR Public Gallery knows; expected "ARM", "ARM 64", "x86", "x86-64"');
    expect(() => read({ catalogOperatingSystems: 'Linux', catalogDescription: 'x' }, 'private')).toThrow(
      'Parameter "catalogDescription": is catalog data, for public repositories only: set "registryType" public, or leave it empty; the same goes for "catalogOperatingSystems"',
    );
  });
});

describe('push and pull', () => {
  let docker: FakeDocker;
  let agentConfigDir: string;

  beforeEach(async () => {
    docker = await installFakeDocker();
    agentConfigDir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-docker-'));
    // A stale login of the agent's own for the public host: the action must never use it.
    await fs.writeFile(path.join(agentConfigDir, 'config.json'), JSON.stringify({ auths: { [HOST]: { auth: Buffer.from('AWS:stale').toString('base64') } }, credHelpers: { [HOST]: 'ecr-login' } }));
    process.env.PATH = `${docker.binDir}${path.delimiter}${process.env.PATH ?? ''}`;
    process.env.DOCKER_CONFIG = agentConfigDir;
    delete process.env.DOCKER_HOST;
    process.env.DEVKIT_DOCKER_LOCAL_IMAGES = 'app:1.2.0';
  });
  afterEach(async () => {
    await docker.remove();
    await fs.rm(agentConfigDir, { recursive: true, force: true });
  });

  const target = `${HOST}/${ALIAS}/team/app`;

  it('pushes to <host>/<alias>/<repoName>, creating a public repository with its catalog data first', async () => {
    publicMock.on(CreateRepositoryCommand).resolves({});
    const { result, error, output } = await run('pushImgaeToRepo', {
      ...KEYS,
      region: 'eu-west-2',
      repoName: 'team/app',
      imageName: 'app:1.2.0',
      createRepository: true,
      imageTagMutability: 'MUTABLE',
      scanOnPush: true,
      encryptionType: 'AES256',
      catalogDescription: 'The app',
      catalogOperatingSystems: 'Linux',
      repositoryTags: 'team=app',
    });
    expect(error).toBeUndefined();
    expect(result).toEqual({ image: `${target}:1.2.0`, digest: FAKE_DIGEST, registry: HOST, tags: ['1.2.0'] });
    expect(publicMock.commandCalls(CreateRepositoryCommand)[0].args[0].input).toEqual({
      repositoryName: 'team/app',
      catalogData: { description: 'The app', operatingSystems: ['Linux'] },
      tags: [{ Key: 'team', Value: 'app' }],
    });
    expect(output).toContain('Created public repository team/app (catalog data: description, Linux; resource tags: 1)');
    const argv = (await docker.calls()).map((c) => c.argv);
    expect(argv).toContainEqual(['login', '--username', 'AWS', '--password-stdin', HOST]);
    expect(argv).toContainEqual(['push', `${target}:1.2.0`]);
    expect(privateMock.calls()).toHaveLength(0);
  });

  it('a repository made without catalog data gets none at all', async () => {
    publicMock.on(CreateRepositoryCommand).resolves({});
    await run('pushImgaeToRepo', { ...KEYS, repoName: 'team/app', imageName: 'app:1.2.0', createRepository: 'true' });
    expect(publicMock.commandCalls(CreateRepositoryCommand)[0].args[0].input).toEqual({ repositoryName: 'team/app' });
  });

  it('pulls a public image named in full with no credentials anywhere: no login, and none of the agent\'s', async () => {
    publicMock.on(GetAuthorizationTokenCommand).rejects(noCredentials());
    publicMock.on(DescribeRegistriesCommand).rejects(noCredentials());
    const { result, error, output } = await run('pullImage', { repoName: 'team/app', imageName: `${target}:1.2.0` });
    expect(error).toBeUndefined();
    expect(result).toEqual({ image: `${target}:1.2.0`, digest: FAKE_DIGEST, registry: HOST });
    const calls = await docker.calls();
    expect(calls.map((c) => c.argv)).toEqual([['pull', `${target}:1.2.0`]]);
    expect(JSON.parse(calls[0].configJson ?? '{}')).toEqual({ auths: { 'kaholo-ecr-private.invalid': {} } });
    expect(output).toContain(`No AWS credentials: pulling ${target} anonymously`);
  });

  it.each([
    ['an account with no public registry', () => publicMock.on(DescribeRegistriesCommand).resolves({ registries: [] }), /returned no registry for these credentials/],
    [
      'credentials without ECR Public permissions',
      () => publicMock.on(GetAuthorizationTokenCommand).rejects(Object.assign(new Error('User is not authorized to perform: ecr-public:GetAuthorizationToken'), { name: 'AccessDeniedException' })),
      /AccessDeniedException: User is not authorized to perform: ecr-public:GetAuthorizationToken/,
    ],
  ])('credentials that cannot log in (%s) never stop the pull of a public image named in full: it goes anonymously', async (_case, arrange, why) => {
    arrange();
    const { result, error, output } = await run('pullImage', { ...KEYS, repoName: 'team/app', imageName: `${target}:1.2.0` });
    expect(error).toBeUndefined();
    expect(result).toEqual({ image: `${target}:1.2.0`, digest: FAKE_DIGEST, registry: HOST });
    const calls = await docker.calls();
    expect(calls.map((c) => c.argv)).toEqual([['pull', `${target}:1.2.0`]]);
    expect(JSON.parse(calls[0].configJson ?? '{}')).toEqual({ auths: { 'kaholo-ecr-private.invalid': {} } });
    const said = output.split('\n').find((line) => line.includes(`pulling ${target} anonymously`)) ?? '';
    expect(said).toContain('No login to ECR Public (ECR Public ');
    expect(said).toMatch(why);
    // A bare tag still needs the login, to know the host and alias: the failure is the action's.
    const bare = await run('pullImage', { ...KEYS, repoName: 'team/app', imageName: '1.2.0' });
    expect((bare.error as Error).message).toMatch(why);
  });

  it('with credentials, logs in to pull from the registry the token is for, and never sends it elsewhere', async () => {
    const mine = await run('pullImage', { ...KEYS, repoName: 'team/app', imageName: `${target}@${FAKE_DIGEST}` });
    expect(mine.error).toBeUndefined();
    expect((await docker.calls()).map((c) => c.argv[0])).toEqual(['login', 'pull', 'logout']);

    const other = await run('pullImage', { ...KEYS, repoName: 'team/app', imageName: `mirror.example.com/${ALIAS}/team/app:1.2.0` });
    expect(other.error).toBeUndefined();
    expect((await docker.calls()).slice(3).map((c) => c.argv)).toEqual([['pull', `mirror.example.com/${ALIAS}/team/app:1.2.0`]]);
    expect(other.output).toContain(`The token is for ${HOST}, not mirror.example.com: pulling anonymously`);
  });

  it('a bare tag is pulled from the registry DescribeRegistries names', async () => {
    const { result } = await run('pullImage', { ...KEYS, repoName: 'team/app', imageName: '1.2.0' });
    expect(result).toEqual({ image: `${target}:1.2.0`, digest: FAKE_DIGEST, registry: HOST });
  });

  it('with no credentials, a bare tag is an error that says how to pull anonymously', async () => {
    publicMock.on(GetAuthorizationTokenCommand).rejects(noCredentials());
    const { error } = await run('pullImage', { repoName: 'team/app', imageName: '1.2.0' });
    expect((error as Error).message).toBe(
      'Parameter "imageName": with no AWS credentials a public image is pulled anonymously, which needs its full reference, such as "public.ecr.aws/<alias>/team/app:1.2.0"; or give credentials',
    );
    expect(await docker.calls()).toEqual([]);
  });

  it('a push with no credentials fails as before, naming the credentials', async () => {
    publicMock.on(GetAuthorizationTokenCommand).rejects(noCredentials());
    const { error } = await run('pushImgaeToRepo', { repoName: 'team/app', imageName: `${target}:1.2.0` });
    expect((error as Error).message).toMatch(/^ECR Public GetAuthorizationToken failed: no AWS credentials found/);
  });

  it('refuses a full reference whose path is not <alias>/<repoName>, before any call', async () => {
    for (const imageName of [`${HOST}/team/app:1`, `${HOST}/a/b/team/app:1`, `${HOST}/${ALIAS}/team/other:1`]) {
      const { error } = await run('pullImage', { ...KEYS, repoName: 'team/app', imageName });
      expect((error as Error).message).toMatch(/^Parameter "imageName": names ".*" on "public.ecr.aws", but a public image is "<host>\/<alias>\/<repoName>" and "repoName" is "team\/app"/);
    }
    expect(publicMock.calls()).toHaveLength(0);
  });
});
