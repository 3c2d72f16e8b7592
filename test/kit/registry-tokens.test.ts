/**
 * The kit's token-auth registry (what stands behind the ECR Public stand-in), proven with the real
 * docker CLI and engine against the real docker-registry: anyone may pull, only a logged-in user
 * may push, wrong credentials are refused, and a stale login stored for the host turns a pull into
 * the refusal public.ecr.aws gives (which is why the plugin never lets one near a public pull).
 */
import execa from 'execa';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeImage, removeImage } from '../../devkit/images';
import type { Registry } from '../../devkit/registry';
import { parseScope, startTokenIssuer, startTokenRealm, type TokenIssuer } from '../../devkit/registry-tokens';
import { describeWithDocker } from '../support/e2e-environment';

jest.setTimeout(90_000);

const PASSWORD = `pw-${process.pid}-token`;

describe('token scopes', () => {
  it('reads repository scopes, repository names with slashes included', () => {
    expect(parseScope('repository:alias/team/app:pull,push')).toEqual({ type: 'repository', name: 'alias/team/app', actions: ['pull', 'push'] });
    expect(parseScope('registry:catalog:*')).toBeUndefined();
    expect(parseScope('repository:app')).toBeUndefined();
  });
});

describeWithDocker('a registry that trusts the kit token service', (e2e) => {
  let issuer: TokenIssuer;
  let realm: { origin: string; close(): Promise<void> };
  let registry: Registry;
  let config: string;
  let env: NodeJS.ProcessEnv;
  let reference: string;
  const docker = (args: string[], input?: string) => execa('docker', args, { env, input, reject: false, ...(input === undefined ? { stdin: 'ignore' as const } : {}) });

  beforeAll(async () => {
    issuer = await startTokenIssuer({
      authenticate: (user, password) => user === 'AWS' && password === PASSWORD,
      grant: (requester, requested) => requested.map((access) => ({ ...access, actions: access.actions.filter((a) => a === 'pull' || (requester !== undefined && a === 'push')) })),
    });
    realm = await startTokenRealm(issuer);
    registry = await e2e().startRegistry({ password: 'unused', tokenAuth: issuer.registryAuth(realm.origin, 'kit-public') });
    config = await fs.mkdtemp(path.join(os.tmpdir(), 'kcfg-'));
    env = { ...process.env, ...e2e().env, DOCKER_CONFIG: config };
    reference = `${registry.host}/alias/team/app:1.0`;
    await makeImage(env, reference, 64 * 1024);
  });

  afterAll(async () => {
    await removeImage(e2e().env, reference);
    await fs.rm(config, { recursive: true, force: true });
    await realm.close();
    await issuer.dispose();
  });

  test('an anonymous push is denied; a wrong password is refused at login; the right one pushes', async () => {
    expect((await docker(['push', reference])).stderr).toMatch(/denied: requested access to the resource is denied/);
    const wrong = await docker(['login', '--username', 'AWS', '--password-stdin', registry.host], 'wrong');
    expect(wrong.exitCode).not.toBe(0);
    expect(wrong.stderr).toMatch(/Your authorization token is invalid/);
    expect((await docker(['login', '--username', 'AWS', '--password-stdin', registry.host], PASSWORD)).exitCode).toBe(0);
    const push = await docker(['push', reference]);
    expect(push.exitCode).toBe(0);
    expect(issuer.requests.at(-1)).toMatchObject({ requester: { user: 'AWS' }, granted: [{ name: 'alias/team/app', actions: ['push', 'pull'] }] });
    expect((await docker(['logout', registry.host])).exitCode).toBe(0);
  });

  test('anyone may pull, with no credentials at all', async () => {
    await removeImage(env, reference);
    const pull = await docker(['pull', reference]);
    expect(pull.exitCode).toBe(0);
    expect(issuer.requests.at(-1)).toMatchObject({ requester: undefined, granted: [{ name: 'alias/team/app', actions: ['pull'] }] });
  });

  test('a stale login stored for the host turns the pull into a refusal', async () => {
    await fs.writeFile(path.join(config, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from('AWS:stale').toString('base64') } } }));
    await removeImage(env, reference);
    const pull = await docker(['pull', reference]);
    expect(pull.exitCode).not.toBe(0);
    expect(pull.stderr).toMatch(/denied: Your authorization token is invalid/);
    expect(issuer.requests.at(-1)).toMatchObject({ requester: 'refused' });
  });
});
