/**
 * The contract between config.json and redaction: every param and setting config.json declares
 * `vault` is hidden from the action's error and activity log, for every method, without a list of
 * names kept anywhere else. ECR (mocked) fails with a message that repeats every vault value, as a
 * careless service or library might.
 */
import { BatchGetImageCommand, DescribeRepositoriesCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import * as app from '../../src/app';
import { vaultNames } from '../../src/kaholo/vault-names';
import { captureOutput } from '../support/capture-output';
import { isolateAwsEnvironment } from '../../devkit/aws-env';
import { readManifest } from '../../devkit/agent';

const manifest = readManifest();
const ecrMock = mockClient(ECRClient);

/** Values that pass each param's checks (so the action gets as far as calling ECR), distinct per source. */
function vaultValue(name: string, source: 'param' | 'setting'): string {
  const tag = source === 'param' ? 'PARAM' : 'SETTING';
  switch (name) {
    case 'accessKeyId':
      return `AKIAVAULT${tag}00000001`;
    case 'sessionToken':
      return `IQoJvault${tag}Token+/=0001`;
    case 'roleExternalId':
      return `vault-${tag.toLowerCase()}-external-id-0001`;
    default:
      return `vault-${tag.toLowerCase()}-${name}-value-0001`;
  }
}

let restoreEnv: () => void;
beforeAll(() => {
  restoreEnv = isolateAwsEnvironment();
});
afterAll(() => restoreEnv());

describe('every vault param and setting of config.json is redacted', () => {
  const vaultSettings = manifest.settings.filter((s) => s.type === 'vault').map((s) => s.name);

  it('reads the vault names from config.json itself', () => {
    const names = vaultNames();
    expect(names.settings).toEqual(vaultSettings);
    for (const method of manifest.methods) {
      expect(names.params[method.name]).toEqual(method.params.filter((p) => p.type === 'vault').map((p) => p.name));
    }
    // The ones that matter today, so a change of config.json that drops one is noticed.
    expect(names.params.describeRepositories).toEqual(['accessKeyId', 'secretAccessKey', 'sessionToken', 'roleExternalId']);
    expect(vaultSettings).toEqual(['accessKeyId', 'secretAccessKey', 'roleExternalId']);
  });

  it.each(manifest.methods.map((m) => [m.name, m] as const))('%s', async (name, method) => {
    const vaultParams = method.params.filter((p) => p.type === 'vault').map((p) => p.name);
    const params: Record<string, unknown> = {
      region: 'eu-west-2',
      roleArn: 'arn:aws:iam::123456789012:role/ecr-push',
      repoName: 'team/app',
      imageName: 'app:1.0',
      tags: 'prod',
      // copyImage's target role (its external id is a vault param).
      targetRoleArn: 'arn:aws:iam::210987654321:role/ecr-promote',
      targetRepoName: 'prod/app',
    };
    for (const param of vaultParams) params[param] = vaultValue(param, 'param');
    const settings: Record<string, unknown> = {};
    for (const setting of vaultSettings) settings[setting] = vaultValue(setting, 'setting');
    const secrets = [...vaultParams.map((p) => vaultValue(p, 'param')), ...vaultSettings.map((s) => vaultValue(s, 'setting'))];
    const echo = new Error(`rejected; you sent ${secrets.join(' and ')}`);
    ecrMock.reset();
    ecrMock.on(DescribeRepositoriesCommand).rejects(echo);
    ecrMock.on(GetAuthorizationTokenCommand).rejects(echo);
    ecrMock.on(BatchGetImageCommand).rejects(echo);

    const handler = (app as Record<string, unknown>)[name] as (action: unknown, settings: unknown) => Promise<unknown>;
    const { error, output } = await captureOutput(() => handler({ method: { name }, params }, settings));

    const message = (error as Error).message;
    expect(message).toContain('you sent [REDACTED] and [REDACTED]'); // it did get as far as ECR
    for (const secret of secrets) {
      expect(message).not.toContain(secret);
      expect(output).not.toContain(secret);
    }
  });
});

/**
 * A vault value may be any text, a common word too, even a word of the plugin's own messages. It is
 * hidden wherever foreign text carries it (an echoed value, an SDK message), while the plugin's own
 * words stay as they are: an error still names its parameter.
 */
describe('a vault value that is also a word of the plugin\'s messages', () => {
  const handler = (name: string) => (app as Record<string, unknown>)[name] as (action: unknown, settings: unknown) => Promise<unknown>;
  const errorOf = async (name: string, params: Record<string, unknown>, settings: Record<string, unknown> = {}): Promise<{ message: string; output: string }> => {
    const { error, output } = await captureOutput(() => handler(name)({ method: { name }, params }, settings));
    expect(error).toBeInstanceOf(Error);
    return { message: (error as Error).message, output };
  };

  beforeEach(() => ecrMock.reset());

  it('roleExternalId "role": the error still names "roleArn" and "roleExternalId"', async () => {
    const { message } = await errorOf('describeRepositories', { region: 'eu-west-2', roleExternalId: 'role' });
    expect(message).toBe('Parameter "roleArn": is required when "roleExternalId" is set: the ARN of the role to assume');
  });

  it('a secret key "failed" and a session token "region": the plugin\'s words stay, the same words in ECR\'s message and in an echoed value are hidden', async () => {
    const keys = { accessKeyId: 'AKIAVAULTWORDS0000001', secretAccessKey: 'failed', sessionToken: 'region' };
    ecrMock.on(DescribeRepositoriesCommand).rejects(Object.assign(new Error('the call failed in region eu-west-2'), { name: 'AccessDeniedException' }));
    const { message } = await errorOf('describeRepositories', { ...keys, region: 'eu-west-2' });
    expect(message).toBe('ECR DescribeRepositories failed: AccessDeniedException: the call [REDACTED] in [REDACTED] eu-west-2');

    const echoed = await errorOf('describeRepositories', { ...keys, region: 'moon failed' });
    expect(echoed.message).toBe('Parameter "region": "moon [REDACTED]" is not an AWS region code; expected one such as "us-east-1" or "eu-west-2"');
  });

  it('a settings external id "Parameter" and a session token "Repositories": the plugin\'s words stay; the SDK\'s echo of them is hidden', async () => {
    const params = { accessKeyId: 'AKIAVAULTWORDS0000002', secretAccessKey: 'vault-secret-words-0002', sessionToken: 'Repositories', region: 'eu-west-2', repositoryNames: 'team/app' };
    ecrMock.on(DescribeRepositoriesCommand).rejects(Object.assign(new Error('Parameter repositoryNames: Repositories team/app not found'), { name: 'RepositoryNotFoundException' }));
    const { message, output } = await errorOf('describeRepositories', params, { roleExternalId: 'Parameter' });
    expect(message).toBe('ECR DescribeRepositories failed: RepositoryNotFoundException: [REDACTED] repositoryNames: [REDACTED] team/app not found');
    expect(output).not.toMatch(/Parameter|Repositories/);
  });
});
