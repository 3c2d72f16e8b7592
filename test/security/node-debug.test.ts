/**
 * NODE_DEBUG=http (and net, tls) makes Node print the options of every new connection an agent
 * opens, and those options are the request's: its headers included, such as the registry's
 * Authorization (a copy's Basic token or ECR Public's bearer token) and the SDK's
 * x-amz-security-token (a role's session token). No secret may show for it. Real actions, each in
 * a node process of its own as the agent runs them, against the ECR stand-in and real registries.
 */
import { agentEnvironment, runAgentAction, type AgentOutcome } from '../../devkit/agent-process';
import { LOCAL_KEYS, LOCAL_ROLES, startLocalEcr, type LocalEcr } from '../../devkit/local-ecr';
import { LOCAL_SCAN_FINDINGS } from '../../devkit/local-stack';
import { writeImage } from '../../devkit/oci-images';
import { describeWithDocker } from '../support/e2e-environment';
import { leakedSecrets, registrySecrets, visibleText, type Secret } from './support/secrets';

jest.setTimeout(60_000);

const [A, B] = ['123456789012', '210987654321'];
const KEYS = { accessKeyId: LOCAL_KEYS.accessKeyId, secretAccessKey: LOCAL_KEYS.secretAccessKey, region: 'us-east-1' };
/** Everything that would print what it knows. */
const DEBUGGING = { DEBUG: '*', NODE_DEBUG: 'http,https,net,tls,stream' };

describeWithDocker('no secret under NODE_DEBUG=http: the new connections Node prints carry no request headers', (e2e) => {
  let ecr: LocalEcr;

  beforeAll(async () => {
    ecr = await startLocalEcr({ accounts: 2, startRegistry: (options) => e2e().startRegistry(options), publicRegistry: true });
    ecr.endpoint.createRepositories(['team/app'], A);
    ecr.endpoint.createRepositories(['prod/app'], B);
    const place = ecr.place(A);
    const image = await writeImage({ url: place.url, user: 'AWS', password: place.password }, 'team/app', '1.0', [64 * 1024]);
    ecr.endpoint.scans.set({ repositoryName: 'team/app', digest: image.digest, tags: ['1.0'], scan: [{ status: 'COMPLETE', scanType: 'BASIC', findings: LOCAL_SCAN_FINDINGS }] });
  });

  afterAll(async () => {
    await ecr?.stop();
  });

  /** Every secret the stack handed out or was handed: registry passwords and tokens, the secret key, the external id, every session token STS issued. */
  const secrets = (): Secret[] => [
    ...ecr.places.flatMap((p) => registrySecrets(p.password, `registry password of ${p.accountId}`)),
    ...(ecr.publicRegistry ? registrySecrets(ecr.publicRegistry.state.currentPassword(), 'public registry password') : []),
    { name: 'secret key', value: LOCAL_KEYS.secretAccessKey },
    { name: 'external id', value: LOCAL_ROLES.partnerExternalId },
    ...[...ecr.endpoint.calls, ...ecr.endpoint.publicCalls].flatMap((c) => (c.sessionToken ? [{ name: `session token of ${c.operation}`, value: c.sessionToken }] : [])),
  ];

  async function run(method: string, params: Record<string, unknown>): Promise<AgentOutcome> {
    const outcome = await runAgentAction({ method, params }, agentEnvironment({ ...ecr.env, ...DEBUGGING }));
    expect(outcome.reported).toBe(true);
    expect(outcome.output).toMatch(/^HTTP \d+: createConnection /m); // NODE_DEBUG did print the connections
    return outcome;
  }

  test('copyImage across accounts, a role per side: neither registry token nor any session token shows', async () => {
    const outcome = await run('copyImage', {
      ...KEYS,
      roleArn: LOCAL_ROLES.push,
      repoName: 'team/app',
      imageName: '1.0',
      targetRegistryId: B,
      targetRepoName: 'prod/app',
      targetRoleArn: LOCAL_ROLES.partner,
      targetRoleExternalId: LOCAL_ROLES.partnerExternalId,
    });
    expect(outcome.error).toBeUndefined();
    expect(leakedSecrets(visibleText(outcome), secrets())).toEqual([]);
  });

  test('checkImageScan and registryType public through a role: no session token shows', async () => {
    const scan = await run('checkImageScan', { ...KEYS, roleArn: LOCAL_ROLES.push, repoName: 'team/app', imageName: '1.0' });
    expect(scan.error).toBeUndefined();
    const described = await run('describeRepositories', { ...KEYS, roleArn: LOCAL_ROLES.push, registryType: 'public' });
    expect(described.error).toBeUndefined();
    expect(ecr.endpoint.calls.some((c) => c.sessionToken)).toBe(true);
    expect(leakedSecrets(visibleText(scan) + visibleText(described), secrets())).toEqual([]);
  });
});
