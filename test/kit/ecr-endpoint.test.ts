/**
 * Proves the local ECR endpoint against the real AWS SDK over HTTP: if these pass, the SDK
 * cannot tell the endpoint from ECR for the operations, errors and retries the plugin relies on.
 */
import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeImageScanFindingsCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  type ECRClientConfig,
  ECRServiceException,
  GetAuthorizationTokenCommand,
  ImageAlreadyExistsException,
  ImageNotFoundException,
  ImageTagAlreadyExistsException,
  InvalidParameterException,
  LimitExceededException,
  BatchGetImageCommand,
  ListTagsForResourceCommand,
  PutImageCommand,
  RepositoryAlreadyExistsException,
  RepositoryNotFoundException,
  ScanNotFoundException,
  ServerException,
  StartImageScanCommand,
  paginateDescribeImageScanFindings,
  paginateDescribeRepositories,
} from '@aws-sdk/client-ecr';
import { once } from 'node:events';
import { connect } from 'node:net';
import { type EcrEndpoint, type ScanFindingSpec, startEcrEndpoint } from '../../devkit/ecr-endpoint';
import { describeWithDocker } from '../support/e2e-environment';

const ACCESS_KEY_ID = 'AKIALOCALTEST0000001';
const SECRET_ACCESS_KEY = 'local/secret+key=with-symbols';
const DEFAULT_ID = '111111111111';
const OTHER_ID = '222222222222';
const THIRD_ID = '333333333333';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type RetryStrategyV2 = Extract<NonNullable<ECRClientConfig['retryStrategy']>, { acquireInitialRetryToken: unknown }>;

/**
 * Retries whatever the SDK itself classifies as retryable, without the SDK's multi-second
 * backoff, so retry tests stay fast while still depending on the SDK's error classification.
 */
function immediateRetries(maxAttempts: number): RetryStrategyV2 {
  const token = (retryCount: number) => ({ getRetryCount: () => retryCount, getRetryDelay: () => 0 });
  return {
    acquireInitialRetryToken: () => Promise.resolve(token(0)),
    refreshRetryTokenForRetry: (previous, { errorType }) =>
      errorType === 'CLIENT_ERROR' || previous.getRetryCount() + 1 >= maxAttempts
        ? Promise.reject(new Error('not retrying'))
        : Promise.resolve(token(previous.getRetryCount() + 1)),
    recordSuccess: () => undefined,
  };
}

/** Resolves to the service error a call failed with; fails the test if the call succeeded. */
async function rejection(promise: Promise<unknown>): Promise<ECRServiceException> {
  const outcome: unknown = await promise.then(
    () => new Error('expected the call to fail, but it succeeded'),
    (error: unknown) => error,
  );
  if (outcome instanceof ECRServiceException) return outcome;
  throw outcome;
}

const decodeToken = (token: string | undefined): string => Buffer.from(token ?? '', 'base64').toString('utf8');

let endpoint: EcrEndpoint;
let clients: ECRClient[] = [];

function client(overrides: Partial<ECRClientConfig> = {}): ECRClient {
  const created = new ECRClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
    ...overrides,
  });
  clients.push(created);
  return created;
}

beforeEach(async () => {
  endpoint = await startEcrEndpoint({
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    registries: {
      [DEFAULT_ID]: { url: 'http://127.0.0.1:5001', password: 'default-password' },
      [OTHER_ID]: { url: 'http://127.0.0.1:5002', password: 'other-password' },
      [THIRD_ID]: { url: 'https://registry.local:5443', password: 'third-password' },
    },
  });
});

afterEach(async () => {
  clients.forEach((c) => c.destroy());
  clients = [];
  await endpoint.close();
});

