/**
 * copyImage end to end: the compiled plugin, the real AWS SDK against the ECR stand-in (two
 * accounts in two regions, STS roles), real registries (Debian's docker-registry) behind the
 * tokens, and the kit's fronts where a registry must redirect blob downloads to another host (as
 * ECR does to S3) or serve the OCI referrers API. Debian's skopeo, a client the plugin did not
 * write, is the judge of what each copy left in the target.
 *
 *   account A (123456789012) us-east-1: front redirecting blob GETs to a storage host that, as S3,
 *                                       refuses a request that carries Authorization; no referrers API
 *   account B (210987654321) us-east-1: the bare registry (no referrers API: the tag schema)
 *   account A eu-west-2:                the bare registry
 *   account B eu-west-2:                front with the referrers API and redirected blob GETs
 */
import execa from 'execa';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { agentEnvironment, startAgentAction, type AgentOutcome } from '../../devkit/agent-process';
import { LOCAL_KEYS, LOCAL_REGION, LOCAL_ROLES, LOCAL_SECOND_REGION, type RegistryPlace } from '../../devkit/local-ecr';
import { OCI_MANIFEST, registryRequest, sha256, writeImage, writeIndex, writeReferrer, type RegistryAccess } from '../../devkit/oci-images';
import type { RegistryFront } from '../../devkit/registry-front';
import { exists, fetchAll, inspectRaw, type SkopeoLogin } from '../../devkit/skopeo';
import { describeWithDocker, isCi, type E2eEnvironment } from '../support/e2e-environment';
import { E2E_TEST_TIMEOUT_MS, SETTINGS, failed, runAction, succeeded, useLocalStack, type ActionRun } from './helpers';

jest.setTimeout(E2E_TEST_TIMEOUT_MS);

const A = '123456789012';
const B = '210987654321';
const MiB = 1024 * 1024;
const SIGNATURE = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const SBOM = 'application/spdx+json';

interface Copied {
  image: string;
  digest: string;
  registry: string;
  tags: string[];
  source: string;
  platforms: number;
  referrers: number;
  blobs: { copied: number; mounted: number; skipped: number; bytes: number };
}

