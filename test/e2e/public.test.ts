/**
 * registryType public end to end: the compiled plugin, the real AWS SDK over HTTP against the
 * kit's ECR Public stand-in (the `ecr-public` API behind AWS_ENDPOINT_URL_ECR_PUBLIC, which records
 * the region each request was signed for), the real docker CLI and engine, and a real registry
 * that authenticates as public.ecr.aws does (Bearer tokens from a token service, anonymous pulls).
 * skopeo, a registry client we did not write, reads back what a push left, anonymously.
 */
import execa from 'execa';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describeWithDocker } from '../support/e2e-environment';
import { makeImage, removeImage } from '../../devkit/images';
import { LOCAL_PUBLIC_ALIAS, LOCAL_ROLES } from '../../devkit/local-ecr';
import { inspectRaw, skopeo } from '../../devkit/skopeo';
import { createHash } from 'node:crypto';
import { AGENT_CONFIG, E2E_TEST_TIMEOUT_MS, VAULT_KEYS, docker, expectNoOpenConnections, expectNoSecrets, failed, hasImage, runAction, succeeded, useLocalStack } from './helpers';

jest.setTimeout(E2E_TEST_TIMEOUT_MS);

type Transfer = { image: string; digest: string; registry: string; tags?: string[] };
type Login = { authorizationData: Array<Record<string, unknown> & { decodedToken: { host: string; user: string; password: string } }> };

const PUBLIC = { ...VAULT_KEYS, registryType: 'public' };
/** What the Kaholo form sends for a push's repository settings when nobody touched them. */
const FORM_DEFAULTS = { imageTagMutability: 'MUTABLE', scanOnPush: true, encryptionType: 'AES256', kmsKey: '' };
const NOTICE = /ECR Public's API is in us-east-1 only/g;

