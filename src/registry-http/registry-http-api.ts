/**
 * registry-http/: a registry's own HTTP API (the OCI distribution API that ECR
 * and ECR Public serve): requests with the registry's token, manifests, blobs,
 * uploads, referrers. This file gathers them as what a copy asks of a
 * registry, one interface per concern (manifests, blobs, referrers), and as
 * the manifest side of the registry seam where a registry's own API reads
 * no manifests (ECR Public).
 */
import type { Agent } from 'node:http';
import { cancelUpload, startUpload, uploadBlob, type UploadOptions } from './blob-upload';
import { blobSize, mountBlob, openBlob, type BlobDescriptor, type MountAnswer } from './blobs';
import { getManifest, manifestDigest, putManifest, type PutManifestAnswer, type StoredManifest } from './manifests';
import { addToTagIndex, listReferrers, type ReferrerDescriptor, type ReferrerList } from './referrers';
import type { AwsTimeouts } from '../aws/transport-settings';
import { MissingImageError } from '../errors';
import type { ImageId, ManifestApi, PutManifestAnswer as SeamPutAnswer, StoredManifest as ManifestText } from '../registry/registry-api';
import { RegistryError } from './registry-error';
import type { Redactor } from '../kaholo/redactor';
import { RegistryClient, registryAgents, type RegistryLocation } from './registry-client';

export type { BlobDescriptor, MountAnswer, PutManifestAnswer, ReferrerDescriptor, ReferrerList, StoredManifest };

/** Manifests as bytes, by tag or digest. */
export interface ManifestBytesApi {
  /** A manifest by tag or digest, byte for byte, its digest checked; a missing one is an error with status 404. */
  readManifest(repository: string, reference: string, signal?: AbortSignal): Promise<StoredManifest>;
  /** Puts the bytes under a tag or their digest; the digest the registry answered with. */
  writeManifest(repository: string, reference: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<string>;
  /** What a tag or digest names now (its digest), or undefined when nothing. */
  manifestDigest(repository: string, reference: string, signal?: AbortSignal): Promise<string | undefined>;
}

/** A blob's bytes as they arrive; `cancel` ends the download early. */
export interface BlobStream {
  body: AsyncIterable<Buffer>;
  cancel(): void;
}

export interface BlobApi {
  /** The size the registry holds the blob with; undefined when it does not hold it. */
  blobSize(repository: string, digest: string, signal?: AbortSignal): Promise<number | undefined>;
  openBlob(repository: string, blob: BlobDescriptor, signal?: AbortSignal): Promise<BlobStream>;
  mountBlob(repository: string, digest: string, from: string, signal?: AbortSignal): Promise<MountAnswer>;
  startUpload(repository: string, signal?: AbortSignal): Promise<string>;
  /**
   * Streams the blob into the upload, checking its size and digest on the way; nothing is stored when they differ.
   * Returns the digest the registry's answer named (the blob's), or undefined when it named none.
   */
  uploadBlob(uploadUrl: string, source: AsyncIterable<Buffer>, blob: BlobDescriptor, options?: UploadOptions): Promise<string | undefined>;
  cancelUpload(uploadUrl: string, signal?: AbortSignal): Promise<void>;
}

export interface ReferrersApi {
  listReferrers(repository: string, digest: string, signal?: AbortSignal): Promise<ReferrerList>;
  /** Puts a manifest with a subject under its digest; says whether the registry keeps its referrers itself. */
  putReferrer(repository: string, bytes: Buffer, mediaType: string, digest: string, signal?: AbortSignal): Promise<PutManifestAnswer>;
  /** Adds referrers to the tag schema's index of `subject` (for a registry without the referrers API). */
  addToTagIndex(repository: string, subject: string, referrers: ReferrerDescriptor[], signal?: AbortSignal): Promise<{ digest: string; changed: boolean }>;
}

/** One registry, as the copy reaches it. */
export interface ImageRegistry extends ManifestBytesApi, BlobApi, ReferrersApi {
  /** Its host (and port): what names it in references, logs and errors. */
  readonly host: string;
  /** Closes the connections it keeps open. */
  close(): void;
}

/**
 * The registry's HTTP API: what a copy asks of a registry, and the manifest
 * side of the plugin's registry seam (registry/registry-api.ts), where a
 * registry's own API does not read manifests (ECR Public).
 */
export class RegistryHttpApi implements ImageRegistry, ManifestApi {
  readonly host: string;

