/**
 * What the copy asks of a registry, one interface per concern (manifests,
 * blobs, referrers), and their implementation over the registry's own HTTP
 * API (OCI distribution). Another way to reach a registry is another
 * implementation of the same interfaces.
 */
import type { Agent } from 'node:http';
import { cancelUpload, startUpload, uploadBlob, type UploadOptions } from './blob-upload';
import { blobSize, mountBlob, openBlob, type BlobDescriptor, type MountAnswer } from './blobs';
import { getManifest, manifestDigest, putManifest, type PutManifestAnswer, type StoredManifest } from './manifests';
import { addToTagIndex, listReferrers, type ReferrerDescriptor, type ReferrerList } from './referrers';
import type { AwsTimeouts } from '../aws-http';
import type { Redactor } from '../redact';
import { RegistryClient, registryAgents, type RegistryLocation } from './registry-client';

export type { BlobDescriptor, MountAnswer, PutManifestAnswer, ReferrerDescriptor, ReferrerList, StoredManifest };

export interface ManifestApi {
  /** A manifest by tag or digest, byte for byte, its digest checked; a missing one is an error with status 404. */
  getManifest(repository: string, reference: string, signal?: AbortSignal): Promise<StoredManifest>;
  /** Puts the bytes under a tag or their digest; the digest the registry answered with. */
  putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<string>;
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
  /** Streams the blob into the upload, checking its size and digest on the way; nothing is stored when they differ. */
  uploadBlob(uploadUrl: string, source: AsyncIterable<Buffer>, blob: BlobDescriptor, options?: UploadOptions): Promise<void>;
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
export interface ImageRegistry extends ManifestApi, BlobApi, ReferrersApi {
  /** Its host (and port): what names it in references, logs and errors. */
  readonly host: string;
  /** Closes the connections it keeps open. */
  close(): void;
}

/** The registry's HTTP API. */
export class RegistryHttpApi implements ImageRegistry {
  readonly host: string;

  constructor(
    private readonly client: RegistryClient,
    private readonly agents: { http: Agent; https: Agent },
  ) {
    this.host = client.host;
  }

  getManifest(repository: string, reference: string, signal?: AbortSignal): Promise<StoredManifest> {
    return getManifest(this.client, repository, reference, signal);
  }

  async putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<string> {
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

  uploadBlob(uploadUrl: string, source: AsyncIterable<Buffer>, blob: BlobDescriptor, options?: UploadOptions): Promise<void> {
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
export async function openRegistryHttpApi(location: RegistryLocation, timeouts: AwsTimeouts, proxied: boolean, redactor: Redactor): Promise<ImageRegistry> {
  const agents = await registryAgents(redactor, timeouts, proxied);
  return new RegistryHttpApi(new RegistryClient(location, timeouts, agents, redactor), agents);
}
