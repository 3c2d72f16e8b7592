/**
 * The kit's parts for copies, on their own: regions behind one ECR URL, a role's account as its
 * default registry, and the registry front (redirected blob downloads that refuse Authorization,
 * the referrers API, injected faults) in front of a real registry.
 */
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { request as httpRequest } from 'node:http';
import { isolateAwsEnvironment } from '../../devkit/aws-env';
import { LOCAL_KEYS, LOCAL_REGION, LOCAL_ROLES, LOCAL_SECOND_REGION, startLocalEcr, type LocalEcr } from '../../devkit/local-ecr';
import { putManifest, registryRequest, sha256, writeImage, writeReferrer } from '../../devkit/oci-images';
import { describeWithDocker } from '../support/e2e-environment';

jest.setTimeout(60_000);

let restoreEnv: () => void;
beforeAll(() => {
  restoreEnv = isolateAwsEnvironment();
});
afterAll(() => restoreEnv());

const proxyEndpoint = async (client: ECRClient): Promise<string | undefined> => (await client.send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0]?.proxyEndpoint;

describe('the ECR stand-in with two accounts in two regions', () => {
  let ecr: LocalEcr;
  const clients: ECRClient[] = [];
  beforeAll(async () => {
    ecr = await startLocalEcr({ accounts: 2, regions: [LOCAL_REGION, LOCAL_SECOND_REGION] });
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await ecr.stop();
  });
  const client = (region: string, role?: string): ECRClient => {
    const sts = { region, endpoint: ecr.env.AWS_ENDPOINT_URL_STS };
    const credentials = role ? fromTemporaryCredentials({ params: { RoleArn: role, RoleSessionName: 'kit', ExternalId: LOCAL_ROLES.partnerExternalId }, masterCredentials: LOCAL_KEYS, clientConfig: sts }) : LOCAL_KEYS;
    const made = new ECRClient({ region, credentials, endpoint: ecr.env.AWS_ENDPOINT_URL_ECR });
    clients.push(made);
    return made;
  };

  it('sends each call to the region it was signed for, whose registries differ', async () => {
    const marks = { home: ecr.endpoints[LOCAL_REGION].calls.length, second: ecr.endpoints[LOCAL_SECOND_REGION].calls.length };
    expect(await proxyEndpoint(client(LOCAL_SECOND_REGION))).toBe(ecr.place(ecr.accountIds[0], LOCAL_SECOND_REGION).url);
    expect(await proxyEndpoint(client(LOCAL_REGION))).toBe(ecr.place(ecr.accountIds[0], LOCAL_REGION).url);
    expect(ecr.endpoints[LOCAL_SECOND_REGION].calls.slice(marks.second).map((c) => c.region)).toEqual([LOCAL_SECOND_REGION]);
    expect(ecr.endpoints[LOCAL_REGION].calls.slice(marks.home).map((c) => c.region)).toEqual([LOCAL_REGION]);
  });

  it("gives a role's calls its account's registry by default, in any region; the base keys get the first account's", async () => {
    expect(await proxyEndpoint(client(LOCAL_SECOND_REGION, LOCAL_ROLES.partner))).toBe(ecr.place(ecr.accountIds[1], LOCAL_SECOND_REGION).url);
    expect(await proxyEndpoint(client(LOCAL_REGION, LOCAL_ROLES.partner))).toBe(ecr.place(ecr.accountIds[1], LOCAL_REGION).url);
    expect(await proxyEndpoint(client(LOCAL_REGION))).toBe(ecr.place(ecr.accountIds[0], LOCAL_REGION).url);
  });
});

describeWithDocker('the registry front (a real registry behind it)', (e2e) => {
  let ecr: LocalEcr;
  beforeAll(async () => {
    ecr = await startLocalEcr({ startRegistry: (options) => e2e().startRegistry(options), front: () => ({ redirectBlobs: true, referrers: true }) });
  });
  afterAll(async () => ecr.stop());
  const access = () => ({ url: ecr.places[0].url, user: 'AWS', password: ecr.places[0].password });

  it('redirects a blob GET to its storage host, which serves it without Authorization and refuses it with', async () => {
    const image = await writeImage(access(), 'kit/app', '1.0', [1000]);
    const layer = image.blobs[1].digest;
    const redirect = await registryRequest(access(), 'GET', `/v2/kit/app/blobs/${layer}`);
    expect(redirect.status).toBe(307);
    const location = String(redirect.headers.location);
    expect(new URL(location).origin).toBe(ecr.places[0].front?.storageUrl);
    const plain = await get(location);
    expect([plain.status, sha256(plain.body)]).toEqual([200, layer]);
    expect((await get(location, { Authorization: 'Basic eDp5' })).status).toBe(400);
  });

  it('lists the referrers put through it and answers their PUT with OCI-Subject', async () => {
    const image = await writeImage(access(), 'kit/app', '2.0', [1000]);
    const signature = await writeReferrer(access(), 'kit/app', image, 'application/vnd.example.sig', Buffer.from('sig'));
    const answer = await putManifest(access(), 'kit/app', signature.digest, signature.bytes, signature.mediaType);
    expect(answer.subjectIndexed).toBe(true);
    const listed = await registryRequest(access(), 'GET', `/v2/kit/app/referrers/${image.digest}`);
    expect(JSON.parse(listed.body.toString('utf8'))).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [expect.objectContaining({ digest: signature.digest, artifactType: 'application/vnd.example.sig', size: signature.size })],
    });
    // No tag-schema index was made: the front said it keeps them.
    expect((await registryRequest(access(), 'GET', `/v2/kit/app/manifests/${image.digest.replace(':', '-')}`)).status).toBe(404);
  });

  it('fails the requests it is told to, then passes them again', async () => {
    ecr.places[0].front?.fail({ match: /^GET \/v2\/kit\/app\/tags\/list$/, count: 1, fault: 503 });
    expect((await registryRequest(access(), 'GET', '/v2/kit/app/tags/list')).status).toBe(503);
    expect((await registryRequest(access(), 'GET', '/v2/kit/app/tags/list')).status).toBe(200);
  });
});

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', reject);
    req.end();
  });
}