  constructor(
    private readonly client: RegistryClient,
    private readonly agents: { http: Agent; https: Agent },
  ) {
    this.host = client.host;
  }

  readManifest(repository: string, reference: string, signal?: AbortSignal): Promise<StoredManifest> {
    return getManifest(this.client, repository, reference, signal);
  }

  /** The manifest as the seam reads it: its text, media type and digest; a missing one is a MissingImageError. */
  async getManifest(repoName: string, image: ImageId, signal?: AbortSignal): Promise<ManifestText> {
    try {
      const stored = await getManifest(this.client, repoName, image.digest ?? image.tag, signal);
      return { digest: stored.digest, manifest: stored.bytes.toString('utf8'), mediaType: stored.mediaType };
    } catch (error) {
      if (error instanceof RegistryError && error.status === 404) throw new MissingImageError(error.message);
      throw error;
    }
  }

  /** A manifest put under a tag as the seam puts it; a PUT counts only once the registry answered with its digest. */
  async putManifest(repoName: string, manifest: ManifestText, tag: string, signal?: AbortSignal): Promise<SeamPutAnswer> {
    const mediaType = manifest.mediaType ?? (JSON.parse(manifest.manifest) as { mediaType?: string }).mediaType ?? '';
    const digest = await this.writeManifest(repoName, tag, Buffer.from(manifest.manifest, 'utf8'), mediaType, signal);
    return { outcome: 'stored', digest };
  }

  async writeManifest(repository: string, reference: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<string> {
    return (await putManifest(this.client, repository, reference, { bytes, mediaType }, signal)).digest;
  }

  manifestDigest(repository: string, reference: string, signal?: AbortSignal): Promise<string | undefined> {
    return manifestDigest(this.client, repository, reference, signal);
  }

  blobSize(repository: string, digest: string, signal?: AbortSignal): Promise<number | undefined> {
    return blobSize(this.client, repository, digest, signal);
  }

  async openBlob(repository: string, blob: BlobDescriptor, signal?: AbortSignal): Promise<BlobStream> {
    const response = await openBlob(this.client, repository, blob, signal);
    return { body: response.body, cancel: () => response.body.destroy() };
  }

  mountBlob(repository: string, digest: string, from: string, signal?: AbortSignal): Promise<MountAnswer> {
    return mountBlob(this.client, repository, digest, from, signal);
  }

  startUpload(repository: string, signal?: AbortSignal): Promise<string> {
    return startUpload(this.client, repository, signal);
  }

  uploadBlob(uploadUrl: string, source: AsyncIterable<Buffer>, blob: BlobDescriptor, options?: UploadOptions): Promise<string | undefined> {
    return uploadBlob(this.client, uploadUrl, source, blob, options);
  }

  cancelUpload(uploadUrl: string, signal?: AbortSignal): Promise<void> {
    return cancelUpload(this.client, uploadUrl, signal);
  }

  listReferrers(repository: string, digest: string, signal?: AbortSignal): Promise<ReferrerList> {
    return listReferrers(this.client, repository, digest, signal);
  }

  async putReferrer(repository: string, bytes: Buffer, mediaType: string, digest: string, signal?: AbortSignal): Promise<PutManifestAnswer> {
    return putManifest(this.client, repository, digest, { bytes, mediaType }, signal);
  }

  addToTagIndex(repository: string, subject: string, referrers: ReferrerDescriptor[], signal?: AbortSignal): Promise<{ digest: string; changed: boolean }> {
    return addToTagIndex(this.client, repository, subject, referrers, signal);
  }

  close(): void {
    this.agents.http.destroy();
    if (this.agents.https !== this.agents.http) this.agents.https.destroy();
  }
}

/** The registry at `location` through its HTTP API, with the plugin's timeouts and the agent's proxy when `proxied`. */
export async function openRegistryHttpApi(location: RegistryLocation, timeouts: AwsTimeouts, proxied: boolean, redactor: Redactor): Promise<RegistryHttpApi> {
  const agents = await registryAgents(redactor, timeouts, proxied);
  return new RegistryHttpApi(new RegistryClient(location, timeouts, agents, redactor), agents);
}
