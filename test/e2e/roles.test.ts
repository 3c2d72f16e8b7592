/**
 * Roles end to end: the compiled plugin assumes a role through the local STS (AssumeRole over the
 * query protocol, SigV4 checked), and every ECR call is then signed with the role's temporary keys
 * and session token, which the local ECR endpoint requires. Refusals by STS name roleArn, say
 * whether an external id was sent, and carry STS's code, message and request id. With a Docker
 * engine, a push and a pull with roleArn go through the real engine and registry.
 */
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import path from 'node:path';
import { describeWithDocker } from '../support/e2e-environment';
import { makeImage, removeImage } from '../../devkit/images';
import { REPO_ROOT } from '../../devkit/agent';
import { LOCAL_ROLES } from '../../devkit/local-ecr';
import { E2E_TEST_TIMEOUT_MS, ONE_MB, SETTINGS, VAULT_KEYS, expectNoOpenConnections, expectNoSecrets, failed, hasImage, runAction, succeeded, useLocalStack, type Stack } from './helpers';

jest.setTimeout(E2E_TEST_TIMEOUT_MS);

/** Counts how often the plugin's role module is required in this file (jest's module registry). */
const loaded = { role: 0 };
const ROLE_MODULE = path.join(REPO_ROOT, 'dist', 'aws', 'assume-role.js');
jest.doMock(ROLE_MODULE, () => {
  loaded.role += 1;
  return jest.requireActual<object>(ROLE_MODULE);
});

type Transfer = { image: string; digest: string; registry: string };
const REQUEST_ID = /\(request id: [0-9a-f-]{36}\)$/;

/** The temporary keys STS handed out in this test, and the ECR calls made with them. */
function roleTraffic(stack: Stack, fromCall: number, fromAssume: number) {
  const assumed = stack.ecr.endpoint.assumeRoleCalls.slice(fromAssume);
  const issued = new Set(assumed.flatMap((c) => (c.issuedAccessKeyId ? [c.issuedAccessKeyId] : [])));
  return { assumed, issued, ecrCalls: stack.ecr.endpoint.calls.slice(fromCall) };
}

/** Everything the temporary credentials of this test's role consist of, as STS handed them out. */
function marks(stack: Stack): { before: number; beforeAssume: number } {
  return { before: stack.ecr.endpoint.calls.length, beforeAssume: stack.ecr.endpoint.assumeRoleCalls.length };
}

