/**
 * Repositories and tags without a second upload, end to end: the compiled plugin against the local
 * ECR API endpoint (CreateRepository, BatchGetImage and PutImage backed by the real registry), the
 * real docker CLI and engine. What the registry's own HTTP API shows is the judge: every tag a
 * push or tagImage adds names the very digest, and the manifest is the same bytes.
 */
import { ECRClient, CreateRepositoryCommand, DescribeRepositoriesCommand, ListTagsForResourceCommand, type Repository } from '@aws-sdk/client-ecr';
import execa from 'execa';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import path from 'node:path';
import { describeWithDocker } from '../support/e2e-environment';
import { makeImage, removeImage } from '../../devkit/images';
import { LOCAL_KEYS, LOCAL_REGION } from '../../devkit/local-ecr';
import type { Registry } from '../../devkit/registry';
import { agentEnvironment, startAgentAction } from '../../devkit/agent-process';
import { OCI_INDEX, OCI_MANIFEST } from '../../src/registry/media-types';
import { E2E_TEST_TIMEOUT_MS, SETTINGS, UNSET_CONNECTION, expectNoSecrets, failed, registryManifest, runAction, succeeded, useLocalStack } from './helpers';

jest.setTimeout(E2E_TEST_TIMEOUT_MS);

type Pushed = { image: string; digest: string; registry: string; tags: string[] };

const SMALL = 64 * 1024;

/** How often a text occurs. */
const count = (text: string, part: string): number => text.split(part).length - 1;
const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** One call to the registry's /v2/ API with basic auth (the test's own view, not the plugin's). */
function registryCall(
  registry: Registry,
  password: string,
  method: string,
  url: string,
  body?: { bytes: Buffer; type: string },
): Promise<{ status: number; location?: string }> {
  const auth = Buffer.from(`${registry.user}:${password}`).toString('base64');
  return new Promise((resolve, reject) => {
    const request = http.request(
      new URL(url, registry.url),
      {
        method,
        agent: false,
        timeout: 10_000,
        headers: { Authorization: `Basic ${auth}`, ...(body ? { 'Content-Type': body.type, 'Content-Length': String(body.bytes.length) } : {}) },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, location: response.headers.location }));
      },
    );
    request.on('timeout', () => request.destroy(new Error('registry did not answer')));
    request.on('error', reject);
    request.end(body?.bytes);
  });
}

/** Uploads a blob (monolithic: POST then PUT with its digest); returns its descriptor. */
async function uploadBlob(registry: Registry, password: string, repository: string, bytes: Buffer, mediaType: string) {
  const started = await registryCall(registry, password, 'POST', `/v2/${repository}/blobs/uploads/`);
  if (started.status !== 202 || !started.location) throw new Error(`blob upload did not start: HTTP ${started.status}`);
  const digest = sha256(bytes);
  const location = new URL(started.location, registry.url);
  location.searchParams.set('digest', digest);
  const done = await registryCall(registry, password, 'PUT', location.toString(), { bytes, type: 'application/octet-stream' });
  if (done.status !== 201) throw new Error(`blob upload failed: HTTP ${done.status}`);
  return { mediaType, digest, size: bytes.length };
}

async function putManifest(registry: Registry, password: string, repository: string, reference: string, bytes: Buffer, type: string): Promise<void> {
  const { status } = await registryCall(registry, password, 'PUT', `/v2/${repository}/manifests/${reference}`, { bytes, type });
  if (status !== 201) throw new Error(`manifest PUT ${repository}:${reference} failed: HTTP ${status}`);
}

/** A two-platform OCI image built through the registry's API: its index under `tag`; returns the index bytes. */
async function pushOciIndex(registry: Registry, password: string, repository: string, tag: string): Promise<Buffer> {
  const manifests = [];
  for (const architecture of ['amd64', 'arm64']) {
    const layer = await uploadBlob(registry, password, repository, randomBytes(4096), 'application/vnd.oci.image.layer.v1.tar');
    const configBytes = Buffer.from(JSON.stringify({ architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } }));
    const config = await uploadBlob(registry, password, repository, configBytes, 'application/vnd.oci.image.config.v1+json');
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] }));
    await putManifest(registry, password, repository, sha256(manifest), manifest, OCI_MANIFEST);
    manifests.push({ mediaType: OCI_MANIFEST, digest: sha256(manifest), size: manifest.length, platform: { architecture, os: 'linux' } });
  }
  // Indented on purpose: a re-serialised manifest would have another digest.
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }, null, 3));
  await putManifest(registry, password, repository, tag, index, OCI_INDEX);
  return index;
}

