/**
 * One SigV4 check serves both services of the local endpoint: ECR (signing service `ecr`) and STS
 * (`sts`). Proven with the real SDK clients, each refusal in its own service's error shape.
 */
import { DescribeRepositoriesCommand, ECRClient, type ECRClientConfig, type ECRServiceException } from '@aws-sdk/client-ecr';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { type EcrEndpoint, startEcrEndpoint } from '../../devkit/ecr-endpoint';

const KEYS = { accessKeyId: 'AKIALOCALTEST0000001', secretAccessKey: 'local/secret+key=with-symbols' };
const ROLE = 'arn:aws:iam::111111111111:role/team/pusher';

let endpoint: EcrEndpoint;
let clients: ECRClient[] = [];

beforeEach(async () => {
  endpoint = await startEcrEndpoint({
    ...KEYS,
    registries: { '111111111111': { url: 'http://127.0.0.1:5001', password: 'p' } },
    roles: { [ROLE]: {} },
  });
});

afterEach(async () => {
  clients.forEach((c) => c.destroy());
  clients = [];
  await endpoint.close();
});

type Stack = Pick<ECRClient['middlewareStack'], 'add'>;

/** After signing: the Authorization header's credential scope names `service` instead. */
function rescope(stack: Stack, service: string): void {
  stack.add(
    (next) => (args) => {
      const headers = (args.request as { headers: Record<string, string> }).headers;
      headers.authorization = headers.authorization.replace(/\/(ecr|sts)\/aws4_request/, `/${service}/aws4_request`);
      return next(args);
    },
    { step: 'deserialize', name: 'rescope' },
  );
}

/** Credentials from AssumeRole at the local STS, signed with `masterCredentials`. */
const assumeRole = (masterCredentials = KEYS, rescopeTo?: string) =>
  fromTemporaryCredentials({
    params: { RoleArn: ROLE, RoleSessionName: 'sigv4-test' },
    masterCredentials,
    clientConfig: { endpoint: endpoint.url, region: 'us-east-1', maxAttempts: 1 },
    clientPlugins: rescopeTo ? [{ applyToStack: (stack: Stack) => rescope(stack, rescopeTo) }] : [],
  })();

/** The error a promise rejected with; fails the test when it resolved. */
async function rejection(promise: Promise<unknown>): Promise<{ name: string; message: string; $metadata?: { httpStatusCode?: number } }> {
  const outcome: unknown = await promise.then(
    () => new Error('expected a refusal, but the call succeeded'),
    (error: unknown) => error,
  );
  if (outcome instanceof Error && outcome.message.startsWith('expected a refusal')) throw outcome;
  return outcome as { name: string; message: string };
}

function ecr(credentials: ECRClientConfig['credentials'], rescopeTo?: string): ECRClient {
  const client = new ECRClient({ endpoint: endpoint.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  if (rescopeTo) rescope(client.middlewareStack, rescopeTo);
  clients.push(client);
  return client;
}

describe('STS (signing service sts)', () => {
  it('hands the base keys a temporary key that signs ECR calls as the role', async () => {
    const credentials = await assumeRole();
    expect(credentials.accessKeyId).toMatch(/^ASIA/);
    await ecr(credentials).send(new DescribeRepositoriesCommand({}));
    expect(endpoint.calls).toEqual([
      { operation: 'DescribeRepositories', accessKeyId: credentials.accessKeyId, region: 'us-east-1', sessionToken: credentials.sessionToken, role: ROLE },
    ]);
  });

  it('refuses an unknown access key with InvalidClientTokenId', async () => {
    const error = await rejection(assumeRole({ ...KEYS, accessKeyId: 'AKIAUNKNOWN000000001' }));
    expect([error.name, error.message]).toEqual(['InvalidClientTokenId', 'The security token included in the request is invalid.']);
    expect(endpoint.assumeRoleCalls).toEqual([expect.objectContaining({ accessKeyId: 'AKIAUNKNOWN000000001', roleArn: ROLE })]);
    expect(endpoint.assumeRoleCalls[0].issuedAccessKeyId).toBeUndefined();
  });

  it('refuses a wrong secret with SignatureDoesNotMatch', async () => {
    const error = await rejection(assumeRole({ ...KEYS, secretAccessKey: 'not-the-secret' }));
    expect(error.name).toBe('SignatureDoesNotMatch');
    expect(error.message).toMatch(/^The request signature we calculated does not match the signature you provided\./);
  });

  it('refuses a signature scoped to another service', async () => {
    const error = await rejection(assumeRole(KEYS, 'ecr'));
    expect([error.name, error.message]).toEqual(['SignatureDoesNotMatch', "Credential should be scoped to correct service: 'sts'."]);
  });

  it('answers an unsigned request with MissingAuthenticationToken in its XML error shape', async () => {
    const response = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `Action=AssumeRole&Version=2011-06-15&RoleArn=${encodeURIComponent(ROLE)}&RoleSessionName=unsigned`,
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toBe('text/xml');
    expect(await response.text()).toContain('<Code>MissingAuthenticationToken</Code>');
    expect(endpoint.assumeRoleCalls).toEqual([]);
  });
});

describe('ECR (signing service ecr)', () => {
  it('refuses a signature scoped to another service with InvalidSignatureException', async () => {
    const error = (await rejection(ecr(KEYS, 'sts').send(new DescribeRepositoriesCommand({})))) as ECRServiceException;
    expect([error.name, error.message]).toEqual(['InvalidSignatureException', "Credential should be scoped to correct service: 'ecr'."]);
    expect(error.$metadata.httpStatusCode).toBe(403);
  });

  it('refuses a temporary key signed without its session token', async () => {
    const { accessKeyId, secretAccessKey } = await assumeRole();
    const error = await rejection(ecr({ accessKeyId, secretAccessKey }).send(new DescribeRepositoriesCommand({})));
    expect(error.name).toBe('UnrecognizedClientException');
    expect(endpoint.calls).toEqual([{ operation: 'DescribeRepositories', accessKeyId, region: 'us-east-1', role: ROLE }]);
  });
});
