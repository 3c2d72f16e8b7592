/**
 * Push and pull end to end: the compiled plugin gets a token from the local ECR API endpoint,
 * logs the real docker CLI in to the real registry in a private config, pushes a 1 MB image made
 * offline, and pulls it back after it was removed locally. The digests the plugin reports are
 * checked against the registry's own HTTP API and the engine's record.
 *
 * Run this file alone (`npx jest test/e2e/push-pull.test.ts`) to watch the push in the activity log.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describeWithDocker } from '../support/e2e-environment';
import { makeImage, removeImage } from '../../devkit/images';
import { LOCAL_ACCOUNT_IDS } from '../../devkit/local-ecr';
import { dockerCliArgvs, watchForSecrets } from '../support/processes';
import {
  AGENT_CONFIG,
  E2E_TEST_TIMEOUT_MS,
  ONE_MB,
  SETTINGS,
  UNSET_CONNECTION,
  VAULT_KEYS,
  docker,
  expectNoSecrets,
  hasImage,
  registryManifest,
  runAction,
  succeeded,
  useLocalStack,
} from './helpers';
import { PRIVATE_CONFIG_PREFIX } from '../../src/docker/docker-config';

jest.setTimeout(E2E_TEST_TIMEOUT_MS);

type Transfer = { image: string; digest: string; registry: string };

const LONDON = { id: 'eu-west-2', value: 'eu-west-2 (Europe, London)' };
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** What could be seen from outside while the plugin's `docker push` was still running. */
interface DuringPush {
  pushStillRunning: boolean;
  privateDirs: Array<{ dir: string; mode: number; config: Record<string, unknown> }>;
}

