/**
 * The ECR Public stand-in against the real `@aws-sdk/client-ecr-public` over HTTP: what the plugin
 * relies on answers as ECR Public answers (shapes, errors, paging), private ECR's requests stay
 * private ECR's, and each call records the region it was signed for. No registry is needed.
 */
import {
  CreateRepositoryCommand,
  DescribeRegistriesCommand,
  DescribeRepositoriesCommand,
  ECRPUBLICClient,
  GetAuthorizationTokenCommand,
  PutImageCommand,
  RegistryNotFoundException,
  RepositoryAlreadyExistsException,
  RepositoryNotFoundException,
  paginateDescribeRepositories,
} from '@aws-sdk/client-ecr-public';
import { ECRClient, DescribeRepositoriesCommand as PrivateDescribeRepositories } from '@aws-sdk/client-ecr';
import { startEcrEndpoint, type EcrEndpoint } from '../../devkit/ecr-endpoint';
import { PublicRegistry } from '../../devkit/ecr-public/public-registry';

const KEYS = { accessKeyId: 'AKIALOCALTEST0000001', secretAccessKey: 'local/secret+key=with-symbols' };
const ACCOUNT = '111111111111';

describe('the ECR Public stand-in, through the real SDK', () => {
  let endpoint: EcrEndpoint;
  let registry: PublicRegistry;
  let client: ECRPUBLICClient;

  beforeAll(async () => {
    registry = new PublicRegistry({ registryId: ACCOUNT, alias: 'kit-alias', url: 'http://127.0.0.1:5999', password: 'public-pw', service: 'kit' });
    endpoint = await startEcrEndpoint({ ...KEYS, registries: { [ACCOUNT]: { url: 'http://127.0.0.1:9', password: 'private-pw' } }, publicRegistry: registry });
    client = new ECRPUBLICClient({ region: 'us-east-1', endpoint: endpoint.url, credentials: KEYS });
  });
  afterAll(async () => {
    client.destroy();
    await endpoint.close();
  });

  it('DescribeRegistries names the registry URI (host and alias) and its alias', async () => {
    const { registries } = await client.send(new DescribeRegistriesCommand({}));
    expect(registries).toEqual([
      {
        registryId: ACCOUNT,
        registryArn: `arn:aws:ecr-public::${ACCOUNT}:registry/${ACCOUNT}`,
        registryUri: '127.0.0.1:5999/kit-alias',
        verified: false,
        aliases: [{ name: 'kit-alias', status: 'ACTIVE', primaryRegistryAlias: true, defaultRegistryAlias: true }],
      },
    ]);
  });

  it('GetAuthorizationToken gives one token, with no proxyEndpoint', async () => {
    const { authorizationData } = await client.send(new GetAuthorizationTokenCommand({}));
    expect(Buffer.from(authorizationData?.authorizationToken ?? '', 'base64').toString()).toBe('AWS:public-pw');
    expect(authorizationData?.expiresAt).toBeInstanceOf(Date);
    expect(authorizationData).not.toHaveProperty('proxyEndpoint');
  });

  it('CreateRepository keeps the catalog data and tags; a second one is RepositoryAlreadyExistsException', async () => {
    const created = await client.send(
      new CreateRepositoryCommand({ repositoryName: 'team/app', catalogData: { description: 'd', architectures: ['x86-64'] }, tags: [{ Key: 'k', Value: 'v' }] }),
    );
    expect(created.repository).toMatchObject({ repositoryName: 'team/app', repositoryUri: '127.0.0.1:5999/kit-alias/team/app', registryId: ACCOUNT });
    expect(registry.catalogs.get('team/app')).toEqual({ description: 'd', architectures: ['x86-64'] });
    expect(registry.resourceTags.get(created.repository?.repositoryArn ?? '')).toEqual([{ Key: 'k', Value: 'v' }]);
    await expect(client.send(new CreateRepositoryCommand({ repositoryName: 'team/app' }))).rejects.toBeInstanceOf(RepositoryAlreadyExistsException);
  });

  it('DescribeRepositories pages as ECR does, and refuses another registry', async () => {
    for (let i = 0; i < 7; i++) registry.add(`paged/r${i}`);
    const names: string[] = [];
    for await (const page of paginateDescribeRepositories({ client, pageSize: 3 }, {})) names.push(...(page.repositories ?? []).map((r) => r.repositoryName ?? ''));
    expect(names.filter((n) => n.startsWith('paged/'))).toEqual(['paged/r0', 'paged/r1', 'paged/r2', 'paged/r3', 'paged/r4', 'paged/r5', 'paged/r6']);
    await expect(client.send(new DescribeRepositoriesCommand({ repositoryNames: ['nope/x'] }))).rejects.toBeInstanceOf(RepositoryNotFoundException);
    await expect(client.send(new DescribeRepositoriesCommand({ registryId: '999999999999' }))).rejects.toBeInstanceOf(RegistryNotFoundException);
  });

  it('PutImage into a repository that does not exist is RepositoryNotFoundException', async () => {
    await expect(client.send(new PutImageCommand({ repositoryName: 'nope/x', imageManifest: '{"schemaVersion":2}', imageTag: 'a' }))).rejects.toBeInstanceOf(RepositoryNotFoundException);
  });

  it('records the region each call was signed for, and leaves the requests of private ECR to ECR', async () => {
    const before = endpoint.publicCalls.length;
    const elsewhere = new ECRPUBLICClient({ region: 'eu-west-2', endpoint: endpoint.url, credentials: KEYS });
    await elsewhere.send(new DescribeRegistriesCommand({}));
    elsewhere.destroy();
    expect(endpoint.publicCalls.slice(before).map((c) => [c.operation, c.region])).toEqual([['DescribeRegistries', 'eu-west-2']]);

    // A private ECR client sent here is ECR's: the public API never answers it.
    const privateClient = new ECRClient({ region: 'us-east-1', endpoint: endpoint.url, credentials: KEYS });
    await privateClient.send(new PrivateDescribeRepositories({}));
    privateClient.destroy();
    expect(endpoint.publicCalls.length).toBe(before + 1);
    expect(endpoint.calls.at(-1)?.operation).toBe('DescribeRepositories');
  });
});