/** skopeo judges what the copies left: without it the file skips with a line, and fails under CI=true. */
const SKOPEO = execa.sync('skopeo', ['--version'], { reject: false, stdin: 'ignore' }).exitCode === 0;
if (!SKOPEO && isCi()) throw new Error('CI=true but skopeo is not installed: CI must run the copy tests (apt-get install skopeo)');
if (!SKOPEO) process.stderr.write('copy tests: skipped — skopeo is not installed (apt-get install skopeo)\n');
const describeCopies = SKOPEO ? describeWithDocker : (name: string, body: (e2e: () => E2eEnvironment) => void): void => describe.skip(name, () => body(() => { throw new Error('no skopeo'); }));
describeCopies('copyImage across repositories, accounts and regions (ECR stand-in, real registries, skopeo as the judge)', (e2e) => {
  const stack = useLocalStack({
    accounts: 2,
    regions: [LOCAL_REGION, LOCAL_SECOND_REGION],
    e2e,
    front: (account, region) => {
      if (account === A && region === LOCAL_REGION) return { redirectBlobs: true };
      if (account === B && region === LOCAL_SECOND_REGION) return { redirectBlobs: true, referrers: true };
      return undefined;
    },
  });

  const place = (account: string, region = LOCAL_REGION): RegistryPlace => stack().ecr.place(account, region);
  const access = (p: RegistryPlace): RegistryAccess => ({ url: p.url, user: 'AWS', password: p.password });
  const login = (p: RegistryPlace): SkopeoLogin => ({ host: p.host, user: 'AWS', password: p.password });
  const front = (p: RegistryPlace): RegistryFront => {
    if (!p.front) throw new Error(`no front for ${p.accountId} in ${p.region}`);
    return p.front;
  };
  const copy = (params: Record<string, unknown>): Promise<ActionRun<Copied>> => runAction<Copied>(stack().plugin, 'copyImage', params, SETTINGS);
  /** Every secret of the stack: registry passwords and tokens of every registry, the secret key, the external id. */
  const secrets = (): string[] => [
    ...stack().ecr.places.flatMap((p) => [p.password, Buffer.from(`AWS:${p.password}`).toString('base64')]),
    LOCAL_KEYS.secretAccessKey,
    LOCAL_ROLES.partnerExternalId,
    ...Object.values(stack().ecr.endpoints).flatMap((e) => e.calls.flatMap((c) => (c.sessionToken ? [c.sessionToken] : []))),
  ];
  const expectNoSecretIn = (...texts: string[]): void => {
    for (const secret of secrets()) for (const text of texts) expect(text.includes(secret)).toBe(false);
  };
  const digestOf = async (p: RegistryPlace, reference: string): Promise<string> => sha256(await inspectRaw(login(p), reference));
  /** The descriptors the tag schema's index of `subject` lists in `repository`. */
  const tagIndex = async (p: RegistryPlace, repository: string, subject: string): Promise<string[]> => {
    const index = JSON.parse((await inspectRaw(login(p), `${repository}:${subject.replace(':', '-')}`)).toString('utf8')) as { manifests: Array<{ digest: string }> };
    return index.manifests.map((m) => m.digest).sort();
  };

  beforeAll(() => {
    const { endpoints } = stack().ecr;
    endpoints[LOCAL_REGION].createRepositories(['team/app', 'prod/app'], A);
    endpoints[LOCAL_REGION].createRepositories(['prod/app'], B);
    endpoints[LOCAL_SECOND_REGION].createRepositories(['prod/app', 'signed/app'], A);
    endpoints[LOCAL_SECOND_REGION].createRepositories(['team/app', 'prod/app', 'rerun/app', 'retry/app', 'term/app'], B);
  });

  test('across repositories of one registry: every blob mounted, < 1% of the image’s bytes through the agent; skopeo finds the same digest', async () => {
    const source = place(A);
    const image = await writeImage(access(source), 'team/app', 'mount-1.0', [2 * MiB, 2 * MiB, 2 * MiB]);
    const imageBytes = image.blobs.reduce((sum, b) => sum + b.size, 0) + image.size;
    const mark = front(source).requests.length;

    const run = await copy({ repoName: 'team/app', imageName: 'mount-1.0', targetRepoName: 'prod/app', targetTags: 'mount-1.0' });

    const result = succeeded(run);
    expect(result).toEqual({
      image: `${source.host}/prod/app:mount-1.0`,
      digest: image.digest,
      registry: source.host,
      tags: ['mount-1.0'],
      source: `${source.host}/team/app:mount-1.0`,
      platforms: 1,
      referrers: 0,
      blobs: { copied: 0, mounted: 4, skipped: 0, bytes: 0 },
    });
    const traffic = front(source).requests.slice(mark);
    const moved = traffic.reduce((sum, r) => sum + r.bytesIn + r.bytesOut, 0);
    expect(traffic.filter((r) => r.method === 'POST' && r.status === 201)).toHaveLength(4); // the mounts
    expect(traffic.filter((r) => r.method === 'PATCH' || r.host === 'storage')).toEqual([]);
    expect(moved / imageBytes).toBeLessThan(0.01);
    expect(await digestOf(source, 'prod/app:mount-1.0')).toBe(image.digest);
    expect(run.output).toMatch(/Mounted sha256:[0-9a-f]{12}… \(2\.0 MiB\) from team\/app/);
    // The SDK's connections are closed when the action ends.
    const deadline = Date.now() + 3_000;
    while (stack().ecr.openConnections() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stack().ecr.openConnections()).toBe(0);
  });

  test('across accounts with a role per side: the target role’s account by default, its repository created, the image streamed in chunks, its referrer listed by the tag schema', async () => {
    const source = place(A);
    const target = place(B);
    const image = await writeImage(access(source), 'team/app', 'x-1.0', [17 * MiB, MiB]);
    const signature = await writeReferrer(access(source), 'team/app', image, SIGNATURE, Buffer.from('signature'));
    const marks = { calls: stack().ecr.endpoint.calls.length, assumed: stack().ecr.endpoint.assumeRoleCalls.length, storage: front(source).requests.length };

    const run = await copy({
      repoName: 'team/app',
      imageName: 'x-1.0',
      roleArn: LOCAL_ROLES.push,
      targetRoleArn: LOCAL_ROLES.partner,
      targetRoleExternalId: LOCAL_ROLES.partnerExternalId,
      targetRepoName: 'promoted/app',
      targetTags: '1.0, prod',
      createRepository: true,
      imageTagMutability: 'IMMUTABLE',
    });

    const result = succeeded(run);
    expect(result).toMatchObject({ image: `${target.host}/promoted/app:1.0`, digest: image.digest, registry: target.host, tags: ['1.0', 'prod'], referrers: 1 });
    expect(result.blobs).toEqual({ copied: 5, mounted: 0, skipped: 0, bytes: [...image.blobs, ...signature.blobs].reduce((sum, b) => sum + b.size, 0) });
    // Each side's calls with its own role: the source's with the push role, the target's with the partner role.
    const endpoint = stack().ecr.endpoint;
    expect(endpoint.assumeRoleCalls.slice(marks.assumed).map((c) => [c.roleArn, c.externalId])).toEqual(
      expect.arrayContaining([
        [LOCAL_ROLES.push, undefined],
        [LOCAL_ROLES.partner, LOCAL_ROLES.partnerExternalId],
      ]),
    );
    expect(endpoint.calls.slice(marks.calls).map((c) => [c.operation, c.role]).sort()).toEqual([
      ['CreateRepository', LOCAL_ROLES.partner],
      ['GetAuthorizationToken', LOCAL_ROLES.push],
      ['GetAuthorizationToken', LOCAL_ROLES.partner],
    ]);
    expect(run.output).toContain('Created repository promoted/app (tags IMMUTABLE');
    // What skopeo sees in the target: both tags at the digest, every blob there with its digest, the referrer listed.
    expect(await digestOf(target, 'promoted/app:1.0')).toBe(image.digest);
    expect(await digestOf(target, 'promoted/app:prod')).toBe(image.digest);
    expect(await fetchAll(login(target), 'promoted/app:1.0')).toEqual(expect.arrayContaining(image.blobs.map((b) => b.digest)));
    expect(await tagIndex(target, 'promoted/app', image.digest)).toEqual([signature.digest]);
    expect(await digestOf(target, `promoted/app@${signature.digest}`)).toBe(signature.digest);
    // The blobs came from the storage host the registry redirected to, which never saw the registry's Authorization.
    const storage = front(source).requests.slice(marks.storage).filter((r) => r.host === 'storage');
    expect(storage.length).toBe(5);
    expect(storage.map((r) => [r.status, r.authorization])).toEqual(storage.map(() => [200, false]));
    expectNoSecretIn(run.output, JSON.stringify(result));
  });

  test('across regions, an index: the same digest, byte for byte, and every platform with every blob', async () => {
    const source = place(A);
    const target = place(A, LOCAL_SECOND_REGION);
    const index = await writeIndex(access(source), 'team/app', 'idx-1.0', [MiB, 512 * 1024]);
    const marks = { home: stack().ecr.endpoints[LOCAL_REGION].calls.length, second: stack().ecr.endpoints[LOCAL_SECOND_REGION].calls.length };

    const run = await copy({ repoName: 'team/app', imageName: 'idx-1.0', targetRegion: { id: LOCAL_SECOND_REGION, value: 'eu-west-2 (Europe, London)' }, targetRepoName: 'prod/app' });

    const result = succeeded(run);
    expect(result).toMatchObject({ digest: index.digest, registry: target.host, tags: ['idx-1.0'], platforms: 2, blobs: { copied: 6 } });
    expect(stack().ecr.endpoints[LOCAL_REGION].calls.slice(marks.home).map((c) => [c.operation, c.region])).toEqual([['GetAuthorizationToken', LOCAL_REGION]]);
    expect(stack().ecr.endpoints[LOCAL_SECOND_REGION].calls.slice(marks.second).map((c) => [c.operation, c.region])).toEqual([['GetAuthorizationToken', LOCAL_SECOND_REGION]]);
    expect((await inspectRaw(login(target), 'prod/app:idx-1.0')).equals(index.bytes)).toBe(true);
    for (const child of index.children) expect((await inspectRaw(login(target), `prod/app@${child.digest}`)).equals(child.bytes)).toBe(true);
    const fetched = await fetchAll(login(target), 'prod/app:idx-1.0');
    expect(fetched).toEqual(expect.arrayContaining([index.digest, ...index.children.map((c) => c.digest), ...index.blobs.map((b) => b.digest)]));
  });

  test('referrers found through the referrers API (signature, SBOM, the SBOM’s signature) reach a registry without it as the tag schema', async () => {
    const source = place(B, LOCAL_SECOND_REGION);
    const target = place(A, LOCAL_SECOND_REGION);
    const image = await writeImage(access(source), 'team/app', 'r-1.0', [MiB]);
    const signature = await writeReferrer(access(source), 'team/app', image, SIGNATURE, Buffer.from('signature of the image'));
    const sbom = await writeReferrer(access(source), 'team/app', image, SBOM, Buffer.from('{"spdxVersion":"SPDX-2.3"}'));
    const sbomSignature = await writeReferrer(access(source), 'team/app', sbom, SIGNATURE, Buffer.from('signature of the SBOM'));
    // The source keeps them itself: no tag-schema index there.
    expect(await exists(login(source), `team/app:${image.digest.replace(':', '-')}`)).toBe(false);

    const run = await copy({ region: LOCAL_SECOND_REGION, registryId: B, repoName: 'team/app', imageName: 'r-1.0', targetRegistryId: A, targetRepoName: 'signed/app' });

    expect(succeeded(run)).toMatchObject({ digest: image.digest, registry: target.host, referrers: 3 });
    expect(run.output).toContain('3 referrers (found through the referrers API)');
    expect(await tagIndex(target, 'signed/app', image.digest)).toEqual([signature.digest, sbom.digest].sort());
    expect(await tagIndex(target, 'signed/app', sbom.digest)).toEqual([sbomSignature.digest]);
    for (const referrer of [signature, sbom, sbomSignature]) expect(await digestOf(target, `signed/app@${referrer.digest}`)).toBe(referrer.digest);
  });

  test('referrers found through the tag schema reach a registry with the referrers API, which lists them itself', async () => {
    const source = place(A);
    const target = place(B, LOCAL_SECOND_REGION);
    const image = await writeImage(access(source), 'team/app', 't-1.0', [MiB]);
    const signature = await writeReferrer(access(source), 'team/app', image, SIGNATURE, Buffer.from('signature'));
    expect(await exists(login(source), `team/app:${image.digest.replace(':', '-')}`)).toBe(true);

    const run = await copy({ repoName: 'team/app', imageName: 't-1.0', targetRegion: LOCAL_SECOND_REGION, targetRegistryId: B, targetRepoName: 'prod/app' });

    expect(succeeded(run)).toMatchObject({ digest: image.digest, referrers: 1 });
    expect(run.output).toContain('1 referrer (found through the sha256-<hex> tag schema)');
    const listed = await registryRequest(access(target), 'GET', `/v2/prod/app/referrers/${image.digest}`);
    expect((JSON.parse(listed.body.toString('utf8')) as { manifests: Array<{ digest: string; artifactType: string }> }).manifests).toEqual([
      expect.objectContaining({ digest: signature.digest, artifactType: SIGNATURE, mediaType: OCI_MANIFEST }),
    ]);
    expect(await exists(login(target), `prod/app:${image.digest.replace(':', '-')}`)).toBe(false);
  });

  test('a referrer deleted from the source but still in its tag-schema index is left out with a line; the copy completes with the others', async () => {
    const source = place(A);
    const target = place(B);
    const image = await writeImage(access(source), 'team/app', 'stale-1.0', [MiB]);
    const kept = await writeReferrer(access(source), 'team/app', image, SIGNATURE, Buffer.from('the signature kept'));
    const deleted = await writeReferrer(access(source), 'team/app', image, SIGNATURE, Buffer.from('the signature deleted'));
    expect((await registryRequest(access(source), 'DELETE', `/v2/team/app/manifests/${deleted.digest}`)).status).toBe(202);
    // A delete does not touch the index: it still lists the deleted signature.
    expect(await tagIndex(source, 'team/app', image.digest)).toEqual([kept.digest, deleted.digest].sort());

    const run = await copy({ repoName: 'team/app', imageName: 'stale-1.0', targetRegistryId: B, targetRepoName: 'prod/app' });

    expect(succeeded(run)).toMatchObject({ digest: image.digest, registry: target.host, referrers: 1 });
    expect(run.output).toContain(`Left out ${deleted.digest.slice(0, 19)}…, which ${source.host}/team/app lists as a referrer of ${image.digest.slice(0, 19)}… but does not hold`);
    expect(await tagIndex(target, 'prod/app', image.digest)).toEqual([kept.digest]);
    expect(await digestOf(target, 'prod/app:stale-1.0')).toBe(image.digest);
  });

  test('a failure mid-copy leaves no tag; a rerun skips what is there and completes', async () => {
    const source = place(A);
    const target = place(B, LOCAL_SECOND_REGION);
    const image = await writeImage(access(source), 'team/app', 'rerun-1.0', [MiB, MiB, MiB]);
    const params = { repoName: 'team/app', imageName: 'rerun-1.0', targetRegion: LOCAL_SECOND_REGION, targetRegistryId: B, targetRepoName: 'rerun/app', transferAttempts: '1' };

    // The upload of one blob is cut off: the copy fails, no tag.
    front(target).fail({ match: /^PATCH \/v2\/rerun\/app\/blobs\/uploads\//, count: 1, fault: 'reset' });
    expect(failed(await copy(params)).message).toMatch(/PATCH 127\.0\.0\.1:\d+\/v2\/rerun\/app\/blobs\/uploads\/\S+ failed: ECONNRESET/);
    expect(await exists(login(target), 'rerun/app:rerun-1.0')).toBe(false);
    // Then all the blobs but the manifest's PUT: fails again, still no tag.
    front(target).fail({ match: /^PUT \/v2\/rerun\/app\/manifests\/sha256:/, count: 1, fault: 'reset' });
    const second = await copy(params);
    expect(failed(second).message).toMatch(/PUT 127\.0\.0\.1:\d+\/v2\/rerun\/app\/manifests\/sha256:[0-9a-f]{64} failed: ECONNRESET/);
    expect(await exists(login(target), 'rerun/app:rerun-1.0')).toBe(false);

    const rerun = await copy(params);
    expect(succeeded(rerun).blobs).toEqual({ copied: 0, mounted: 0, skipped: 4, bytes: 0 });
    expect(await digestOf(target, 'rerun/app:rerun-1.0')).toBe(image.digest);
    expect(await fetchAll(login(target), 'rerun/app:rerun-1.0')).toEqual(expect.arrayContaining(image.blobs.map((b) => b.digest)));
  });

  test('transient failures (503, 502, a reset connection) are retried with backoff and the copy completes', async () => {
    const source = place(A);
    const target = place(B, LOCAL_SECOND_REGION);
    const image = await writeImage(access(source), 'team/app', 'retry-1.0', [MiB]);
    {
      // The real retry waits (2-3 s, then 4-6 s): three retries add some 8 s to this test.
      front(target).fail({ match: /^HEAD \/v2\/retry\/app\/blobs\//, count: 1, fault: 503 });
      front(target).fail({ match: /^PATCH \/v2\/retry\/app\/blobs\/uploads\//, count: 1, fault: 'reset' });
      front(target).fail({ match: /^PUT \/v2\/retry\/app\/manifests\/retry-1\.0$/, count: 1, fault: 502 });
      const run = await copy({ repoName: 'team/app', imageName: 'retry-1.0', targetRegion: LOCAL_SECOND_REGION, targetRegistryId: B, targetRepoName: 'retry/app' });
      expect(succeeded(run).digest).toBe(image.digest);
      expect(run.output).toMatch(/failed \(HTTP 503\); retrying in \d+(\.\d)? s \(attempt 2 of 3\)/);
      expect(run.output).toMatch(/failed \(connection reset\); retrying in \d+(\.\d)? s \(attempt 2 of 3\)/);
      expect(run.output).toMatch(/Tagging retry-1\.0 failed \(HTTP 502\); retrying/);
      expect(await digestOf(target, 'retry/app:retry-1.0')).toBe(image.digest);
    }
  });

  test('a blob whose bytes do not match its digest fails the copy: nothing tagged, the blob not stored', async () => {
    const source = place(A);
    const target = place(B);
    const image = await writeImage(access(source), 'team/app', 'bad-1.0', [MiB, MiB]);
    const layer = image.blobs[2].digest;
    front(source).corrupt(layer);

    const error = failed(await copy({ repoName: 'team/app', imageName: 'bad-1.0', targetRegistryId: B, targetRepoName: 'prod/app' }));

    expect(error.message).toContain(`The bytes of ${layer} have the digest sha256:`);
    expect(await exists(login(target), 'prod/app:bad-1.0')).toBe(false);
    expect((await registryRequest(access(target), 'HEAD', `/v2/prod/app/blobs/${layer}`)).status).toBe(404);
  });

  test('an image that is not in the source repository: an error naming imageName, nothing written', async () => {
    const error = failed(await copy({ repoName: 'team/app', imageName: 'no-such-tag', targetRepoName: 'prod/app' }));
    expect(error.message).toMatch(/^Parameter "imageName": "no-such-tag" is not in 127\.0\.0\.1:\d+\/team\/app: check "imageName" and "repoName" \(GET .+ answered HTTP 404 MANIFEST_UNKNOWN: manifest unknown\)$/);
  });

  describe('as the agent runs it, in a process of its own', () => {
    let emptyBin: string;
    beforeAll(async () => {
      emptyBin = path.join(stack().tmpDir, 'no-docker-bin');
      await fs.mkdir(emptyBin, { recursive: true });
    });
    /** No docker on PATH and an engine endpoint that is not there: a copy needs neither. */
    const agent = (params: Record<string, unknown>, env: Record<string, string> = {}) =>
      startAgentAction(
        { method: 'copyImage', params, settings: SETTINGS },
        agentEnvironment({ ...stack().ecr.env, TMPDIR: stack().tmpDir, PATH: emptyBin, DOCKER_HOST: 'unix:///nonexistent/docker.sock', ...env }),
      );
    const running = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const locksLeft = async (): Promise<string[]> => (await fs.readdir(stack().tmpDir)).filter((name) => /^kaholo-ecr\..*\.lock$/.test(name));

    test('SIGTERM mid-copy: the copy stops, no tag is put, the process ends by the signal, nothing is left running or locked', async () => {
      const source = place(A);
      const target = place(B, LOCAL_SECOND_REGION);
      await writeImage(access(source), 'team/app', 'term-1.0', [2 * MiB, MiB]);
      const held = front(target).hold(/^PATCH \/v2\/term\/app\/blobs\/uploads\//);
      const action = agent({ repoName: 'team/app', imageName: 'term-1.0', targetRegion: LOCAL_SECOND_REGION, targetRegistryId: B, targetRepoName: 'term/app' });
      let outcome: AgentOutcome;
      try {
        await held.reached;
        action.kill('SIGTERM');
        outcome = await action.finished;
      } finally {
        held.release();
      }
      expect(outcome.signal).toBe('SIGTERM');
      expect(outcome.output).toMatch(/^Interrupted \(SIGTERM\): stopping the work; cleaning up$/m);
      expect(running(action.pid)).toBe(false);
      // It stopped in order, not by the signal's default: the uploads under way were given up (DELETE) first.
      expect(front(target).requests.filter((r) => r.method === 'DELETE' && r.path.startsWith('/v2/term/app/blobs/uploads/')).length).toBeGreaterThan(0);
      expect(await exists(login(target), 'term/app:term-1.0')).toBe(false);
      expect(await locksLeft()).toEqual([]);
      expectNoSecretIn(outcome.output);
    });

    test('ECR never answering the target side: transferTimeLimit stops the copy at the limit, not at the AWS request timeout, and the process ends', async () => {
      const endpoint = stack().ecr.endpoints[LOCAL_SECOND_REGION];
      endpoint.setFault({ mode: 'hang' }, 'ecr');
      try {
        const started = Date.now();
        // A minute of the limit lasts 3 s here (KAHOLO_ECR_TEST_MINUTE_MS); each AWS request may wait 20 s.
        const outcome = await agent(
          { repoName: 'team/app', imageName: 'mount-1.0', targetRegion: LOCAL_SECOND_REGION, targetRegistryId: B, targetRepoName: 'prod/app', transferTimeLimit: '1' },
          { KAHOLO_ECR_TEST_MINUTE_MS: '3000', KAHOLO_ECR_AWS_REQUEST_TIMEOUT_MS: '20000' },
        ).finished;
        expect(outcome.error).toBe(
          'Parameter "transferTimeLimit": the copy did not finish within 1 minute: it was still waiting for AWS to authorize it and find the repositories',
        );
        expect(Date.now() - started).toBeLessThan(3000 + 5000);
        expect(await locksLeft()).toEqual([]);
      } finally {
        endpoint.setFault(undefined);
      }
    });

    test('no secret in the log, the result, nor any process’s argv; no process started; no Docker needed', async () => {
      const source = place(A);
      const target = place(B);
      const image = await writeImage(access(source), 'team/app', 'sec-1.0', [MiB]);
      const held = front(source).hold(/^GET \/v2\/team\/app\/blobs\//);
      const action = agent({
        roleArn: LOCAL_ROLES.push,
        repoName: 'team/app',
        imageName: 'sec-1.0',
        targetRoleArn: LOCAL_ROLES.partner,
        targetRoleExternalId: LOCAL_ROLES.partnerExternalId,
        targetRepoName: 'prod/app',
      });
      let argv = '';
      let children = '';
      try {
        await held.reached;
        // Held mid-copy, with both sides authorized: what the process shows of itself, and its children.
        argv = (await fs.readFile(`/proc/${action.pid}/cmdline`)).toString('utf8');
        children = (await fs.readFile(`/proc/${action.pid}/task/${action.pid}/children`, 'utf8')).trim();
      } finally {
        held.release();
      }
      const outcome = await action.finished;
      expect(outcome.error).toBeUndefined();
      expect(outcome.result).toMatchObject({ digest: image.digest, registry: target.host });
      expect(children).toBe('');
      expectNoSecretIn(argv, outcome.output, JSON.stringify(outcome.result));
      expect(await locksLeft()).toEqual([]);
    });
  });
});
