/**
 * getEcrLogin end to end: tokens from the local ECR API endpoint for the default registry, one
 * registry id and several; the decoded password really logs the real docker CLI in to the real
 * registry (through stdin, into a throw-away DOCKER_CONFIG).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import execa from 'execa';
import { describeWithDocker } from '../support/e2e-environment';
import { LOCAL_ACCOUNT_IDS } from '../../devkit/local-ecr';
import { httpStatus } from '../../devkit/registry';
import { E2E_TEST_TIMEOUT_MS, SETTINGS, UNSET_CONNECTION, VAULT_KEYS, docker, runAction, succeeded, useLocalStack } from './helpers';

jest.setTimeout(E2E_TEST_TIMEOUT_MS);

interface LoginEntry {
  authorizationToken: string;
  expiresAt: Date | string;
  proxyEndpoint: string;
  decodedToken: { host: string; user: string; password: string };
  baseDockerLoginCommand: string;
}
type LoginResult = { authorizationData: LoginEntry[] };

describeWithDocker('getEcrLogin (local ECR API endpoint, real registry, real docker login)', (e2e) => {
  const stack = useLocalStack({ accounts: 2, e2e });

  /** What the entry for account `index` must be: its registry, its password, the documented login command. */
  const expectEntryFor = (entry: LoginEntry, index: number): void => {
    const registry = stack().ecr.registries[index];
    const password = stack().passwords[index];
    expect(entry.proxyEndpoint).toBe(registry.url);
    expect(entry.authorizationToken).toBe(Buffer.from(`AWS:${password}`).toString('base64'));
    expect(entry.decodedToken).toEqual({ host: registry.host, user: 'AWS', password });
    expect(entry.baseDockerLoginCommand).toBe(`docker login --username AWS --password "${password}" ${registry.host}`);
    const expiresAt = new Date(entry.expiresAt).getTime();
    expect(expiresAt).toBeGreaterThan(Date.now() + 11 * 3600_000);
  };

  test('default registry (registryIds empty): one entry whose password really logs docker in to the registry', async () => {
    const run = await runAction<LoginResult>(
      stack().plugin,
      'getEcrLogin',
      { ...UNSET_CONNECTION, registryIds: '' },
      SETTINGS,
    );
    const { authorizationData } = succeeded(run);
    expect(authorizationData).toHaveLength(1);
    expectEntryFor(authorizationData[0], 0);
    // The result survives Kaholo's JSON round trip with what a later action needs.
    expect(JSON.parse(JSON.stringify(run.result))).toMatchObject({ authorizationData: [{ decodedToken: authorizationData[0].decodedToken }] });

    const { host, user, password } = authorizationData[0].decodedToken;
    const registry = stack().ecr.registries[0];
    // A wrong password is refused by this registry: the check below can fail.
    expect(await httpStatus(`${registry.url}/v2/`, { headers: { Authorization: `Basic ${Buffer.from(`${user}:wrong`).toString('base64')}` } })).toBe(401);
    expect(await httpStatus(`${registry.url}/v2/`, { headers: { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } })).toBe(200);

    // And the real docker CLI logs in with it (password through stdin), in a throw-away config.
    const config = await fs.mkdtemp(path.join(os.tmpdir(), 'login-check-'));
    try {
      const env = { ...stack().dockerEnv(), DOCKER_CONFIG: config };
      const refused = await execa('docker', ['login', '--username', user, '--password-stdin', host], {
        env,
        extendEnv: false,
        input: `${password}-not`,
        reject: false,
      });
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toMatch(/unauthorized|401/i);
      const login = await docker(['login', '--username', user, '--password-stdin', host], env, password);
      expect(login.stdout).toContain('Login Succeeded');
      const saved = JSON.parse(await fs.readFile(path.join(config, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
      expect(saved.auths[host].auth).toBe(authorizationData[0].authorizationToken);
      await docker(['logout', host], env);
    } finally {
      await fs.rm(config, { recursive: true, force: true });
    }
  });

  test('one registry id: the entry of that registry', async () => {
    const run = await runAction<LoginResult>(
      stack().plugin,
      'getEcrLogin',
      { ...VAULT_KEYS, sessionToken: '', region: { id: 'us-east-1', value: 'us-east-1 (US East, N. Virginia)' }, registryIds: LOCAL_ACCOUNT_IDS[1] },
      {},
    );
    const { authorizationData } = succeeded(run);
    expect(authorizationData).toHaveLength(1);
    expectEntryFor(authorizationData[0], 1);
    const call = stack().ecr.endpoint.calls.at(-1);
    expect(call).toMatchObject({ operation: 'GetAuthorizationToken', region: 'us-east-1' });
  });

  test.each([
    ['newline-separated', `${LOCAL_ACCOUNT_IDS[0]}\n${LOCAL_ACCOUNT_IDS[1]}`],
    ['comma-separated', `${LOCAL_ACCOUNT_IDS[0]}, ${LOCAL_ACCOUNT_IDS[1]}`],
    ['an array', [LOCAL_ACCOUNT_IDS[0], LOCAL_ACCOUNT_IDS[1]]],
  ])('several registry ids (%s): one entry per registry, in order, each with its own password', async (_form, registryIds) => {
    const run = await runAction<LoginResult>(stack().plugin, 'getEcrLogin', { ...UNSET_CONNECTION, registryIds }, SETTINGS);
    const { authorizationData } = succeeded(run);
    expect(authorizationData).toHaveLength(2);
    expectEntryFor(authorizationData[0], 0);
    expectEntryFor(authorizationData[1], 1);
    expect(authorizationData[0].decodedToken.password).not.toBe(authorizationData[1].decodedToken.password);
    // The activity log names the registries but never shows a password.
    expect(run.output).toContain(LOCAL_ACCOUNT_IDS[1]);
    for (const password of stack().passwords) expect(run.output).not.toContain(password);
  });
});
