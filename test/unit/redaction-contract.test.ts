/**
 * The contract between config.json and redaction: every param and setting config.json declares
 * `vault` is hidden from the action's error and activity log, for every method, without a list of
 * names kept anywhere else. ECR (mocked) fails with a message that repeats every vault value, as a
 * careless service or library might.
 */
import { BatchGetImageCommand, DescribeRepositoriesCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import * as app from '../../src/app';
import { vaultNames } from '../../src/vault-names';
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