describeWithDocker('repositories and tags without a second upload (local ECR API endpoint, real registry, real Docker engine)', (e2e) => {
  const stack = useLocalStack({ accounts: 1, e2e });
  const images: string[] = [];
  let ecr: ECRClient;

  beforeAll(() => {
    ecr = new ECRClient({ region: LOCAL_REGION, credentials: LOCAL_KEYS, endpoint: stack().ecr.env.AWS_ENDPOINT_URL_ECR });
  });
  afterAll(async () => {
    ecr.destroy();
    for (const image of images) await removeImage(stack().dockerEnv(), image);
  });

  const registry = (): Registry => stack().ecr.registries[0];
  const password = (): string => stack().passwords[0];
  const calls = (operation: string): number => stack().ecr.endpoint.calls.filter((c) => c.operation === operation).length;
  const digestOf = async (repository: string, tag: string): Promise<string | undefined> =>
    (await registryManifest(registry(), password(), repository, tag)).digest;
  const repositoryOf = async (name: string): Promise<Repository> =>
    (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }))).repositories?.[0] ?? {};
  const image = async (name: string): Promise<string> => {
    const id = await makeImage(stack().dockerEnv(), name, SMALL);
    images.push(id);
    return id;
  };
  const push = (params: Record<string, unknown>) =>
    runAction<Pushed>(stack().plugin, 'pushImgaeToRepo', { ...UNSET_CONNECTION, ...params }, SETTINGS);
  const tagImage = (params: Record<string, unknown>) =>
    runAction<Pushed>(stack().plugin, 'tagImage', { ...UNSET_CONNECTION, ...params }, SETTINGS);

  test('a first push creates the repository with every setting; a later push leaves it as it is', async () => {
    await image('local/fresh:1.0');
    const creates = calls('CreateRepository');
    const kmsKey = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const first = await push({
      repoName: 'fresh/app',
      imageName: 'local/fresh:1.0',
      createRepository: true,
      imageTagMutability: 'IMMUTABLE',
      scanOnPush: 'false',
      encryptionType: 'KMS',
      kmsKey,
      repositoryTags: 'team=payments\ncost-center=42',
    });
    const pushed = succeeded(first);
    expect(first.output).toContain('Created repository fresh/app');
    const created = await repositoryOf('fresh/app');
    expect(created).toMatchObject({
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: false },
      encryptionConfiguration: { encryptionType: 'KMS', kmsKey },
    });
    const { tags } = await ecr.send(new ListTagsForResourceCommand({ resourceArn: created.repositoryArn }));
    expect(tags).toEqual([{ Key: 'team', Value: 'payments' }, { Key: 'cost-center', Value: '42' }]);
    expect(await digestOf('fresh/app', '1.0')).toBe(pushed.digest);

    // Asked again with other settings: the repository exists, so nothing about it changes.
    await image('local/fresh:1.1');
    const second = await push({ repoName: 'fresh/app', imageName: 'local/fresh:1.1', createRepository: 'true', repositoryTags: 'team=other' });
    succeeded(second);
    expect(second.output).toContain('Repository fresh/app already exists; its settings are left as they are');
    expect(await repositoryOf('fresh/app')).toEqual(created);
    expect((await ecr.send(new ListTagsForResourceCommand({ resourceArn: created.repositoryArn }))).tags).toEqual(tags);
    expect(calls('CreateRepository') - creates).toBe(2);
    expectNoSecrets(stack(), first.output, second.output);
  });

  test('two first pushes at once both succeed: one creates the repository, the other finds it', async () => {
    await image('local/race:a');
    await image('local/race:b');
    // The endpoint answers neither CreateRepository until both have arrived: both pushes are first.
    stack().ecr.endpoint.gate('CreateRepository', 2, 20_000);
    const creates = calls('CreateRepository');
    const env = agentEnvironment({ ...stack().ecr.env, TMPDIR: stack().tmpDir });
    const actions = ['a', 'b'].map((tag) =>
      startAgentAction(
        { method: 'pushImgaeToRepo', params: { ...UNSET_CONNECTION, repoName: 'race/app', imageName: `local/race:${tag}`, createRepository: true }, settings: SETTINGS },
        env,
      ),
    );
    const outcomes = await Promise.all(actions.map((a) => a.finished));

    for (const outcome of outcomes) expect(outcome.error).toBeUndefined();
    const logs = outcomes.map((o) => o.output);
    expect(logs.filter((log) => log.includes('Created repository race/app'))).toHaveLength(1);
    expect(logs.filter((log) => log.includes('Repository race/app already exists'))).toHaveLength(1);
    expect(calls('CreateRepository') - creates).toBe(2);
    for (const [index, tag] of ['a', 'b'].entries()) {
      expect(await digestOf('race/app', tag)).toBe((outcomes[index].result as Pushed).digest);
    }
  });

  test('a push with additional tags: one docker push, every tag at the pushed digest, pullable; the same push again is fine', async () => {
    stack().ecr.endpoint.createRepositories(['tags/app']);
    await image('local/tags:1.4.2');
    const params = { repoName: 'tags/app', imageName: 'local/tags:1.4.2', additionalTags: 'latest, sha-3f9c1e2\nrc' };
    const before = { put: calls('PutImage'), get: calls('BatchGetImage') };

    const run = await push(params);
    const pushed = succeeded(run);

    expect(pushed).toEqual({
      image: `${registry().host}/tags/app:1.4.2`,
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) as unknown,
      registry: registry().host,
      tags: ['1.4.2', 'latest', 'sha-3f9c1e2', 'rc'],
    });
    for (const tag of pushed.tags) expect(await digestOf('tags/app', tag)).toBe(pushed.digest);
    // docker pushed once (its output streams to the log); the other tags went through the ECR API.
    expect(count(run.output, 'The push refers to repository')).toBe(1);
    expect(calls('BatchGetImage') - before.get).toBe(1);
    expect(calls('PutImage') - before.put).toBe(3);
    expect(run.output).toContain(`Tagged tags/app@${pushed.digest} as sha-3f9c1e2`);

    // The same push again: the tags already name that digest, which is fine.
    const again = await push(params);
    expect(succeeded(again)).toEqual(pushed);
    expect(count(again.output, 'already names')).toBe(3);

    // A tag added by PutImage is an ordinary tag to docker: pull it.
    const pull = await runAction<Pushed>(stack().plugin, 'pullImage', { ...UNSET_CONNECTION, repoName: 'tags/app', imageName: 'sha-3f9c1e2' }, SETTINGS);
    expect(succeeded(pull)).toEqual({ image: `${registry().host}/tags/app:sha-3f9c1e2`, digest: pushed.digest, registry: registry().host });
    await removeImage(stack().dockerEnv(), `${registry().host}/tags/app:sha-3f9c1e2`);
    expectNoSecrets(stack(), run.output, again.output, JSON.stringify(pushed));
  });

  test('an IMMUTABLE repository: a tag held by another image is an error naming the tag, and stays where it was', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'locked/app', imageTagMutability: 'IMMUTABLE' }));
    await image('local/locked:1.0');
    await image('local/locked:2.0');
    const first = succeeded(await push({ repoName: 'locked/app', imageName: 'local/locked:1.0', additionalTags: 'stable' }));
    expect(first.tags).toEqual(['1.0', 'stable']);

    const second = await push({ repoName: 'locked/app', imageName: 'local/locked:2.0', additionalTags: 'stable' });
    const pushed = await digestOf('locked/app', '2.0');
    expect(pushed).not.toBe(first.digest);
    // One line: the refusal, then that the image was pushed, its digest, and which tags are in place.
    expect(failed(second).message).toBe(
      'Parameter "additionalTags": tag "stable" already names another image in repository "locked/app", whose tags are immutable; choose another tag. ' +
        `The image itself was pushed to "locked/app" with digest ${pushed}; tags in place (verified): "2.0"; not in place: "stable"`,
    );
    expect(await digestOf('locked/app', 'stable')).toBe(first.digest);
  });

  test('tagImage on a single-platform image, by tag and by digest; a missing source names imageName', async () => {
    stack().ecr.endpoint.createRepositories(['promote/app']);
    await image('local/promote:rc');
    const pushed = succeeded(await push({ repoName: 'promote/app', imageName: 'local/promote:rc' }));

    const byTag = succeeded(await tagImage({ repoName: 'promote/app', imageName: 'rc', tags: 'prod\n1.4' }));
    expect(byTag).toEqual({ image: `${registry().host}/promote/app:rc`, digest: pushed.digest, registry: registry().host, tags: ['rc', 'prod', '1.4'] });
    const byDigest = succeeded(await tagImage({ repoName: 'promote/app', imageName: `promote/app@${pushed.digest}`, tags: ['pinned'] }));
    expect(byDigest).toEqual({ image: `${registry().host}/promote/app@${pushed.digest}`, digest: pushed.digest, registry: registry().host, tags: ['pinned'] });
    // A digest alone, as the ECR console and the push's result write it, and with the "@" of a reference.
    for (const [imageName, tag] of [[pushed.digest, 'console'], [`@${pushed.digest}`, 'at']]) {
      const alone = succeeded(await tagImage({ repoName: 'promote/app', imageName, tags: tag }));
      expect(alone).toEqual({ image: `${registry().host}/promote/app@${pushed.digest}`, digest: pushed.digest, registry: registry().host, tags: [tag] });
    }
    for (const tag of ['prod', '1.4', 'pinned', 'console', 'at']) expect(await digestOf('promote/app', tag)).toBe(pushed.digest);
    // Pull reads it the same way.
    const pulled = succeeded(await runAction<Pushed>(stack().plugin, 'pullImage', { ...UNSET_CONNECTION, repoName: 'promote/app', imageName: pushed.digest }, SETTINGS));
    expect(pulled).toEqual({ image: `${registry().host}/promote/app@${pushed.digest}`, digest: pushed.digest, registry: registry().host });
    await removeImage(stack().dockerEnv(), `${registry().host}/promote/app@${pushed.digest}`);
    const rcBody = (await registryManifest(registry(), password(), 'promote/app', 'rc')).body;
    expect((await registryManifest(registry(), password(), 'promote/app', 'prod')).body).toBe(rcBody);

    const missing = await tagImage({ repoName: 'promote/app', imageName: 'nope', tags: 'prod' });
    expect(failed(missing).message).toBe('Parameter "imageName": "nope" is not in repository "promote/app" (ImageNotFound: Requested image not found)');
  });

  describe('a tag counts only once the registry was seen to hold it', () => {
    afterEach(() => stack().ecr.endpoint.setPutImageAnswers('ecr'));

    test('PutImage answering 200 with an empty body and tagging nothing: tagImage fails naming the tag, push says what is in place', async () => {
      stack().ecr.endpoint.createRepositories(['verify/app']);
      await image('local/verify:rc');
      const pushed = succeeded(await push({ repoName: 'verify/app', imageName: 'local/verify:rc' }));
      stack().ecr.endpoint.setPutImageAnswers('empty-untagged');

      const tagged = await tagImage({ repoName: 'verify/app', imageName: 'rc', tags: 'prod' });
      expect(tagged.result).toBeUndefined();
      expect(failed(tagged).message).toBe(
        'Tag "prod" is not in place: ECR PutImage answered without the image it stored, but reading the tag back (BatchGetImage) found no such tag',
      );
      expect(tagged.output).not.toContain('Tagged');
      expect(await digestOf('verify/app', 'prod')).toBeUndefined();

      await image('local/verify:2.0');
      const again = await push({ repoName: 'verify/app', imageName: 'local/verify:2.0', additionalTags: 'stable' });
      const digest = await digestOf('verify/app', '2.0');
      expect(digest).toMatch(/^sha256:/);
      expect(digest).not.toBe(pushed.digest);
      expect(failed(again).message).toBe(
        'Tag "stable" is not in place: ECR PutImage answered without the image it stored, but reading the tag back (BatchGetImage) found no such tag. ' +
          `The image itself was pushed to "verify/app" with digest ${digest}; tags in place (verified): "2.0"; not in place: "stable"`,
      );
      expect(await digestOf('verify/app', 'stable')).toBeUndefined();
    });

    test('PutImage answering 200 with an empty body but tagging: the tag is read back, and counts', async () => {
      stack().ecr.endpoint.createRepositories(['lenient/app']);
      await image('local/lenient:rc');
      const pushed = succeeded(await push({ repoName: 'lenient/app', imageName: 'local/lenient:rc' }));
      stack().ecr.endpoint.setPutImageAnswers('empty');
      const reads = calls('BatchGetImage');
      const run = await tagImage({ repoName: 'lenient/app', imageName: 'rc', tags: 'prod' });
      expect(succeeded(run)).toMatchObject({ digest: pushed.digest, tags: ['rc', 'prod'] });
      expect(run.output).toContain(`Tagged lenient/app@${pushed.digest} as prod (PutImage answered without the image it stored; the tag was read back)`);
      expect(calls('BatchGetImage') - reads).toBe(2); // the image, then the tag
      expect(await digestOf('lenient/app', 'prod')).toBe(pushed.digest);
    });

    test('an immutable tag answered with ImageAlreadyExistsException, as moto answers it: an error naming the tag, never a success', async () => {
      await ecr.send(new CreateRepositoryCommand({ repositoryName: 'moto/app', imageTagMutability: 'IMMUTABLE' }));
      await image('local/moto:1.0');
      await image('local/moto:2.0');
      const first = succeeded(await push({ repoName: 'moto/app', imageName: 'local/moto:1.0', additionalTags: 'stable' }));
      succeeded(await push({ repoName: 'moto/app', imageName: 'local/moto:2.0' }));
      stack().ecr.endpoint.setPutImageAnswers('moto');

      const run = await tagImage({ repoName: 'moto/app', imageName: '2.0', tags: 'stable' });
      expect(run.result).toBeUndefined();
      expect(failed(run).message).toBe(
        'Parameter "tags": tag "stable" already names another image in repository "moto/app", whose tags are immutable; choose another tag',
      );
      expect(await digestOf('moto/app', 'stable')).toBe(first.digest);
    });
  });

  test('tagImage on a multi-platform OCI index: the new tag names the index, byte for byte', async () => {
    stack().ecr.endpoint.createRepositories(['multi/app']);
    const index = await pushOciIndex(registry(), password(), 'multi/app', 'multi');

    const tagged = succeeded(await tagImage({ repoName: 'multi/app', imageName: 'multi', tags: 'multi-prod' }));

    expect(tagged).toEqual({ image: `${registry().host}/multi/app:multi`, digest: sha256(index), registry: registry().host, tags: ['multi', 'multi-prod'] });
    const manifest = await registryManifest(registry(), password(), 'multi/app', 'multi-prod');
    expect(manifest.digest).toBe(sha256(index));
    expect(manifest.body).toBe(index.toString('utf8'));
    expect((JSON.parse(manifest.body) as { mediaType: string }).mediaType).toBe(OCI_INDEX);
  });

  test('tagImage needs no Docker at all: no docker on PATH, DOCKER_HOST pointing nowhere', async () => {
    stack().ecr.endpoint.createRepositories(['nodocker/app']);
    await image('local/nodocker:rc');
    const pushed = succeeded(await push({ repoName: 'nodocker/app', imageName: 'local/nodocker:rc' }));
    const emptyBin = await fs.mkdtemp(path.join(stack().tmpDir, 'empty-bin-'));
    try {
      const env = agentEnvironment({ ...stack().ecr.env, TMPDIR: stack().tmpDir, PATH: emptyBin, DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
      // Docker cannot be reached from this environment at all.
      await expect(execa('docker', ['version'], { env, extendEnv: false, stdin: 'ignore' })).rejects.toThrow(/ENOENT/);

      const outcome = await startAgentAction({ method: 'tagImage', params: { ...UNSET_CONNECTION, repoName: 'nodocker/app', imageName: 'rc', tags: 'prod' }, settings: SETTINGS }, env).finished;

      expect(outcome.error).toBeUndefined();
      expect(outcome.result).toEqual({ image: `${registry().host}/nodocker/app:rc`, digest: pushed.digest, registry: registry().host, tags: ['rc', 'prod'] });
      expect(await digestOf('nodocker/app', 'prod')).toBe(pushed.digest);
    } finally {
      await fs.rm(emptyBin, { recursive: true, force: true });
    }
  });
});