describe('lifecycle', () => {
  it('listens on a free 127.0.0.1 port and takes the first registry as default', () => {
    expect(endpoint.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoint.defaultRegistryId).toBe(DEFAULT_ID);
  });

  it('does not keep the process alive (the listening handle is unref’d)', async () => {
    const servers = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
    const before = servers();
    const extra = await startEcrEndpoint({
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: SECRET_ACCESS_KEY,
      registries: { [DEFAULT_ID]: { url: 'http://127.0.0.1:5001', password: 'p' } },
    });
    expect(servers()).toBe(before);
    await extra.close();
  });

  it('closes promptly despite open connections, is idempotent, and then refuses connections', async () => {
    await client().send(new DescribeRepositoriesCommand({})); // leaves an idle keep-alive socket
    // A request under way keeps its connection busy, which a plain server.close() would wait for:
    // one the endpoint holds (the hang fault: read, never answered), known held once it is counted.
    endpoint.setFault({ mode: 'hang' });
    const busy = connect(Number(new URL(endpoint.url).port), '127.0.0.1');
    busy.on('error', () => undefined); // a reset on close would do too
    await once(busy, 'connect');
    busy.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}');
    for (const deadline = Date.now() + 5000; endpoint.faulted.length === 0; ) {
      if (Date.now() > deadline) throw new Error('the endpoint did not take the request within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const dropped = new Promise((resolve) => busy.once('close', resolve));

    const started = Date.now();
    await endpoint.close();
    await endpoint.close();
    await dropped;
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(fetch(endpoint.url, { method: 'POST' })).rejects.toThrow();
  });
});

describe('repositories', () => {
  it('creates repositories shaped like ECR’s and rejects duplicates and invalid names', async () => {
    const ecr = client();
    const before = Date.now();
    const { repository } = await ecr.send(new CreateRepositoryCommand({ repositoryName: 'team/app-1' }));
    expect(repository).toEqual({
      repositoryArn: `arn:aws:ecr:us-east-1:${DEFAULT_ID}:repository/team/app-1`,
      registryId: DEFAULT_ID,
      repositoryName: 'team/app-1',
      repositoryUri: '127.0.0.1:5001/team/app-1',
      createdAt: expect.any(Date) as Date,
      imageTagMutability: 'MUTABLE',
      imageScanningConfiguration: { scanOnPush: false },
      encryptionConfiguration: { encryptionType: 'AES256' },
    });
    // The SDK turned ECR's epoch seconds into a Date, so the wire format was right.
    expect(repository?.createdAt?.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(repository?.createdAt?.getTime()).toBeLessThanOrEqual(Date.now() + 1000);

    const duplicate = await rejection(ecr.send(new CreateRepositoryCommand({ repositoryName: 'team/app-1' })));
    expect(duplicate).toBeInstanceOf(RepositoryAlreadyExistsException);
    expect(duplicate.message).toBe(
      `The repository with name 'team/app-1' already exists in the registry with id '${DEFAULT_ID}'`,
    );

    for (const repositoryName of ['a', 'Upper', 'bad//name', 'trailing-', '-leading', 'x'.repeat(257)]) {
      const invalid = await rejection(ecr.send(new CreateRepositoryCommand({ repositoryName })));
      expect(invalid).toBeInstanceOf(InvalidParameterException);
    }
  });

  it('honours registryId, settings and the configured region in ARNs', async () => {
    const regional = await startEcrEndpoint({
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: SECRET_ACCESS_KEY,
      region: 'eu-central-1',
      registries: {
        [DEFAULT_ID]: { url: 'http://127.0.0.1:5001', password: 'p' },
        [OTHER_ID]: { url: 'http://127.0.0.1:5002', password: 'q' },
      },
    });
    try {
      const { repository } = await client({ endpoint: regional.url }).send(
        new CreateRepositoryCommand({
          repositoryName: 'svc.api_v2',
          registryId: OTHER_ID,
          imageTagMutability: 'IMMUTABLE',
          imageScanningConfiguration: { scanOnPush: true },
        }),
      );
      expect(repository).toMatchObject({
        repositoryArn: `arn:aws:ecr:eu-central-1:${OTHER_ID}:repository/svc.api_v2`,
        registryId: OTHER_ID,
        repositoryUri: '127.0.0.1:5002/svc.api_v2',
        imageTagMutability: 'IMMUTABLE',
        imageScanningConfiguration: { scanOnPush: true },
      });
    } finally {
      await regional.close();
    }
  });

  it('paginates 250 repositories in name order with ECR’s default and maximum page sizes', async () => {
    const names = Array.from({ length: 250 }, (_, i) => `repo-${String(i).padStart(3, '0')}`);
    endpoint.createRepositories([...names].reverse()); // seeded out of order on purpose
    const ecr = client();

    const first = await ecr.send(new DescribeRepositoriesCommand({}));
    expect(first.repositories?.map((r) => r.repositoryName)).toEqual(names.slice(0, 100));
    expect(first.nextToken).toEqual(expect.any(String));
    const second = await ecr.send(new DescribeRepositoriesCommand({ nextToken: first.nextToken }));
    expect(second.repositories?.map((r) => r.repositoryName)).toEqual(names.slice(100, 200));
    const third = await ecr.send(new DescribeRepositoriesCommand({ nextToken: second.nextToken }));
    expect(third.repositories?.map((r) => r.repositoryName)).toEqual(names.slice(200));
    expect(third.nextToken).toBeUndefined();

    const all = await ecr.send(new DescribeRepositoriesCommand({ maxResults: 1000 }));
    expect(all.repositories).toHaveLength(250);
    expect(all.nextToken).toBeUndefined();

    const paged: string[] = [];
    let pages = 0;
    for await (const page of paginateDescribeRepositories({ client: ecr, pageSize: 7 }, {})) {
      pages += 1;
      paged.push(...(page.repositories ?? []).map((r) => r.repositoryName ?? ''));
    }
    expect(paged).toEqual(names);
    expect(pages).toBe(Math.ceil(250 / 7));

    const defaultPaged: string[] = [];
    for await (const page of paginateDescribeRepositories({ client: ecr }, {})) {
      defaultPaged.push(...(page.repositories ?? []).map((r) => r.repositoryName ?? ''));
    }
    expect(defaultPaged).toEqual(names);
  });

  it('keeps pages stable when repositories are deleted between calls', async () => {
    endpoint.createRepositories(['aa', 'bb', 'cc', 'dd']);
    const ecr = client();
    const first = await ecr.send(new DescribeRepositoriesCommand({ maxResults: 2 }));
    await ecr.send(new DeleteRepositoryCommand({ repositoryName: 'aa' }));
    const second = await ecr.send(new DescribeRepositoriesCommand({ maxResults: 2, nextToken: first.nextToken }));
    expect(second.repositories?.map((r) => r.repositoryName)).toEqual(['cc', 'dd']);
    expect(second.nextToken).toBeUndefined();
  });

  it('filters by repositoryNames and rejects them combined with maxResults or nextToken', async () => {
    endpoint.createRepositories(['alpha', 'beta', 'gamma']);
    const ecr = client();
    const { repositories } = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['gamma', 'alpha'] }));
    expect(repositories?.map((r) => r.repositoryName)).toEqual(['gamma', 'alpha']);

    const withMax = await rejection(
      ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['alpha'], maxResults: 5 })),
    );
    expect(withMax).toBeInstanceOf(InvalidParameterException);
    const page = await ecr.send(new DescribeRepositoriesCommand({ maxResults: 1 }));
    const withToken = await rejection(
      ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['alpha'], nextToken: page.nextToken })),
    );
    expect(withToken).toBeInstanceOf(InvalidParameterException);
  });

  it('surfaces RepositoryNotFoundException with ECR’s message, status and request id', async () => {
    endpoint.createRepositories(['alpha']);
    const ecr = client();
    const error = await rejection(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['alpha', 'missing'] })));
    expect(error).toBeInstanceOf(RepositoryNotFoundException);
    expect(error.name).toBe('RepositoryNotFoundException');
    expect(error.message).toBe(
      `The repository with name 'missing' does not exist in the registry with id '${DEFAULT_ID}'`,
    );
    expect(error.$fault).toBe('client');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.$metadata.requestId).toMatch(UUID);

    const again = await rejection(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['missing'] })));
    expect(again.$metadata.requestId).not.toBe(error.$metadata.requestId);
  });

  it('validates maxResults, nextToken and registryId like ECR', async () => {
    endpoint.createRepositories(['alpha', 'beta']);
    endpoint.createRepositories(['gamma', 'delta'], OTHER_ID);
    const ecr = client();
    for (const maxResults of [0, 1001, -5]) {
      const error = await rejection(ecr.send(new DescribeRepositoriesCommand({ maxResults })));
      expect(error).toBeInstanceOf(InvalidParameterException);
      expect(error.message).toContain('maxResults');
    }
    const garbage = await rejection(ecr.send(new DescribeRepositoriesCommand({ nextToken: 'not-a-token' })));
    expect(garbage).toBeInstanceOf(InvalidParameterException);

    // A token is only valid for the registry that issued it.
    const other = await ecr.send(new DescribeRepositoriesCommand({ registryId: OTHER_ID, maxResults: 1 }));
    expect(other.repositories?.map((r) => r.repositoryName)).toEqual(['delta']);
    const crossed = await rejection(ecr.send(new DescribeRepositoriesCommand({ nextToken: other.nextToken })));
    expect(crossed).toBeInstanceOf(InvalidParameterException);

    const malformed = await rejection(ecr.send(new DescribeRepositoriesCommand({ registryId: '12345' })));
    expect(malformed).toBeInstanceOf(InvalidParameterException);
    const unknown = await ecr.send(new DescribeRepositoriesCommand({ registryId: '999999999999' }));
    expect(unknown.repositories).toEqual([]);
  });

  it('deletes repositories and reports missing ones', async () => {
    endpoint.createRepositories(['alpha']);
    const ecr = client();
    const { repository } = await ecr.send(new DeleteRepositoryCommand({ repositoryName: 'alpha', force: true }));
    expect(repository?.repositoryName).toBe('alpha');
    const described = await rejection(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['alpha'] })));
    expect(described).toBeInstanceOf(RepositoryNotFoundException);
    const deleted = await rejection(ecr.send(new DeleteRepositoryCommand({ repositoryName: 'alpha' })));
    expect(deleted).toBeInstanceOf(RepositoryNotFoundException);
  });

  it('pages through 10,000 repositories quickly', async () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `bulk/repo-${String(i).padStart(5, '0')}`);
    endpoint.createRepositories(names);
    const started = Date.now();
    const seen: string[] = [];
    for await (const page of paginateDescribeRepositories({ client: client(), pageSize: 1000 }, {})) {
      seen.push(...(page.repositories ?? []).map((r) => r.repositoryName ?? ''));
    }
    expect(seen).toEqual(names);
    // Generous bound: catches an O(n^2) regression without being timing-sensitive.
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('authentication', () => {
  it('records the access key, signing region and session token of every call', async () => {
    await client({ region: 'eu-west-1' }).send(new DescribeRepositoriesCommand({}));
    await client({
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken: 'session-token-1' },
    }).send(new GetAuthorizationTokenCommand({}));
    expect(endpoint.calls).toEqual([
      { operation: 'DescribeRepositories', accessKeyId: ACCESS_KEY_ID, region: 'eu-west-1' },
      { operation: 'GetAuthorizationToken', accessKeyId: ACCESS_KEY_ID, region: 'us-east-1', sessionToken: 'session-token-1' },
    ]);
  });

  it('rejects an unknown access key with UnrecognizedClientException', async () => {
    const error = await rejection(
      client({ credentials: { accessKeyId: 'AKIAWRONG', secretAccessKey: SECRET_ACCESS_KEY }, maxAttempts: 1 }).send(
        new DescribeRepositoriesCommand({}),
      ),
    );
    expect(error.name).toBe('UnrecognizedClientException');
    expect(error.message).toBe('The security token included in the request is invalid.');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(endpoint.calls).toEqual([{ operation: 'DescribeRepositories', accessKeyId: 'AKIAWRONG', region: 'us-east-1' }]);
  });

  it('rejects a wrong secret key with InvalidSignatureException', async () => {
    const error = await rejection(
      client({ credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: 'wrong-secret' }, maxAttempts: 1 }).send(
        new DescribeRepositoriesCommand({}),
      ),
    );
    expect(error.name).toBe('InvalidSignatureException');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.$metadata.requestId).toMatch(UUID);
  });

  it('rejects a body altered after signing', async () => {
    const ecr = client({ maxAttempts: 1 });
    // The deserialize step runs after signing, so this edits the body on its way to the wire.
    ecr.middlewareStack.add(
      (next) => (args) => {
        const request = args.request as { body: string };
        request.body = request.body.replace('aaaa', 'bbbb'); // same length keeps Content-Length valid
        return next(args);
      },
      { step: 'deserialize', name: 'tamperAfterSigning' },
    );
    const error = await rejection(ecr.send(new CreateRepositoryCommand({ repositoryName: 'aaaa' })));
    expect(error.name).toBe('InvalidSignatureException');
    const { repositories } = await client().send(new DescribeRepositoriesCommand({}));
    expect(repositories).toEqual([]);
  });

  it('answers an unsigned request with UnrecognizedClientException in ECR’s error shape', async () => {
    const response = await fetch(endpoint.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories',
      },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(response.headers.get('x-amzn-errortype')).toBe('UnrecognizedClientException');
    expect(response.headers.get('x-amzn-requestid')).toMatch(UUID);
    expect(await response.json()).toEqual({
      __type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
    expect(endpoint.calls).toEqual([]);
  });

  it('answers an unknown operation with UnknownOperationException', async () => {
    const ecr = client({ maxAttempts: 1 });
    // Rewritten before signing (build step), so only the operation is wrong, not the signature.
    ecr.middlewareStack.add(
      (next) => (args) => {
        const request = args.request as { headers: Record<string, string> };
        request.headers['x-amz-target'] = 'AmazonEC2ContainerRegistry_V20150921.NoSuchOperation';
        return next(args);
      },
      { step: 'build', name: 'unknownTarget' },
    );
    const error = await rejection(ecr.send(new DescribeRepositoriesCommand({})));
    expect(error.name).toBe('UnknownOperationException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(endpoint.calls.map((c) => c.operation)).toEqual(['NoSuchOperation']);
  });
});

describe('GetAuthorizationToken', () => {
  it('hands out a 12-hour token for the default registry', async () => {
    const { authorizationData } = await client().send(new GetAuthorizationTokenCommand({}));
    expect(authorizationData).toHaveLength(1);
    const [data] = authorizationData ?? [];
    expect(decodeToken(data.authorizationToken)).toBe('AWS:default-password');
    expect(data.proxyEndpoint).toBe('http://127.0.0.1:5001');
    const hoursAhead = ((data.expiresAt?.getTime() ?? 0) - Date.now()) / 3_600_000;
    expect(hoursAhead).toBeGreaterThan(11.9);
    expect(hoursAhead).toBeLessThanOrEqual(12);
  });

  it('hands out one token per requested registry, in order, and follows password changes', async () => {
    endpoint.setPassword(THIRD_ID, 'rotated-password');
    const { authorizationData } = await client().send(
      new GetAuthorizationTokenCommand({ registryIds: [THIRD_ID, OTHER_ID, DEFAULT_ID] }),
    );
    expect(authorizationData?.map((d) => [decodeToken(d.authorizationToken), d.proxyEndpoint])).toEqual([
      ['AWS:rotated-password', 'https://registry.local:5443'],
      ['AWS:other-password', 'http://127.0.0.1:5002'],
      ['AWS:default-password', 'http://127.0.0.1:5001'],
    ]);
  });

  it('rejects unknown and malformed registry ids', async () => {
    const ecr = client();
    const unknown = await rejection(ecr.send(new GetAuthorizationTokenCommand({ registryIds: ['999999999999'] })));
    expect(unknown).toBeInstanceOf(InvalidParameterException);
    const malformed = await rejection(ecr.send(new GetAuthorizationTokenCommand({ registryIds: ['not-an-id'] })));
    expect(malformed).toBeInstanceOf(InvalidParameterException);
  });
});

describe('failure injection and SDK retries', () => {
  it('lets the SDK absorb throttling within maxAttempts', async () => {
    endpoint.failNext(2, 'throttling');
    const output = await client({ retryStrategy: immediateRetries(3) }).send(new DescribeRepositoriesCommand({}));
    expect(output.repositories).toEqual([]);
    expect(output.$metadata.attempts).toBe(3);
    expect(endpoint.calls).toHaveLength(3);
  });

  it('surfaces ThrottlingException once retries are exhausted', async () => {
    endpoint.failNext(5, 'throttling');
    const error = await rejection(
      client({ retryStrategy: immediateRetries(3) }).send(new DescribeRepositoriesCommand({})),
    );
    expect(error.name).toBe('ThrottlingException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.$metadata.attempts).toBe(3);
    expect(endpoint.calls).toHaveLength(3);
  });

  it('does not make the SDK retry client errors', async () => {
    const error = await rejection(
      client({ retryStrategy: immediateRetries(3) }).send(new DescribeRepositoriesCommand({ repositoryNames: ['nope'] })),
    );
    expect(error).toBeInstanceOf(RepositoryNotFoundException);
    expect(error.$metadata.attempts).toBe(1);
  });

  it('returns ServerException as a 500 that the stock SDK retry strategy retries', async () => {
    endpoint.failNext(1, 'server-error');
    const output = await client().send(new DescribeRepositoriesCommand({}));
    expect(output.$metadata.attempts).toBe(2);

    endpoint.failNext(1, 'server-error');
    const error = await rejection(client({ maxAttempts: 1 }).send(new DescribeRepositoriesCommand({})));
    expect(error).toBeInstanceOf(ServerException);
    expect(error.$fault).toBe('server');
    expect(error.$metadata.httpStatusCode).toBe(500);
  });
});

describe('repository settings and images', () => {
  it('keeps CreateRepository\'s tags apart from the repository, for ListTagsForResource', async () => {
    const tags = [{ Key: 'team', Value: 'payments' }];
    const { repository } = await client().send(new CreateRepositoryCommand({ repositoryName: 'tagged/app', imageTagMutability: 'IMMUTABLE', tags }));
    expect(repository).toMatchObject({ imageTagMutability: 'IMMUTABLE' });
    expect(repository).not.toHaveProperty('tags');
    expect((await client().send(new ListTagsForResourceCommand({ resourceArn: repository?.repositoryArn }))).tags).toEqual(tags);
    endpoint.createRepositories(['seeded/app']);
    const seeded = (await client().send(new DescribeRepositoriesCommand({ repositoryNames: ['seeded/app'] }))).repositories?.[0];
    expect((await client().send(new ListTagsForResourceCommand({ resourceArn: seeded?.repositoryArn }))).tags).toEqual([]);
  });

  it('refuses images of a repository it does not have, before asking the registry', async () => {
    const get = await rejection(client().send(new BatchGetImageCommand({ repositoryName: 'nope/app', imageIds: [{ imageTag: 'x' }] })));
    expect(get).toBeInstanceOf(RepositoryNotFoundException);
    const put = await rejection(client().send(new PutImageCommand({ repositoryName: 'nope/app', imageManifest: '{}', imageTag: 'x' })));
    expect(put).toBeInstanceOf(RepositoryNotFoundException);
  });

  it('gate: holds the calls of one operation until all have arrived, then answers them in order', async () => {
    endpoint.gate('CreateRepository', 2, 10_000);
    const answered: string[] = [];
    const first = client().send(new CreateRepositoryCommand({ repositoryName: 'gated/app' })).then(() => answered.push('first'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(answered).toEqual([]); // held: the second has not arrived
    const second = rejection(client().send(new CreateRepositoryCommand({ repositoryName: 'gated/app' })));
    await first;
    expect((await second).name).toBe('RepositoryAlreadyExistsException');
    expect(answered).toEqual(['first']);
  });
});

describe('image scans', () => {
  const DIGEST = `sha256:${'a'.repeat(64)}`;
  const OTHER_DIGEST = `sha256:${'b'.repeat(64)}`;
  const findings = (count: number, severity = 'HIGH'): ScanFindingSpec[] =>
    Array.from({ length: count }, (_, i) => ({ name: `CVE-2024-${String(i).padStart(4, '0')}`, severity, package: 'openssl', version: '3.0.1', uri: `https://cve.example/${i}` }));
  const read = (imageId: { imageTag?: string; imageDigest?: string }, extra: { maxResults?: number; nextToken?: string } = {}) =>
    client().send(new DescribeImageScanFindingsCommand({ repositoryName: 'scan/app', imageId, ...extra }));

  beforeEach(() => endpoint.createRepositories(['scan/app']));

  it('answers a basic scan in ECR’s shape, every page of it, with the SDK’s paginator', async () => {
    endpoint.scans.set({ repositoryName: 'scan/app', digest: DIGEST, tags: ['1.0'], scan: [{ status: 'COMPLETE', findings: [...findings(240), ...findings(10, 'LOW')] }] });
    const first = await read({ imageTag: '1.0' });
    expect(first.imageId).toEqual({ imageDigest: DIGEST, imageTag: '1.0' });
    expect(first.imageScanStatus).toEqual({ status: 'COMPLETE', description: 'The scan was completed successfully.' });
    expect(first.imageScanFindings?.findings).toHaveLength(100); // ECR's default page
    expect(first.imageScanFindings?.enhancedFindings).toBeUndefined();
    expect(first.imageScanFindings?.findingSeverityCounts).toEqual({ HIGH: 240, LOW: 10 });
    expect(first.imageScanFindings?.imageScanCompletedAt).toBeInstanceOf(Date);
    expect(first.imageScanFindings?.findings?.[0]).toEqual({
      name: 'CVE-2024-0000',
      description: 'CVE-2024-0000 in openssl.',
      uri: 'https://cve.example/0',
      severity: 'HIGH',
      attributes: [{ key: 'package_version', value: '3.0.1' }, { key: 'package_name', value: 'openssl' }],
    });
    const pages = [];
    for await (const page of paginateDescribeImageScanFindings({ client: client(), pageSize: 1000 }, { repositoryName: 'scan/app', imageId: { imageDigest: DIGEST } })) pages.push(page);
    expect(pages).toHaveLength(1);
    const small = [];
    for await (const page of paginateDescribeImageScanFindings({ client: client(), pageSize: 30 }, { repositoryName: 'scan/app', imageId: { imageDigest: DIGEST } })) small.push(page);
    expect(small.map((p) => p.imageScanFindings?.findings?.length)).toEqual([30, 30, 30, 30, 30, 30, 30, 30, 10]);
    expect(small.flatMap((p) => p.imageScanFindings?.findings ?? []).map((f) => f.name)).toEqual([...findings(240), ...findings(10)].map((f) => f.name));
  });

  it('answers an enhanced scan with enhancedFindings, as Amazon Inspector’s findings', async () => {
    endpoint.scans.set({
      repositoryName: 'scan/app',
      digest: DIGEST,
      tags: ['1.0'],
      scan: [{ status: 'ACTIVE', scanType: 'ENHANCED', findings: [{ name: 'CVE-2022-49043', severity: 'HIGH', package: 'libxml2', version: '2.9.14', fixedIn: '2.9.14-u2', uri: 'https://cve.example/x', score: 8.1 }] }],
    });
    const answer = await read({ imageDigest: DIGEST });
    expect(answer.imageScanStatus).toEqual({ status: 'ACTIVE', description: 'Continuous scan is selected for image.' });
    expect(answer.imageScanFindings?.findings).toBeUndefined();
    const [finding] = answer.imageScanFindings?.enhancedFindings ?? [];
    expect(finding).toMatchObject({
      title: 'CVE-2022-49043 - libxml2',
      severity: 'HIGH',
      score: 8.1,
      type: 'PACKAGE_VULNERABILITY',
      fixAvailable: 'YES',
      packageVulnerabilityDetails: { vulnerabilityId: 'CVE-2022-49043', sourceUrl: 'https://cve.example/x', vulnerablePackages: [{ name: 'libxml2', version: '2.9.14', fixedInVersion: '2.9.14-u2' }] },
    });
    expect(finding.findingArn).toMatch(/^arn:aws:inspector2:us-east-1:111111111111:finding\/[0-9a-f]{32}$/);
    expect(finding.firstObservedAt).toBeInstanceOf(Date);
    expect(answer.imageScanFindings?.findingSeverityCounts).toEqual({ HIGH: 1 });
  });

  it('answers each read with the next answer, the last one staying; pages of one read come from its answer', async () => {
    endpoint.scans.set({
      repositoryName: 'scan/app',
      digest: DIGEST,
      scan: [
        { status: 'PENDING' },
        { status: 'ACTIVE', scanType: 'ENHANCED' },
        { status: 'ACTIVE', scanType: 'ENHANCED', findings: findings(3) },
        { status: 'ACTIVE', scanType: 'ENHANCED', findings: findings(5) },
      ],
    });
    const id = { imageDigest: DIGEST };
    const pending = await read(id);
    expect(pending.imageScanStatus?.status).toBe('PENDING');
    expect(pending.imageScanFindings).toBeUndefined();
    // An enhanced scan whose findings are not there yet: no counts, no completion time.
    const early = await read(id);
    expect(early.imageScanStatus?.status).toBe('ACTIVE');
    expect(early.imageScanFindings).toEqual({ findings: [] });
    const firstPage = await read(id, { maxResults: 2 });
    expect(firstPage.imageScanFindings?.enhancedFindings).toHaveLength(2);
    const next = await read(id, { maxResults: 2 });
    expect(next.imageScanFindings?.findingSeverityCounts).toEqual({ HIGH: 5 });
    // The first read's next page still comes from its answer (3 findings), not from the newer one.
    const rest = await read(id, { maxResults: 2, nextToken: firstPage.nextToken });
    expect(rest.imageScanFindings?.enhancedFindings).toHaveLength(1);
    expect(rest.nextToken).toBeUndefined();
    const last = await read(id);
    expect(last.imageScanFindings?.findingSeverityCounts).toEqual({ HIGH: 5 }); // the last answer stays
    expect(endpoint.scans.readTimes('scan/app', DIGEST)).toHaveLength(5); // a next page is not a read
  });

  it.each(['FAILED', 'UNSUPPORTED_IMAGE', 'SCAN_ELIGIBILITY_EXPIRED', 'FINDINGS_UNAVAILABLE', 'IN_PROGRESS'])('answers %s with its status alone', async (status) => {
    endpoint.scans.set({ repositoryName: 'scan/app', digest: DIGEST, scan: [{ status, description: `about ${status}` }] });
    const answer = await read({ imageDigest: DIGEST });
    expect(answer.imageScanStatus).toEqual({ status, description: `about ${status}` });
    expect(answer.imageScanFindings).toBeUndefined();
  });

  it('refuses what ECR refuses: no scan, no such image or repository, a tag of another digest, a bad page size', async () => {
    endpoint.scans.set({ repositoryName: 'scan/app', digest: DIGEST, tags: ['1.0'], scan: [] });
    endpoint.scans.set({ repositoryName: 'scan/app', digest: OTHER_DIGEST, tags: ['2.0'], scan: [{ status: 'COMPLETE', findings: [] }] });
    expect(await rejection(read({ imageTag: '1.0' }))).toBeInstanceOf(ScanNotFoundException);
    expect(await rejection(read({ imageTag: 'nope' }))).toBeInstanceOf(ImageNotFoundException);
    expect(await rejection(read({ imageTag: '2.0', imageDigest: DIGEST }))).toBeInstanceOf(ImageNotFoundException);
    expect(await rejection(read({}))).toBeInstanceOf(InvalidParameterException);
    expect(await rejection(read({ imageTag: '2.0' }, { maxResults: 1001 }))).toBeInstanceOf(InvalidParameterException);
    expect(await rejection(read({ imageTag: '2.0' }, { nextToken: 'bogus' }))).toBeInstanceOf(InvalidParameterException);
    const missing = await rejection(client().send(new DescribeImageScanFindingsCommand({ repositoryName: 'no/repo', imageId: { imageTag: '1.0' } })));
    expect(missing).toBeInstanceOf(RepositoryNotFoundException);
    // A tag moved to another image names that one from then on.
    endpoint.scans.set({ repositoryName: 'scan/app', digest: OTHER_DIGEST, tags: ['1.0'], scan: [{ status: 'COMPLETE', findings: [] }] });
    expect((await read({ imageTag: '1.0' })).imageId?.imageDigest).toBe(OTHER_DIGEST);
  });

  it('StartImageScan starts a basic scan of an image that has none, once', async () => {
    endpoint.scans.set({ repositoryName: 'scan/app', digest: DIGEST, tags: ['1.0'], scan: [] });
    const started = await client().send(new StartImageScanCommand({ repositoryName: 'scan/app', imageId: { imageTag: '1.0' } }));
    expect(started).toMatchObject({ repositoryName: 'scan/app', registryId: DEFAULT_ID, imageId: { imageDigest: DIGEST, imageTag: '1.0' }, imageScanStatus: { status: 'IN_PROGRESS' } });
    expect(endpoint.scans.starts('scan/app', DIGEST)).toBe(1);
    expect((await read({ imageDigest: DIGEST })).imageScanStatus?.status).toBe('IN_PROGRESS');
    const done = await read({ imageDigest: DIGEST });
    expect(done.imageScanStatus?.status).toBe('COMPLETE');
    expect(done.imageScanFindings).toMatchObject({ findings: [], findingSeverityCounts: {} });
    const again = await rejection(client().send(new StartImageScanCommand({ repositoryName: 'scan/app', imageId: { imageDigest: DIGEST } })));
    expect(again).toBeInstanceOf(LimitExceededException);
    expect(await rejection(client().send(new StartImageScanCommand({ repositoryName: 'scan/app', imageId: { imageTag: 'nope' } })))).toBeInstanceOf(ImageNotFoundException);
  });
});

describeWithDocker('PutImage as ECR-compatible endpoints answer it, and a held call (real registry behind)', (e2e) => {
  let backed: EcrEndpoint;
  let sdk: ECRClient;
  const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';
  /** An image index of no platforms: needs no layers in the registry; `note` makes each its own digest. */
  const index = (note: string): string => JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPE, manifests: [], annotations: { note } });
  const put = (repositoryName: string, imageTag: string, note: string) =>
    sdk.send(new PutImageCommand({ repositoryName, imageTag, imageManifest: index(note), imageManifestMediaType: INDEX_TYPE }));
  const digestOf = async (repositoryName: string, imageTag: string): Promise<string | undefined> =>
    (await sdk.send(new BatchGetImageCommand({ repositoryName, imageIds: [{ imageTag }] }))).images?.[0]?.imageId?.imageDigest;

  beforeAll(async () => {
    const registry = await e2e().startRegistry({ password: 'kit-password' });
    backed = await startEcrEndpoint({ accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, registries: { [DEFAULT_ID]: { url: registry.url, password: 'kit-password' } } });
    sdk = new ECRClient({ endpoint: backed.url, region: 'us-east-1', credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY }, maxAttempts: 1 });
    backed.createRepositories(['answers/mutable']);
    await sdk.send(new CreateRepositoryCommand({ repositoryName: 'answers/immutable', imageTagMutability: 'IMMUTABLE' }));
  });
  afterEach(() => backed.setPutImageAnswers('ecr'));
  afterAll(async () => {
    sdk.destroy();
    await backed.close();
  });

  it('ecr: the answer carries the image id; an IMMUTABLE tag of another image is ImageTagAlreadyExistsException', async () => {
    const { image } = await put('answers/immutable', 'fixed', 'a');
    expect(image?.imageId).toEqual({ imageDigest: expect.stringMatching(/^sha256:/) as string, imageTag: 'fixed' });
    expect(await rejection(put('answers/immutable', 'fixed', 'b'))).toBeInstanceOf(ImageTagAlreadyExistsException);
  });

  it('empty: stores the tag, answers 200 with no image; empty-untagged: answers the same, stores nothing', async () => {
    backed.setPutImageAnswers('empty');
    const stored = await put('answers/mutable', 'empty', 'c');
    expect(stored.image).toBeUndefined();
    expect(await digestOf('answers/mutable', 'empty')).toMatch(/^sha256:/);
    backed.setPutImageAnswers('empty-untagged');
    const nothing = await put('answers/mutable', 'never', 'd');
    expect(nothing.image).toBeUndefined();
    expect(nothing.$metadata.httpStatusCode).toBe(200);
    expect(await digestOf('answers/mutable', 'never')).toBeUndefined();
  });

  it('moto: an IMMUTABLE tag of another image is ImageAlreadyExistsException, and the tag stays', async () => {
    const before = await digestOf('answers/immutable', 'fixed');
    backed.setPutImageAnswers('moto');
    expect(await rejection(put('answers/immutable', 'fixed', 'e'))).toBeInstanceOf(ImageAlreadyExistsException);
    expect(await digestOf('answers/immutable', 'fixed')).toBe(before);
  });

  it('hold: the next PutImage waits until released; the one after is not held', async () => {
    const hold = backed.hold('PutImage', 10_000);
    let answered = false;
    const first = put('answers/mutable', 'held', 'f').then(() => (answered = true));
    await hold.reached;
    expect(hold.hasReached()).toBe(true);
    await put('answers/mutable', 'free', 'g'); // another PutImage goes by meanwhile
    expect(answered).toBe(false);
    hold.release();
    await first;
    expect(await digestOf('answers/mutable', 'held')).toMatch(/^sha256:/);
  });
});
