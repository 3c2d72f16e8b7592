/**
 * A registry in memory behind the copy's registry interface, for the engine's unit tests: it keeps
 * manifests and blobs per repository, checks what the interface promises (a blob's digest and size
 * on upload, a manifest's digest), records every call in order, and lets a test fail, hold or
 * corrupt chosen calls. The real HTTP API implementation is tested on its own and end to end.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlobDescriptor, BlobStream, ImageRegistry, MountAnswer, PutManifestAnswer, ReferrerDescriptor, ReferrerList, StoredManifest } from '../../src/registry-http/registry-http-api';
import type { UploadOptions } from '../../src/registry-http/blob-upload';
import { RegistryError } from '../../src/registry-http/registry-error';

export const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export type Operation = 'readManifest' | 'writeManifest' | 'manifestDigest' | 'blobSize' | 'openBlob' | 'mountBlob' | 'startUpload' | 'uploadBlob' | 'listReferrers' | 'putReferrer' | 'addToTagIndex';

export interface Call {
  op: Operation;
  repository: string;
  reference: string;
}

interface Repository {
  manifests: Map<string, { bytes: Buffer; mediaType: string }>;
  blobs: Map<string, Buffer>;
}

export class MemoryRegistry implements ImageRegistry {
  readonly calls: Call[] = [];
  private readonly repositories = new Map<string, Repository>();
  private readonly failures: Array<{ op: Operation; count: number; error: () => Error; when?: (reference: string) => boolean }> = [];
  private readonly holds: Array<{ op: Operation; until: Promise<void>; when?: (reference: string) => boolean }> = [];
  /** Digests whose bytes this registry serves altered (as a broken store or network would). */
  readonly corrupted = new Set<string>();
  /** Whether it keeps referrers itself (the OCI 1.1 referrers API). */
  referrersApi = false;
  /** Uploads going on now, and the most at once. */
  uploading = 0;
  maxUploading = 0;
  uploads: string[] = [];
  /** How a finished upload is answered: with its digest, with none (`silent`), or with none and nothing stored (`lost`). */
  uploadAnswers: 'digest' | 'silent' | 'lost' = 'digest';

  constructor(readonly host: string) {}

  close(): void {
    // Nothing is open.
  }

  repository(name: string): Repository {
    let repository = this.repositories.get(name);
    if (!repository) {
      repository = { manifests: new Map(), blobs: new Map() };
      this.repositories.set(name, repository);
    }
    return repository;
  }

  /** Stores a blob straight away (no call recorded); its descriptor. */
  seedBlob(repository: string, bytes: Buffer): BlobDescriptor {
    this.repository(repository).blobs.set(sha256(bytes), bytes);
    return { digest: sha256(bytes), size: bytes.length };
  }

  seedManifest(repository: string, references: string[], manifest: { bytes: Buffer; mediaType: string }): string {
    for (const reference of [sha256(manifest.bytes), ...references]) this.repository(repository).manifests.set(reference, manifest);
    return sha256(manifest.bytes);
  }

  /** The next `count` calls of `op` (whose reference `when` accepts) fail with `error()`. */
  fail(op: Operation, count: number, error: () => Error, when?: (reference: string) => boolean): void {
    this.failures.push({ op, count, error, when });
  }

  /** Calls of `op` (whose reference `when` accepts) wait for `until` before doing anything. */
  hold(op: Operation, until: Promise<void>, when?: (reference: string) => boolean): void {
    this.holds.push({ op, until, when });
  }

  tagged(repository: string, tag: string): string | undefined {
    const manifest = this.repository(repository).manifests.get(tag);
    return manifest ? sha256(manifest.bytes) : undefined;
  }

  private async enter(op: Operation, repository: string, reference: string, signal?: AbortSignal): Promise<void> {
    this.calls.push({ op, repository, reference });
    for (const hold of this.holds.filter((h) => h.op === op && (h.when?.(reference) ?? true))) await abortable(hold.until, signal);
    const failure = this.failures.find((f) => f.op === op && f.count > 0 && (f.when?.(reference) ?? true));
    if (failure) {
      failure.count -= 1;
      throw failure.error();
    }
  }

  async readManifest(repository: string, reference: string, signal?: AbortSignal): Promise<StoredManifest> {
    await this.enter('readManifest', repository, reference, signal);
    const manifest = this.repository(repository).manifests.get(reference);
    if (!manifest) throw new RegistryError(`manifest ${reference} unknown`, 404, 'MANIFEST_UNKNOWN');
    return { ...manifest, digest: sha256(manifest.bytes) };
  }

  async writeManifest(repository: string, reference: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<string> {
    return (await this.put('writeManifest', repository, reference, bytes, mediaType, signal)).digest;
  }

  async manifestDigest(repository: string, reference: string, signal?: AbortSignal): Promise<string | undefined> {
    await this.enter('manifestDigest', repository, reference, signal);
    const manifest = this.repository(repository).manifests.get(reference);
    return manifest ? sha256(manifest.bytes) : undefined;
  }

  async blobSize(repository: string, digest: string, signal?: AbortSignal): Promise<number | undefined> {
    await this.enter('blobSize', repository, digest, signal);
    return this.repository(repository).blobs.get(digest)?.length;
  }

  async openBlob(repository: string, blob: BlobDescriptor, signal?: AbortSignal): Promise<BlobStream> {
    await this.enter('openBlob', repository, blob.digest, signal);
    const stored = this.repository(repository).blobs.get(blob.digest);
    if (!stored) throw new RegistryError(`blob ${blob.digest} unknown`, 404, 'BLOB_UNKNOWN');
    const bytes = Buffer.from(stored);
    if (this.corrupted.has(blob.digest)) bytes[bytes.length - 1] ^= 0xff;
    const body = Readable.from([bytes.subarray(0, bytes.length >> 1), bytes.subarray(bytes.length >> 1)]);
    return { body, cancel: () => body.destroy() };
  }

  async mountBlob(repository: string, digest: string, from: string, signal?: AbortSignal): Promise<MountAnswer> {
    await this.enter('mountBlob', repository, digest, signal);
    const bytes = this.repository(from).blobs.get(digest);
    if (!bytes) return { mounted: false, uploadUrl: `upload:${repository}` };
    this.repository(repository).blobs.set(digest, bytes);
    return { mounted: true };
  }

  async startUpload(repository: string, signal?: AbortSignal): Promise<string> {
    await this.enter('startUpload', repository, '', signal);
    return `upload:${repository}`;
  }

  async uploadBlob(uploadUrl: string, source: AsyncIterable<Buffer>, blob: BlobDescriptor, options: UploadOptions = {}): Promise<string | undefined> {
    const repository = uploadUrl.replace(/^upload:/, '');
    this.uploading += 1;
    this.maxUploading = Math.max(this.maxUploading, this.uploading);
    try {
      await this.enter('uploadBlob', repository, blob.digest, options.signal);
      const chunks: Buffer[] = [];
      for await (const chunk of source) {
        options.onBytes?.(chunk.length);
        chunks.push(chunk);
      }
      const bytes = Buffer.concat(chunks);
      if (bytes.length !== blob.size || sha256(bytes) !== blob.digest) throw new RegistryError(`The bytes of ${blob.digest} have the digest ${sha256(bytes)}`);
      if (this.uploadAnswers !== 'lost') this.repository(repository).blobs.set(blob.digest, bytes);
      this.uploads.push(blob.digest);
      return this.uploadAnswers === 'digest' ? blob.digest : undefined;
    } finally {
      this.uploading -= 1;
    }
  }

  async cancelUpload(): Promise<void> {
    // Nothing was kept of an unfinished upload.
  }

  async listReferrers(repository: string, digest: string, signal?: AbortSignal): Promise<ReferrerList> {
    await this.enter('listReferrers', repository, digest, signal);
    const referrers = [...this.repository(repository).manifests.entries()]
      .filter(([reference, m]) => reference.startsWith('sha256:') && (JSON.parse(m.bytes.toString()) as { subject?: { digest?: string } }).subject?.digest === digest)
      .map(([, m]) => ({ mediaType: m.mediaType, digest: sha256(m.bytes), size: m.bytes.length }));
    return { referrers, via: this.referrersApi ? 'api' : 'tag' };
  }

  async putReferrer(repository: string, bytes: Buffer, mediaType: string, digest: string, signal?: AbortSignal): Promise<PutManifestAnswer> {
    const answer = await this.put('putReferrer', repository, digest, bytes, mediaType, signal);
    return { digest: answer.digest, subjectIndexed: this.referrersApi };
  }

  async addToTagIndex(repository: string, subject: string, referrers: ReferrerDescriptor[], signal?: AbortSignal): Promise<{ digest: string; changed: boolean }> {
    await this.enter('addToTagIndex', repository, subject, signal);
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: referrers }));
    this.repository(repository).manifests.set(subject.replace(':', '-'), { bytes, mediaType: 'application/vnd.oci.image.index.v1+json' });
    return { digest: sha256(bytes), changed: true };
  }

  private async put(op: Operation, repository: string, reference: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<{ digest: string }> {
    await this.enter(op, repository, reference, signal);
    const json = JSON.parse(bytes.toString()) as { config?: BlobDescriptor; layers?: BlobDescriptor[]; manifests?: BlobDescriptor[] };
    const store = this.repository(repository);
    // As a registry does: a manifest whose blobs or children are not there is refused.
    for (const blob of [...(json.config ? [json.config] : []), ...(json.layers ?? [])]) {
      if (!store.blobs.has(blob.digest)) throw new RegistryError(`blob unknown ${blob.digest}`, 400, 'MANIFEST_BLOB_UNKNOWN');
    }
    for (const child of json.manifests ?? []) {
      if (!store.manifests.has(child.digest)) throw new RegistryError(`manifest unknown ${child.digest}`, 400, 'MANIFEST_UNKNOWN');
    }
    store.manifests.set(reference, { bytes, mediaType });
    store.manifests.set(sha256(bytes), { bytes, mediaType });
    return { digest: sha256(bytes) };
  }
}