describeWithDocker('registryType public (ECR Public stand-in, token-auth registry, real Docker engine)', (e2e) => {
  const stack = useLocalStack({ e2e, publicRegistry: true });
  const images: string[] = [];
  const publicRegistry = () => {
    const registry = stack().ecr.publicRegistry;
    if (!registry?.registry || !registry.issuer) throw new Error('no public registry in the stack');
    return { ...registry, registry: registry.registry, issuer: registry.issuer };
  };
  const host = () => publicRegistry().state.host;
  const reference = (repoName: string, tag: string) => `${host()}/${LOCAL_PUBLIC_ALIAS}/${repoName}:${tag}`;
  const calls = () => stack().ecr.endpoint.publicCalls;

  /** The digest the registry holds for a reference, read by skopeo with no credentials at all. */
  const skopeoDigest = async (ref: string): Promise<string> =>
    (await execa('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${ref}`], { stdin: 'ignore', env: { PATH: process.env.PATH ?? '' }, extendEnv: false })).stdout.trim();

  /** The manifest a public reference names, byte for byte, read by skopeo with no credentials at all. */
  const publicRaw = async (ref: string): Promise<Buffer> => Buffer.from(await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], []), 'utf8');
  const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

  /** A local image to push, removed when the file ends. */
  const localImage = async (name: string): Promise<string> => {
    images.push(name);
    await makeImage(stack().dockerEnv(), name, 256 * 1024);
    return name;
  };

  afterAll(async () => {
    for (const image of images) await removeImage(stack().dockerEnv(), image);
  });

  test.each([['eu-west-2'], ['ap-southeast-2'], ['me-central-1'], ['us-gov-west-1'], ['cn-north-1'], ['us-east-1'], ['']])(
    'with region %p, every ECR Public call is signed for us-east-1, and the log says so once when the region is another',
    async (region) => {
      const before = calls().length;
      const run = await runAction<Login>(stack().plugin, 'getEcrLogin', { ...PUBLIC, region });
      succeeded(run);
      const made = calls().slice(before);
      expect(made.map((c) => c.operation).sort()).toEqual(['DescribeRegistries', 'GetAuthorizationToken']);
      expect(made.map((c) => c.region)).toEqual(['us-east-1', 'us-east-1']);
      expect((run.output.match(NOTICE) ?? []).length).toBe(region === '' || region === 'us-east-1' ? 0 : 1);
      expect(stack().ecr.endpoint.calls).toEqual([]); // nothing went to private ECR
      await expectNoOpenConnections(stack());
    },
  );

  test('through a role too: the role\'s credentials sign the public calls, in us-east-1', async () => {
    const before = calls().length;
    succeeded(await runAction(stack().plugin, 'describeRepositories', { ...PUBLIC, region: 'eu-west-1', roleArn: LOCAL_ROLES.push }));
    const made = calls().slice(before);
    expect(made.map((c) => [c.operation, c.region, c.role])).toEqual([['DescribeRepositories', 'us-east-1', LOCAL_ROLES.push]]);
  });

  test('getEcrLogin returns the public token in the private shape, and it logs docker in', async () => {
    const { authorizationData } = succeeded(await runAction<Login>(stack().plugin, 'getEcrLogin', PUBLIC));
    const password = publicRegistry().state.currentPassword();
    expect(authorizationData).toHaveLength(1);
    const [entry] = authorizationData;
    expect(entry.expiresAt).toBeInstanceOf(Date);
    expect({ ...entry, expiresAt: undefined }).toEqual({
      authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
      expiresAt: undefined,
      // Made from the host the registry's URI names (plain http: the registry is on this machine, as docker reaches it).
      proxyEndpoint: `http://${host()}`,
      decodedToken: { host: host(), user: 'AWS', password },
      baseDockerLoginCommand: `docker login --username AWS --password "${password}" ${host()}`,
    });
    const config = await fs.mkdtemp(path.join(stack().tmpDir, 'login-'));
    try {
      const env = { ...stack().dockerEnv(), DOCKER_CONFIG: config };
      await docker(['login', '--username', entry.decodedToken.user, '--password-stdin', entry.decodedToken.host], env, entry.decodedToken.password);
      await docker(['logout', entry.decodedToken.host], env);
    } finally {
      await fs.rm(config, { recursive: true, force: true });
    }
  });

  test('describeRepositories lists every public repository, across pages, with its URI', async () => {
    const names = Array.from({ length: 1005 }, (_, i) => `many/repo-${String(i).padStart(4, '0')}`);
    for (const name of names) publicRegistry().state.add(name);
    const before = calls().length;
    const { repositories } = succeeded(await runAction<{ repositories: Array<{ repositoryName: string; repositoryUri: string }> }>(stack().plugin, 'describeRepositories', PUBLIC));
    const many = repositories.filter((r) => r.repositoryName.startsWith('many/'));
    expect(many.map((r) => r.repositoryName)).toEqual(names);
    for (const r of many) expect(r.repositoryUri).toBe(`${host()}/${LOCAL_PUBLIC_ALIAS}/${r.repositoryName}`);
    expect(calls().slice(before).map((c) => c.operation)).toEqual(['DescribeRepositories', 'DescribeRepositories']);
  });

  test('a push creates a public repository with its catalog data and goes to <host>/<alias>/<repoName>; the form\'s defaults are no obstacle', async () => {
    await localImage('kaholo-public-app:1.0');
    const run = await runAction<Transfer>(stack().plugin, 'pushImgaeToRepo', {
      ...PUBLIC,
      region: 'eu-west-2',
      repoName: 'team/app',
      imageName: 'kaholo-public-app:1.0',
      createRepository: true,
      ...FORM_DEFAULTS,
      catalogDescription: 'The app, for everyone',
      catalogAboutText: '# App\n\nIt runs.',
      catalogUsageText: '`docker run app`',
      catalogArchitectures: 'x86-64\narm 64',
      catalogOperatingSystems: 'Linux',
      repositoryTags: 'team=app',
    });
    const pushed = succeeded(run);
    expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(pushed).toEqual({ image: reference('team/app', '1.0'), digest: pushed.digest, registry: host(), tags: ['1.0'] });
    expect(await skopeoDigest(reference('team/app', '1.0'))).toBe(pushed.digest);
    const { state } = publicRegistry();
    const repository = state.repositories.get('team/app');
    expect(repository?.repositoryUri).toBe(`${host()}/${LOCAL_PUBLIC_ALIAS}/team/app`);
    expect(state.catalogs.get('team/app')).toEqual({
      description: 'The app, for everyone',
      aboutText: '# App\n\nIt runs.',
      usageText: '`docker run app`',
      architectures: ['x86-64', 'ARM 64'],
      operatingSystems: ['Linux'],
    });
    expect(state.resourceTags.get(repository?.repositoryArn ?? '')).toEqual([{ Key: 'team', Value: 'app' }]);
    expect(run.output).toContain('Created public repository team/app');
    expect(await hasImage(stack().dockerEnv(), reference('team/app', '1.0'))).toBe(false); // the name it added is gone
    expectNoSecrets(stack(), run.output);
  });

  test.each([
    [{ imageTagMutability: 'IMMUTABLE' }, 'imageTagMutability'],
    [{ encryptionType: 'KMS', kmsKey: 'alias/app' }, 'encryptionType'],
  ])('a push that asks ECR Public for %p is refused, naming it, before any call', async (settings, param) => {
    const before = calls().length;
    const error = failed(await runAction(stack().plugin, 'pushImgaeToRepo', { ...PUBLIC, repoName: 'team/other', imageName: 'kaholo-public-app:1.0', createRepository: true, ...FORM_DEFAULTS, ...settings }));
    expect(error.message).toMatch(new RegExp(`^Parameter "${param}": \\S+ is for private repositories only`));
    expect(calls().length).toBe(before);
    expect(publicRegistry().state.repositories.get('team/other')).toBeUndefined();
  });

  test('a public image named in full is pulled with no credentials anywhere, though the agent keeps a stale login for the host', async () => {
    const ref = reference('team/app', '1.0');
    const { digest } = succeeded(await runAction<Transfer>(stack().plugin, 'pullImage', { ...PUBLIC, repoName: 'team/app', imageName: '1.0' }));
    await removeImage(stack().dockerEnv(), ref);
    const agentFile = path.join(stack().agentDir, 'config.json');
    const stale = JSON.stringify({ auths: { [host()]: { auth: Buffer.from('AWS:an-expired-token').toString('base64') } } });
    await fs.writeFile(agentFile, stale);
    try {
      // The stale login is what docker itself would use: the registry refuses it, as public.ecr.aws does.
      const plain = await execa('docker', ['pull', ref], { env: stack().dockerEnv(), extendEnv: false, reject: false, stdin: 'ignore' });
      expect(plain.exitCode).not.toBe(0);
      expect(plain.stderr).toMatch(/denied: Your authorization token is invalid/);

      const before = calls().length;
      const tokenRequests = publicRegistry().issuer.requests.length;
      // No keys in the action or the settings; no AWS variable, profile or instance role (the stack isolates the environment).
      const run = await runAction<Transfer>(stack().plugin, 'pullImage', { registryType: 'public', accessKeyId: '', secretAccessKey: '', region: '', repoName: 'team/app', imageName: ref });
      expect(succeeded(run)).toEqual({ image: ref, digest, registry: host() });
      expect(run.output).toContain(`No AWS credentials: pulling ${host()}/${LOCAL_PUBLIC_ALIAS}/team/app anonymously`);
      expect(calls().length).toBe(before); // no ECR Public call was signed: there was nothing to sign with
      const asked = publicRegistry().issuer.requests.slice(tokenRequests);
      expect(asked.length).toBeGreaterThan(0);
      for (const request of asked) expect(request.requester).toBeUndefined(); // anonymous tokens only
      expect(await hasImage(stack().dockerEnv(), ref)).toBe(true);

      // By digest too.
      await removeImage(stack().dockerEnv(), ref);
      const byDigest = `${host()}/${LOCAL_PUBLIC_ALIAS}/team/app@${digest}`;
      expect(succeeded(await runAction<Transfer>(stack().plugin, 'pullImage', { registryType: 'public', repoName: 'team/app', imageName: byDigest }))).toEqual({ image: byDigest, digest, registry: host() });
      await removeImage(stack().dockerEnv(), byDigest);
      expect(await fs.readFile(agentFile, 'utf8')).toBe(stale); // the agent's config is the agent's
    } finally {
      await fs.writeFile(agentFile, AGENT_CONFIG, { mode: 0o600 });
    }
  });

  test('with credentials, a pull logs in to the host the token is for; a bare tag is found through DescribeRegistries', async () => {
    const tokenRequests = publicRegistry().issuer.requests.length;
    const run = await runAction<Transfer>(stack().plugin, 'pullImage', { ...PUBLIC, repoName: 'team/app', imageName: '1.0' });
    expect(succeeded(run)).toMatchObject({ image: reference('team/app', '1.0'), registry: host() });
    expect(publicRegistry().issuer.requests.slice(tokenRequests).some((r) => r.requester !== undefined && r.requester !== 'refused' && r.requester.user === 'AWS')).toBe(true);
    expect(run.output).toContain(`Logged in to ${host()}`);
    expectNoSecrets(stack(), run.output);
  });

  test('credentials that cannot log in never stop the pull of a public image named in full: it goes anonymously', async () => {
    const ref = reference('team/app', '1.0');
    const wrongSecret = 'wrong/Secret+Key/for/an/anonymous/pull/0001';
    const tokenRequests = publicRegistry().issuer.requests.length;
    const run = await runAction<Transfer>(stack().plugin, 'pullImage', { ...PUBLIC, secretAccessKey: wrongSecret, repoName: 'team/app', imageName: ref });
    expect(succeeded(run)).toMatchObject({ image: ref, registry: host() });
    expect(run.output).toMatch(new RegExp(`No login to ECR Public \\(ECR Public \\w+ failed: .*\\): pulling ${host()}/${LOCAL_PUBLIC_ALIAS}/team/app anonymously`));
    for (const request of publicRegistry().issuer.requests.slice(tokenRequests)) expect(request.requester).toBeUndefined(); // anonymous tokens only
    expect(run.output).not.toContain(wrongSecret);
    await removeImage(stack().dockerEnv(), ref);
  });

  test('with no credentials, a bare tag is refused with what to write instead', async () => {
    const error = failed(await runAction(stack().plugin, 'pullImage', { registryType: 'public', repoName: 'team/app', imageName: '1.0' }));
    expect(error.message).toBe(
      'Parameter "imageName": with no AWS credentials a public image is pulled anonymously, which needs its full reference, such as "public.ecr.aws/<alias>/team/app:1.0"; or give credentials',
    );
  });
  test('tagImage on a public repository: the manifest read through the registry, byte for byte, put under each tag with ECR Public PutImage', async () => {
    const before = calls().length;
    const run = await runAction<Transfer>(stack().plugin, 'tagImage', { ...PUBLIC, region: 'eu-west-2', repoName: 'team/app', imageName: '1.0', tags: 'stable\nprod' });
    const tagged = succeeded(run);
    const source = await publicRaw(reference('team/app', '1.0'));
    expect(tagged).toEqual({ image: reference('team/app', '1.0'), digest: sha256(source), registry: host(), tags: ['1.0', 'stable', 'prod'] });
    for (const tag of ['stable', 'prod']) expect((await publicRaw(reference('team/app', tag))).equals(source)).toBe(true);
    const made = calls().slice(before);
    expect(made.filter((c) => c.operation === 'PutImage')).toHaveLength(2);
    expect(made.every((c) => c.region === 'us-east-1')).toBe(true);
    expect(stack().ecr.endpoint.calls).toEqual([]); // no BatchGetImage, no private ECR at all
    expectNoSecrets(stack(), run.output, run.error?.message ?? '');
    await expectNoOpenConnections(stack());
  });

  test('a push to a public repository gives the pushed image its additionalTags too', async () => {
    await localImage('kaholo-public-app:1.1');
    const pushed = succeeded(await runAction<Transfer>(stack().plugin, 'pushImgaeToRepo', { ...PUBLIC, repoName: 'team/app', imageName: 'kaholo-public-app:1.1', additionalTags: 'latest, 1' }));
    expect(pushed).toEqual({ image: reference('team/app', '1.1'), digest: pushed.digest, registry: host(), tags: ['1.1', 'latest', '1'] });
    for (const tag of ['1.1', 'latest', '1']) expect(sha256(await publicRaw(reference('team/app', tag)))).toBe(pushed.digest);
  });

  type Copied = Transfer & { source: string; blobs: { copied: number; mounted: number; skipped: number } };

  test('copyImage from a private repository to a public one (targetRegistryType public), the public repository made with its catalog data', async () => {
    // The image in private ECR first, by the plugin's own push.
    const privateHost = stack().ecr.registries[0].host;
    await localImage('kaholo-public-app:2.0');
    succeeded(await runAction(stack().plugin, 'pushImgaeToRepo', { ...VAULT_KEYS, region: 'us-east-1', repoName: 'team/private', imageName: 'kaholo-public-app:2.0', createRepository: true }));
    const privateRaw = await inspectRaw({ host: privateHost, user: 'AWS', password: stack().passwords[0] }, 'team/private:2.0');

    const copied = succeeded(
      await runAction<Copied>(stack().plugin, 'copyImage', {
        ...VAULT_KEYS,
        region: 'us-east-1',
        repoName: 'team/private',
        imageName: '2.0',
        targetRegistryType: 'public',
        targetRepoName: 'copied/app',
        createRepository: true,
        ...FORM_DEFAULTS,
        catalogDescription: 'Copied for everyone',
      }),
    );
    expect(copied).toMatchObject({ image: reference('copied/app', '2.0'), digest: sha256(privateRaw), registry: host(), tags: ['2.0'], source: `${privateHost}/team/private:2.0` });
    expect((await publicRaw(reference('copied/app', '2.0'))).equals(privateRaw)).toBe(true);
    expect(publicRegistry().state.catalogs.get('copied/app')).toEqual({ description: 'Copied for everyone' });
  });

  test('copyImage from a public repository to a private one, and within the public registry (blobs mounted)', async () => {
    const source = await publicRaw(reference('team/app', '1.0'));
    const toPrivate = succeeded(
      await runAction<Copied>(stack().plugin, 'copyImage', { ...PUBLIC, region: 'us-east-1', repoName: 'team/app', imageName: '1.0', targetRegistryType: 'private', targetRepoName: 'from-public/app', createRepository: true }),
    );
    const privateHost = stack().ecr.registries[0].host;
    expect(toPrivate).toMatchObject({ image: `${privateHost}/from-public/app:1.0`, digest: sha256(source), source: reference('team/app', '1.0') });
    expect((await inspectRaw({ host: privateHost, user: 'AWS', password: stack().passwords[0] }, 'from-public/app:1.0')).equals(source)).toBe(true);

    const mirrored = succeeded(await runAction<Copied>(stack().plugin, 'copyImage', { ...PUBLIC, repoName: 'team/app', imageName: '1.0', targetRepoName: 'mirror/app', createRepository: true }));
    expect(mirrored).toMatchObject({ image: reference('mirror/app', '1.0'), digest: sha256(source) });
    expect(mirrored.blobs.copied).toBe(0); // one registry: every blob mounted or already there, none through the agent
    expect((await publicRaw(reference('mirror/app', '1.0'))).equals(source)).toBe(true);
  });

  test('a copy that opens ECR Public once per side (a role for the target) says the region rule once', async () => {
    const before = calls().length;
    const run = await runAction<Copied>(stack().plugin, 'copyImage', {
      ...PUBLIC,
      region: 'eu-west-1',
      repoName: 'team/app',
      imageName: '1.0',
      targetRepoName: 'roled/app',
      targetRoleArn: LOCAL_ROLES.push,
      createRepository: true,
    });
    expect(succeeded(run)).toMatchObject({ image: reference('roled/app', '1.0') });
    const made = calls().slice(before);
    expect(new Set(made.map((c) => c.role))).toEqual(new Set([undefined, LOCAL_ROLES.push])); // two clients: one per side
    expect(made.every((c) => c.region === 'us-east-1')).toBe(true);
    expect((run.output.match(NOTICE) ?? []).length).toBe(1);
  });
});