describeWithDocker('push and pull (local ECR API endpoint, real registry, real Docker engine)', (e2e) => {
  const stack = useLocalStack({ accounts: 2, e2e });
  const images: string[] = [];

  afterAll(async () => {
    for (const image of images) await removeImage(stack().dockerEnv(), image);
  });

  /** RepoDigests of a local image, as the engine records them. */
  const repoDigests = async (reference: string): Promise<string[]> =>
    JSON.parse((await docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', reference], stack().dockerEnv())).stdout) as string[];

  test('push a local name:tag, remove it, pull it back by tag and by digest: one digest everywhere', async () => {
    const env = stack().dockerEnv();
    const registry = stack().ecr.registries[0];
    const password = stack().passwords[0];
    const imageId = await makeImage(env, 'local/app:1.0', ONE_MB);
    images.push(imageId);
    const target = `${registry.host}/team/app:1.0`;

    // Watch from outside while the action runs: at docker's first line of output, is `docker push`
    // still running (the log is streamed, not printed at the end), and what is in the private config?
    let during: DuringPush | undefined;
    const watch = (chunk: string): void => {
      if (during || !chunk.includes('The push refers to repository')) return;
      const pushStillRunning = dockerCliArgvs().some((argv) => argv[1] === 'push' && argv[2] === target);
      const privateDirs = readdirSync(stack().tmpDir)
        .filter((e) => e.startsWith(PRIVATE_CONFIG_PREFIX))
        .map((e) => path.join(stack().tmpDir, e))
        .map((dir) => ({
          dir,
          mode: statSync(dir).mode & 0o777,
          config: JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>,
        }));
      during = { pushStillRunning, privateDirs };
    };
    // And every few milliseconds, every process's argv (and the environment of every process
    // started from here): no secret may ever be in one.
    const sampler = watchForSecrets(
      [{ name: 'registry password', value: password }, ...stack().tokens.map((value) => ({ name: 'authorization token', value }))],
      () => [process.pid],
    );
    const push = await runAction<Transfer>(
      stack().plugin,
      'pushImgaeToRepo',
      { ...UNSET_CONNECTION, region: LONDON, registryId: '', repoName: 'team/app', imageName: 'local/app:1.0' },
      SETTINGS,
      watch,
    );
    const sampled = await sampler.stop();
    const pushed = succeeded(push);

    expect(pushed).toEqual({ image: target, digest: expect.stringMatching(DIGEST) as unknown, registry: registry.host, tags: ['1.0'] });
    // The registry has it under that digest, with the 1 MB layer.
    const manifest = await registryManifest(registry, password, 'team/app', '1.0');
    expect(manifest.status).toBe(200);
    expect(manifest.digest).toBe(pushed.digest);
    const layers = (JSON.parse(manifest.body) as { layers: Array<{ size: number }> }).layers;
    expect(layers).toHaveLength(1);
    expect(layers[0].size).toBeGreaterThan(ONE_MB);

    // The activity log: docker's own push progress, streamed while docker ran; no secret.
    expect(push.output).toContain(`The push refers to repository [${registry.host}/team/app]`);
    expect(push.output).toMatch(/^[0-9a-f]{12}: Pushed$/m);
    expect(push.output).toContain(`1.0: digest: ${pushed.digest}`);
    expect(during?.pushStillRunning).toBe(true);
    // The sampler looked while docker pushed. (The login is too quick to be sure of catching here;
    // test/security/secrets-argv.test.ts holds each docker command until its scan has seen it.)
    expect(sampled.dockerArgvs).toContainEqual(['docker', 'push', target]);
    expect(sampled.violations).toEqual([]);
    expectNoSecrets(stack(), push.output, JSON.stringify(pushed));

    // During the push: one private config (0700), logged in to this registry only, the agent's
    // proxies kept, the agent's credentials and credential store not carried over.
    expect(during?.privateDirs).toHaveLength(1);
    const [privateConfig] = during?.privateDirs ?? [];
    expect(privateConfig.mode).toBe(0o700);
    const agent = JSON.parse(AGENT_CONFIG) as Record<string, unknown>;
    expect(privateConfig.config.proxies).toEqual(agent.proxies);
    // With the placeholder that keeps docker off the platform credential stores.
    expect(Object.keys(privateConfig.config.auths as object).sort()).toEqual([registry.host, 'kaholo-ecr-private.invalid'].sort());
    expect(privateConfig.config).not.toHaveProperty('credsStore');

    // The plugin tagged the image to push it, and removed that tag again: the agent's images are as before.
    expect(await hasImage(env, 'local/app:1.0')).toBe(true);
    expect(await hasImage(env, target)).toBe(false);

    // Remove it locally, then pull it back by tag.
    await removeImage(env, imageId);
    expect(await hasImage(env, 'local/app:1.0')).toBe(false);
    const pull = await runAction<Transfer>(
      stack().plugin,
      'pullImage',
      { ...VAULT_KEYS, sessionToken: '', region: LONDON, registryId: LOCAL_ACCOUNT_IDS[0], repoName: 'team/app', imageName: '1.0' },
    );
    const pulled = succeeded(pull);
    expect(pulled).toEqual({ image: target, digest: pushed.digest, registry: registry.host });
    expect(await repoDigests(target)).toContain(`${registry.host}/team/app@${pushed.digest}`);
    // The very image that was pushed: same content, so the same image id.
    expect((await docker(['image', 'inspect', '--format', '{{.Id}}', target], env)).stdout.trim()).toBe(imageId);
    expect(pull.output).toContain(`Digest: ${pushed.digest}`);
    expectNoSecrets(stack(), pull.output, JSON.stringify(pulled));

    // And by digest, after removing it again.
    await removeImage(env, imageId);
    const byDigest = `${registry.host}/team/app@${pushed.digest}`;
    const pullByDigest = await runAction<Transfer>(
      stack().plugin,
      'pullImage',
      { ...UNSET_CONNECTION, registryId: '', repoName: 'team/app', imageName: byDigest },
      SETTINGS,
    );
    expect(succeeded(pullByDigest)).toEqual({ image: byDigest, digest: pushed.digest, registry: registry.host });
    expect((await docker(['image', 'inspect', '--format', '{{.Id}}', byDigest], env)).stdout.trim()).toBe(imageId);
    await removeImage(env, imageId);
  });

  test('push a full reference into another account\'s registry (registryId), remove it, pull it back', async () => {
    const env = stack().dockerEnv();
    const registry = stack().ecr.registries[1];
    const password = stack().passwords[1];
    const reference = `${registry.host}/team/api:2.0`;
    const imageId = await makeImage(env, reference, ONE_MB);
    images.push(imageId);

    const push = await runAction<Transfer>(
      stack().plugin,
      'pushImgaeToRepo',
      { ...UNSET_CONNECTION, registryId: LOCAL_ACCOUNT_IDS[1], repoName: 'team/api', imageName: reference },
      SETTINGS,
    );
    const pushed = succeeded(push);
    expect(pushed).toEqual({ image: reference, digest: expect.stringMatching(DIGEST) as unknown, registry: registry.host, tags: ['2.0'] });
    expect((await registryManifest(registry, password, 'team/api', '2.0')).digest).toBe(pushed.digest);
    // Not in the default registry: registryId chose the registry.
    expect((await registryManifest(stack().ecr.registries[0], stack().passwords[0], 'team/api', '2.0')).status).toBe(404);
    expect(push.output).toContain(`2.0: digest: ${pushed.digest}`);
    // Already named as the target: the plugin neither tagged nor removed anything.
    expect(push.output).not.toContain('Tagged');
    expect(await hasImage(env, reference)).toBe(true);
    expectNoSecrets(stack(), push.output);

    await removeImage(env, imageId);
    expect(await hasImage(env, reference)).toBe(false);
    const pull = await runAction<Transfer>(
      stack().plugin,
      'pullImage',
      { ...UNSET_CONNECTION, registryId: LOCAL_ACCOUNT_IDS[1], repoName: 'team/api', imageName: reference },
      SETTINGS,
    );
    expect(succeeded(pull)).toEqual({ image: reference, digest: pushed.digest, registry: registry.host });
    expect(await repoDigests(reference)).toEqual([`${registry.host}/team/api@${pushed.digest}`]);
    expect((await docker(['image', 'inspect', '--format', '{{.Id}}', reference], env)).stdout.trim()).toBe(imageId);
    expectNoSecrets(stack(), pull.output);
    await removeImage(env, imageId);
  });
});