function abortable(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return promise;
  return new Promise((resolve, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    promise.then(resolve, reject);
  });
}

import { OCI_INDEX, OCI_MANIFEST } from '../../src/registry/media-types';

/** An image of `layers` (their sizes) in `registry/repository`, tagged `tag`; its manifest's digest and blobs. */
export function seedImage(registry: MemoryRegistry, repository: string, tag: string | undefined, layers: number[], architecture = 'amd64'): { digest: string; size: number; blobs: BlobDescriptor[] } {
  const layerBlobs = layers.map((size) => registry.seedBlob(repository, Buffer.from(Array.from({ length: size }, () => Math.floor(Math.random() * 256)))));
  const config = registry.seedBlob(repository, Buffer.from(JSON.stringify({ architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: layerBlobs.map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...b })) }));
  const digest = registry.seedManifest(repository, tag ? [tag] : [], { bytes, mediaType: OCI_MANIFEST });
  return { digest, size: bytes.length, blobs: [config, ...layerBlobs] };
}

/** An index of two platforms under `tag`; its digest and its children's. */
export function seedIndex(registry: MemoryRegistry, repository: string, tag: string): { digest: string; children: string[] } {
  const children = ['amd64', 'arm64'].map((architecture) => ({ architecture, ...seedImage(registry, repository, undefined, [300, 200], architecture) }));
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children.map((c) => ({ mediaType: OCI_MANIFEST, digest: c.digest, size: c.size, platform: { architecture: c.architecture, os: 'linux' } })) }, null, 2));
  return { digest: registry.seedManifest(repository, [tag], { bytes, mediaType: OCI_INDEX }), children: children.map((c) => c.digest) };
}

/** A signature-like artifact referring to `subject`; its digest. */
export function seedReferrer(registry: MemoryRegistry, repository: string, subject: { digest: string; size: number }): string {
  const config = registry.seedBlob(repository, Buffer.from('{}'));
  const payload = registry.seedBlob(repository, Buffer.from(`signature of ${subject.digest}`));
  const bytes = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: 'application/vnd.example.signature.v1',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', ...config },
    layers: [{ mediaType: 'application/octet-stream', ...payload }],
    subject: { mediaType: OCI_INDEX, ...subject },
  }));
  return registry.seedManifest(repository, [], { bytes, mediaType: OCI_MANIFEST });
}