describe('roles (local ECR and STS endpoint)', () => {
  const stack = useLocalStack({ accounts: 2 });

  beforeAll(() => stack().ecr.endpoint.createRepositories(['team/app', 'team/worker']));

  test('without a role: no STS call, and the role code is not even loaded', async () => {
    const { beforeAssume } = marks(stack());
    succeeded(await runAction(stack().plugin, 'getEcrLogin', { ...VAULT_KEYS, region: 'us-east-1', roleArn: '' }));
    expect(stack().ecr.endpoint.assumeRoleCalls.length).toBe(beforeAssume);
    expect(loaded.role).toBe(0);
  });

  test('describeRepositories with roleArn: STS is called with the base keys, ECR only with the role\'s keys and token', async () => {
    const { before, beforeAssume } = marks(stack());
    const run = await runAction<{ repositories: Array<{ repositoryName: string }> }>(stack().plugin, 'describeRepositories', {
      ...VAULT_KEYS,
      region: 'us-east-1',
      roleArn: LOCAL_ROLES.push,
    });
    expect(succeeded(run).repositories.map((r) => r.repositoryName)).toEqual(['team/app', 'team/worker']);
    // Both clients, STS's and ECR's, closed their connections when the action ended.
    await expectNoOpenConnections(stack());
    const { assumed, issued, ecrCalls } = roleTraffic(stack(), before, beforeAssume);
    expect(assumed).toEqual([
      expect.objectContaining({
        accessKeyId: VAULT_KEYS.accessKeyId,
        region: 'us-east-1',
        roleArn: LOCAL_ROLES.push,
        roleSessionName: 'kaholo-ecr-describeRepositories',
        durationSeconds: 3600,
      }),
    ]);
    expect(assumed[0].externalId).toBeUndefined();
    expect(ecrCalls.length).toBeGreaterThan(0);
    for (const call of ecrCalls) {
      expect(issued.has(call.accessKeyId)).toBe(true);
      expect(call.role).toBe(LOCAL_ROLES.push);
      expect(call.sessionToken).toEqual(expect.any(String));
    }
    expectNoSecrets(stack(), run.output);
    expect(loaded.role).toBe(1); // loaded once the action named a role
  });

  test('the role and its external id from the plugin settings; session name and duration from the action', async () => {
    const { before, beforeAssume } = marks(stack());
    const run = await runAction<{ authorizationData: Array<{ proxyEndpoint: string }> }>(
      stack().plugin,
      'getEcrLogin',
      { accessKeyId: '', secretAccessKey: '', region: '', roleArn: '', roleExternalId: '', roleSessionName: 'nightly@ci', roleDurationSeconds: '900' },
      { ...SETTINGS, roleArn: LOCAL_ROLES.partner, roleExternalId: LOCAL_ROLES.partnerExternalId },
    );
    expect(succeeded(run).authorizationData).toHaveLength(1);
    const { assumed, issued, ecrCalls } = roleTraffic(stack(), before, beforeAssume);
    expect(assumed).toEqual([
      expect.objectContaining({ roleArn: LOCAL_ROLES.partner, roleSessionName: 'nightly@ci', durationSeconds: 900, externalId: LOCAL_ROLES.partnerExternalId }),
    ]);
    expect(ecrCalls.map((c) => [c.operation, issued.has(c.accessKeyId)])).toEqual([['GetAuthorizationToken', true]]);
    expect(run.output).not.toContain(LOCAL_ROLES.partnerExternalId);
  });

  test('the temporary keys do not work on ECR without their session token', async () => {
    const { beforeAssume } = marks(stack());
    succeeded(await runAction(stack().plugin, 'getEcrLogin', { ...VAULT_KEYS, region: 'us-east-1', roleArn: LOCAL_ROLES.push }));
    const issued = stack().ecr.endpoint.assumeRoleCalls[beforeAssume].issuedAccessKeyId ?? '';
    // The SDK straight at the endpoint, with the issued access key but no token: refused.
    const client = new ECRClient({ region: 'us-east-1', credentials: { accessKeyId: issued, secretAccessKey: 'anything-at-all' }, maxAttempts: 1 });
    await expect(client.send(new GetAuthorizationTokenCommand({}))).rejects.toThrow(/security token included in the request is invalid/);
    client.destroy();
  });

  test('a role whose trust policy demands an external id, without one: roleArn named, STS code, message and request id', async () => {
    const run = await runAction(stack().plugin, 'describeRepositories', { ...VAULT_KEYS, region: 'us-east-1', roleArn: LOCAL_ROLES.partner });
    const { message } = failed(run);
    expect(message).toMatch(
      new RegExp(
        `^Parameter "roleArn": could not assume ${LOCAL_ROLES.partner.replace(/[/.]/g, '\\$&')} \\(no external id was sent\\): ` +
          'STS AssumeRole failed: AccessDenied: User: .* is not authorized to perform: sts:AssumeRole on resource: ',
      ),
    );
    expect(message).toMatch(REQUEST_ID);
  });

  test('a wrong external id: "an external id was sent", and never its value', async () => {
    const wrong = 'not-the-partner-id-9Zk';
    const run = await runAction(stack().plugin, 'getEcrLogin', { ...VAULT_KEYS, region: 'us-east-1', roleArn: LOCAL_ROLES.partner, roleExternalId: wrong });
    const { message } = failed(run);
    expect(message).toMatch(/^Parameter "roleArn": could not assume .* \(an external id was sent\): STS AssumeRole failed: AccessDenied: /);
    expect(`${message}\n${run.output}`).not.toContain(wrong);
  });

  test('a role that does not exist, and a duration above the role\'s maximum: STS\'s own refusals', async () => {
    const missing = 'arn:aws:iam::123456789012:role/no-such-role';
    const unknown = failed(await runAction(stack().plugin, 'describeRepositories', { ...VAULT_KEYS, region: 'us-east-1', roleArn: missing }));
    expect(unknown.message).toMatch(/^Parameter "roleArn": could not assume arn:aws:iam::123456789012:role\/no-such-role \(no external id was sent\): STS AssumeRole failed: AccessDenied: /);
    const long = failed(
      await runAction(stack().plugin, 'describeRepositories', { ...VAULT_KEYS, region: 'us-east-1', roleArn: LOCAL_ROLES.push, roleDurationSeconds: '7200' }),
    );
    expect(long.message).toMatch(/STS AssumeRole failed: ValidationError: The requested DurationSeconds exceeds the MaxSessionDuration set for this role\. \(request id: /);
  });
});

describeWithDocker('push and pull with roleArn (local STS and ECR, real registry, real Docker engine)', (e2e) => {
  const stack = useLocalStack({ accounts: 1, e2e });
  const images: string[] = [];

  afterAll(async () => {
    for (const image of images) await removeImage(stack().dockerEnv(), image);
  });

  test('push a local image and pull it back, both with the role\'s credentials', async () => {
    const env = stack().dockerEnv();
    const host = stack().ecr.registries[0].host;
    images.push(await makeImage(env, 'role/app:2.0', ONE_MB));
    const params = { ...VAULT_KEYS, region: 'us-east-1', roleArn: LOCAL_ROLES.push, repoName: 'team/role-app' };
    const { before, beforeAssume } = marks(stack());

    const pushed = succeeded(await runAction<Transfer>(stack().plugin, 'pushImgaeToRepo', { ...params, imageName: 'role/app:2.0' }));
    expect(pushed.image).toBe(`${host}/team/role-app:2.0`);
    images.push(pushed.image);
    await removeImage(env, pushed.image);
    expect(await hasImage(env, pushed.image)).toBe(false);

    const pulled = succeeded(await runAction<Transfer>(stack().plugin, 'pullImage', { ...params, imageName: '2.0' }));
    expect(pulled).toEqual({ image: pushed.image, digest: pushed.digest, registry: host });
    expect(await hasImage(env, pushed.image)).toBe(true);

    const { assumed, issued, ecrCalls } = roleTraffic(stack(), before, beforeAssume);
    expect(assumed.map((c) => c.roleSessionName)).toEqual(['kaholo-ecr-pushImgaeToRepo', 'kaholo-ecr-pullImage']);
    expect(ecrCalls.map((c) => [c.operation, issued.has(c.accessKeyId)])).toEqual([
      ['GetAuthorizationToken', true],
      ['GetAuthorizationToken', true],
    ]);
  });
});
