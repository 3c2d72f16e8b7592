/**
 * The copy engine against registries in memory (test/support/memory-registry.ts): the order of
 * its writes, what it skips and mounts, its retries, its bound on blobs at once, and that a
 * failure, a digest that does not match, an interrupt or the time limit leave no tag.
 */
import { TimeLimit } from '../../src/params/time-limit';
import { ActivityLog } from '../../src/kaholo/activity-log';
import { copyImage, type CopyRequest } from '../../src/copy/copy-engine';
import { PluginError } from '../../src/errors';
import type { Interruption } from '../../src/agent/interruption';
import { Redactor } from '../../src/kaholo/redactor';
import { RegistryError } from '../../src/registry-http/registry-error';
import { captureOutput } from '../support/capture-output';
import { OCI_MANIFEST } from '../../src/registry/media-types';
import { MemoryRegistry, seedImage, seedIndex, seedReferrer, type Call } from '../support/memory-registry';

/** An interruption the test triggers, as SIGTERM would. */
function testInterruption(): Interruption & { trigger(): void } {
  const listeners = new Set<() => void>();
  let received = false;
  const fake = {
    get interrupted() {
      return received;
    },
    onInterrupt(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    check() {
      if (received) throw new PluginError('The action was interrupted (SIGTERM)');
    },
    trigger() {
      received = true;
      for (const listener of [...listeners]) listener();
    },
  };
  return fake as unknown as Interruption & { trigger(): void };
}

interface Setup {
  source: MemoryRegistry;
  target: MemoryRegistry;
  locked: string[][];
  interruption: Interruption & { trigger(): void };
  request(overrides?: Partial<CopyRequest>): CopyRequest;
}

function setup(sameRegistry = false): Setup {
  const source = new MemoryRegistry('source.example');
  const target = sameRegistry ? source : new MemoryRegistry('target.example');
  const locked: string[][] = [];
  const interruption = testInterruption();
  return {
    source,
    target,
    locked,
    interruption,
    request: (overrides = {}) => ({
      source: { registry: source, type: 'private', repository: 'team/app', reference: '1.0' },
      target: { registry: target, type: 'private', repository: 'prod/app', tags: ['1.0', 'stable'] },
      copyReferrers: true,
      retry: { attempts: 3, baseDelayMs: 1 },
      limit: new TimeLimit(1, 60_000, 'copy'),
      log: new ActivityLog(new Redactor()),
      interruption,
      lockNames: async (names, _waitMs, work) => {
        locked.push(names);
        target.calls.push({ op: 'lock' as Call['op'], repository: '', reference: names.join(',') });
        const result = await work();
        target.calls.push({ op: 'unlock' as Call['op'], repository: '', reference: '' });
        return result;
      },
      ...overrides,
    }),
  };
}

const targetWrites = (target: MemoryRegistry): string[] =>
  target.calls.filter((c) => ['uploadBlob', 'mountBlob', 'writeManifest', 'putReferrer', 'addToTagIndex', 'lock', 'unlock'].includes(c.op)).map((c) => `${c.op} ${c.reference}`);

describe('copyImage (the engine)', () => {
  it('an index with its platforms and a referrer: blobs first, then each manifest after its children, the referrer after its subject, tags last under their locks', async () => {
    const s = setup();
    const index = seedIndex(s.source, 'team/app', '1.0');
    const indexSize = s.source.repository('team/app').manifests.get('1.0')?.bytes.length ?? 0;
    const signature = seedReferrer(s.source, 'team/app', { digest: index.digest, size: indexSize });

    const { result, output, error } = await captureOutput(() => copyImage(s.request()));

    expect(error).toBeUndefined();
    expect(result).toEqual({ digest: index.digest, mediaType: 'application/vnd.oci.image.index.v1+json', platforms: 2, referrers: 1, blobs: { copied: 8, mounted: 0, skipped: 0, bytes: expect.any(Number) as number } });
    const writes = targetWrites(s.target);
    const lastUpload = writes.map((w) => w.startsWith('uploadBlob')).lastIndexOf(true);
    const firstManifest = writes.findIndex((w) => w.startsWith('writeManifest') || w.startsWith('putReferrer'));
    expect(lastUpload).toBeLessThan(firstManifest);
    expect(writes.slice(firstManifest)).toEqual([
      `writeManifest ${index.children[0]}`,
      `writeManifest ${index.children[1]}`,
      `writeManifest ${index.digest}`,
      `putReferrer ${signature}`,
      `lock ${[index.digest.replace(':', '-'), '1.0', 'stable'].map((tag) => `target.example/prod/app:${tag}`).join(',')}`,
      `addToTagIndex ${index.digest}`,
      'writeManifest 1.0',
      'writeManifest stable',
      'unlock ',
    ]);
    expect(s.target.tagged('prod/app', 'stable')).toBe(index.digest);
    expect(output).toContain('an index of 2 platforms, 4 manifests, 8 blobs');
    expect(output).toContain('1 referrer (found through the sha256-<hex> tag schema)');
    expect(output).toMatch(/Blobs: 8 copied \([0-9.]+ KiB\), 0 mounted, 0 already there/);
  });

  it('a target that keeps referrers itself gets no tag-schema index', async () => {
    const s = setup();
    s.target.referrersApi = true;
    const image = seedImage(s.source, 'team/app', '1.0', [100]);
    seedReferrer(s.source, 'team/app', image);
    expect((await captureOutput(() => copyImage(s.request()))).error).toBeUndefined();
    expect(s.target.calls.filter((c) => c.op === 'addToTagIndex')).toEqual([]);
    expect(s.locked).toEqual([['target.example/prod/app:1.0', 'target.example/prod/app:stable']]);
  });

  it('a referrer the source lists but no longer holds (a stale tag-schema entry) is left out with a line, and the copy completes', async () => {
    const s = setup();
    const image = seedImage(s.source, 'team/app', '1.0', [100]);
    const kept = seedReferrer(s.source, 'team/app', image);
    const stale = `sha256:${'e'.repeat(64)}`;
    const listing = s.source.listReferrers.bind(s.source);
    s.source.listReferrers = async (repository, digest, signal) => {
      const list = await listing(repository, digest, signal);
      return digest === image.digest ? { ...list, referrers: [...list.referrers, { mediaType: OCI_MANIFEST, digest: stale, size: 500 }] } : list;
    };
    const { result, output, error } = await captureOutput(() => copyImage(s.request()));
    expect(error).toBeUndefined();
    expect(result?.referrers).toBe(1);
    expect(output).toContain(`Left out ${stale.slice(0, 19)}…, which source.example/team/app lists as a referrer of ${image.digest.slice(0, 19)}… but does not hold`);
    expect(s.target.tagged('prod/app', '1.0')).toBe(image.digest);
    expect(s.target.calls.filter((c) => c.op === 'putReferrer').map((c) => c.reference)).toEqual([kept]);
  });

  it('without copyReferrers, referrers are not even looked for', async () => {
    const s = setup();
    const image = seedImage(s.source, 'team/app', '1.0', [100]);
    seedReferrer(s.source, 'team/app', image);
    const { result } = await captureOutput(() => copyImage(s.request({ copyReferrers: false })));
    expect(result?.referrers).toBe(0);
    expect(s.source.calls.filter((c) => c.op === 'listReferrers')).toEqual([]);
  });

  it('blobs the target holds are skipped; inside one registry the rest are mounted, none moved through the agent', async () => {
    const s = setup(true);
    const image = seedImage(s.source, 'team/app', '1.0', [1000, 2000]);
    s.source.seedBlob('prod/app', Buffer.from(s.source.repository('team/app').blobs.get(image.blobs[1].digest) ?? ''));
    const { result, error } = await captureOutput(() => copyImage(s.request()));
    expect(error).toBeUndefined();
    expect(result?.blobs).toEqual({ copied: 0, mounted: 2, skipped: 1, bytes: 0 });
    expect(s.source.calls.filter((c) => c.op === 'openBlob')).toEqual([]);
  });

  it('a blob whose bytes do not match its digest fails the copy with no manifest and no tag put, and is not retried', async () => {
    const s = setup();
    const image = seedImage(s.source, 'team/app', '1.0', [1000, 2000]);
    s.source.corrupted.add(image.blobs[2].digest);
    const { error } = await captureOutput(() => copyImage(s.request()));
    expect(String(error)).toContain(`The bytes of ${image.blobs[2].digest} have the digest`);
    expect(s.source.calls.filter((c) => c.op === 'openBlob' && c.reference === image.blobs[2].digest)).toHaveLength(1);
    expect(targetWrites(s.target).filter((w) => !w.startsWith('uploadBlob'))).toEqual([]);
    expect(s.target.tagged('prod/app', '1.0')).toBeUndefined();
  });

  it('an upload answered with no digest counts once the target is seen to hold the blob; one it lost fails the copy before any manifest', async () => {
    const s = setup();
    const image = seedImage(s.source, 'team/app', '1.0', [1000]);
    s.target.uploadAnswers = 'silent';
    const held = await captureOutput(() => copyImage(s.request()));
    expect(held.error).toBeUndefined();
    const heads = (target: MemoryRegistry): string[] => target.calls.filter((c) => c.op === 'blobSize').map((c) => c.reference);
    expect(heads(s.target).sort()).toEqual([...image.blobs, ...image.blobs].map((b) => b.digest).sort()); // one look before each upload, one after

    const lost = setup();
    seedImage(lost.source, 'team/app', '1.0', [1000]);
    lost.target.uploadAnswers = 'lost';
    const { error } = await captureOutput(() => copyImage(lost.request()));
    expect(String(error)).toMatch(/^target\.example took the upload of sha256:[0-9a-f]{64} into prod\/app, but holds it with no bytes, not \d+$/);
    expect(targetWrites(lost.target).filter((w) => !w.startsWith('uploadBlob'))).toEqual([]);
    expect(lost.target.tagged('prod/app', '1.0')).toBeUndefined();
  });

  it('transient failures (503, a reset) are retried with backoff; a refusal is not', async () => {
    const s = setup();
    const image = seedImage(s.source, 'team/app', '1.0', [1000]);
    s.target.fail('uploadBlob', 1, () => new RegistryError('PATCH answered HTTP 503', 503));
    s.source.fail('openBlob', 1, () => new RegistryError('GET failed: ECONNRESET', undefined, 'ECONNRESET'));
    const first = await captureOutput(() => copyImage(s.request()));
    expect(first.error).toBeUndefined();
    expect(first.output).toMatch(/failed \(HTTP 503\); retrying in 0 s \(attempt 2 of 3\)/);
    expect(first.output).toMatch(/failed \(connection reset\); retrying in 0 s \(attempt 2 of 3\)/);
    expect(s.target.tagged('prod/app', '1.0')).toBe(image.digest);

    const refused = setup();
    seedImage(refused.source, 'team/app', '1.0', [1000]);
    refused.target.fail('writeManifest', 5, () => new RegistryError('PUT answered HTTP 403 DENIED', 403, 'DENIED'));
    const second = await captureOutput(() => copyImage(refused.request()));
    expect(String(second.error)).toContain('HTTP 403 DENIED');
    expect(refused.target.calls.filter((c) => c.op === 'writeManifest')).toHaveLength(1);
  });

  it('gives up after transferAttempts tries; a rerun then completes, skipping the blobs already there', async () => {
    const s = setup();
    const image = seedImage(s.source, 'team/app', '1.0', [1000, 2000, 3000]);
    s.target.fail('writeManifest', 2, () => new RegistryError('PUT answered HTTP 502', 502));
    const failed = await captureOutput(() => copyImage(s.request({ retry: { attempts: 2, baseDelayMs: 1 } })));
    expect(String(failed.error)).toBe('PUT answered HTTP 502 (failed 2 times, the "transferAttempts" set; no tag was put, and a new run goes on from what is there)');
    expect(s.target.tagged('prod/app', '1.0')).toBeUndefined();

    const rerun = await captureOutput(() => copyImage(s.request()));
    expect(rerun.error).toBeUndefined();
    expect(rerun.result?.blobs).toEqual({ copied: 0, mounted: 0, skipped: 4, bytes: 0 });
    expect(s.target.tagged('prod/app', '1.0')).toBe(image.digest);
  });

  it('copies at most `concurrency` blobs at once', async () => {
    const s = setup();
    seedImage(s.source, 'team/app', '1.0', Array.from({ length: 9 }, (_, i) => 100 + i));
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    s.target.hold('uploadBlob', gate);
    const copying = captureOutput(() => copyImage(s.request({ concurrency: 3 })));
    // Held at their upload, the first three are all there is: no fourth starts while they wait.
    while (s.target.uploading < 3) await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(s.target.uploading).toBe(3);
    release();
    expect((await copying).error).toBeUndefined();
    expect(s.target.maxUploading).toBe(3);
    expect(s.target.uploads).toHaveLength(10);
  });

  it('an interrupt stops the blobs under way and puts no tag', async () => {
    const s = setup();
    seedImage(s.source, 'team/app', '1.0', [1000, 2000]);
    s.target.hold('uploadBlob', new Promise(() => undefined));
    const copying = captureOutput(() => copyImage(s.request()));
    while (s.target.uploading < 2) await new Promise((resolve) => setImmediate(resolve));
    s.interruption.trigger();
    const { error } = await copying;
    expect(String(error)).toBe('The action was interrupted (SIGTERM): the copy stopped and put no tag; a new run goes on from what is there');
    expect(targetWrites(s.target).filter((w) => !w.startsWith('uploadBlob'))).toEqual([]);
  });

  it('an interrupt while the tags go in says which tags are in place, as the target is seen to hold them', async () => {
    const s = setup();
    const image = seedImage(s.source, 'team/app', '1.0', [1000]);
    s.target.hold('writeManifest', new Promise(() => undefined), (reference) => reference === 'stable');
    const copying = captureOutput(() => copyImage(s.request()));
    while (!s.target.calls.some((c) => c.op === 'writeManifest' && c.reference === 'stable')) await new Promise((resolve) => setImmediate(resolve));
    s.interruption.trigger();
    const { error } = await copying;
    expect(String(error)).toBe(`The action was interrupted (SIGTERM): the copy stopped: prod/app:1.0 was tagged before it stopped, naming the whole image ${image.digest}; a new run puts the other tags`);
    expect(s.target.tagged('prod/app', '1.0')).toBe(image.digest);
    expect(s.target.tagged('prod/app', 'stable')).toBeUndefined();
  });

  it('a tag refused after another was put: the error says which tag is in place', async () => {
    const s = setup();
    const image = seedImage(s.source, 'team/app', '1.0', [1000]);
    s.target.fail('writeManifest', 1, () => new RegistryError('PUT answered HTTP 400 TAG_INVALID: the tag is immutable', 400, 'TAG_INVALID'), (reference) => reference === 'stable');
    const { error } = await captureOutput(() => copyImage(s.request()));
    expect(String(error)).toMatch(/^Parameter "targetTags": a tag already names another image .*; prod\/app:1\.0 was tagged before it stopped, naming the whole image sha256:[0-9a-f]{64}; a new run puts the other tags$/);
    expect(s.target.tagged('prod/app', '1.0')).toBe(image.digest);
  });

  it('the time limit stops a copy that hangs, with no tag put', async () => {
    const s = setup();
    seedImage(s.source, 'team/app', '1.0', [1000]);
    s.target.hold('uploadBlob', new Promise(() => undefined));
    const started = Date.now();
    const { error } = await captureOutput(() => copyImage(s.request({ limit: new TimeLimit(1, 300, 'copy') })));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(String(error)).toContain('Parameter "transferTimeLimit": the copy did not finish within 1 minute: no tag was put');
    expect(s.target.tagged('prod/app', '1.0')).toBeUndefined();
  });

  it('a retry that would end past the time limit is not waited for: the error names transferTimeLimit, the failure and what a new run does', async () => {
    const s = setup();
    seedImage(s.source, 'team/app', '1.0', [1000]);
    s.target.fail('uploadBlob', 100, () => new RegistryError('PATCH answered HTTP 503', 503));
    const started = Date.now();
    const { error } = await captureOutput(() => copyImage(s.request({ retry: { attempts: 10, baseDelayMs: 5_000 }, limit: new TimeLimit(1, 2_000, 'copy') })));
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(String(error)).toMatch(
      /^Parameter "transferTimeLimit": the copy did not finish within 1 minute: .+ failed once \(HTTP 503\) and the limit came before the next try; no tag was put, and a new run goes on from what is there \(last: PATCH answered HTTP 503\)$/,
    );
    expect(s.target.tagged('prod/app', '1.0')).toBeUndefined();
  });

  it('a tag that already names the image is left as it is', async () => {
    const s = setup();
    const image = seedImage(s.source, 'team/app', '1.0', [1000]);
    expect((await captureOutput(() => copyImage(s.request()))).error).toBeUndefined();
    const again = await captureOutput(() => copyImage(s.request()));
    expect(again.output).toContain(`prod/app:stable already names ${image.digest}`);
    expect(s.target.calls.filter((c) => c.op === 'writeManifest' && c.reference === 'stable')).toHaveLength(1);
  });

  it('refusals name the side and the parameter: a missing source image, a missing target repository, a denied target', async () => {
    const s = setup();
    const missing = await captureOutput(() => copyImage(s.request({ source: { registry: s.source, type: 'private', repository: 'team/app', reference: '9.9' } })));
    expect(String(missing.error)).toMatch(/^Parameter "imageName": "9\.9" is not in source\.example\/team\/app: check "imageName" and "repoName" \(manifest 9\.9 unknown\)$/);

    seedImage(s.source, 'team/app', '1.0', [100]);
    s.target.fail('startUpload', 1, () => new RegistryError('POST answered HTTP 404 NAME_UNKNOWN: repository name not known to registry', 404, 'NAME_UNKNOWN'));
    const noRepository = await captureOutput(() => copyImage(s.request()));
    expect(String(noRepository.error)).toContain('Parameter "targetRepoName": repository "prod/app" is not in target.example: create it, or set "createRepository"');

    s.target.fail('writeManifest', 1, () => new RegistryError('PUT answered HTTP 403 DENIED: not authorized', 403, 'DENIED'));
    const denied = await captureOutput(() => copyImage(s.request()));
    expect(String(denied.error)).toContain('The target registry target.example refused the copy: the target side needs ecr:BatchCheckLayerAvailability');
  });

  it('a blob or a platform the source image names but its repository does not hold: an error saying the source image is incomplete, not that imageName is missing; nothing tagged', async () => {
    const s = setup();
    const image = seedImage(s.source, 'team/app', '1.0', [100, 200]);
    s.source.repository('team/app').blobs.delete(image.blobs[2].digest);
    const blob = await captureOutput(() => copyImage(s.request()));
    expect((blob.error as Error).message).toBe(`source.example/team/app does not hold ${image.blobs[2].digest}, which the image to copy names: the image is incomplete in the source (blob ${image.blobs[2].digest} unknown)`);

    const index = seedIndex(s.source, 'team/app', '2.0');
    s.source.repository('team/app').manifests.delete(index.children[1]);
    const platform = await captureOutput(() => copyImage(s.request({ source: { registry: s.source, type: 'private', repository: 'team/app', reference: '2.0' } })));
    expect((platform.error as Error).message).toBe(`source.example/team/app does not hold ${index.children[1]}, which the image to copy names: the image is incomplete in the source (manifest ${index.children[1]} unknown)`);
    expect(targetWrites(s.target).filter((w) => w.startsWith('writeManifest') || w.startsWith('lock'))).toEqual([]);
  });

  it("a refusal by ECR Public names ECR Public's IAM actions", async () => {
    const s = setup();
    seedImage(s.source, 'team/app', '1.0', [100]);
    s.target.fail('writeManifest', 1, () => new RegistryError('PUT answered HTTP 403 DENIED: not authorized', 403, 'DENIED'));
    const { target } = s.request();
    const denied = await captureOutput(() => copyImage(s.request({ target: { ...target, type: 'public' } })));
    expect(String(denied.error)).toMatch(
      /^The target registry target\.example refused the copy: the target side needs ecr-public:BatchCheckLayerAvailability, ecr-public:InitiateLayerUpload, ecr-public:UploadLayerPart, ecr-public:CompleteLayerUpload and ecr-public:PutImage \(/,
    );
  });
});
