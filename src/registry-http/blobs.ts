import type { RegistryClient, RegistryResponse } from './registry-client';
import { RegistryError } from './registry-error';

/** A blob as manifests name it. */
export interface BlobDescriptor {
  digest: string;
  size: number;
}

/** What a cross-repository mount came to: done, or an upload the registry started instead. */
export type MountAnswer = { mounted: true } | { mounted: false; uploadUrl: string };

function blobPath(repository: string, digest: string): string {
  return `/v2/${repository}/blobs/${digest}`;
}

/**
 * The size the registry gives for the blob (HEAD), or undefined when it does
 * not hold it. A digest it names must be the one asked for.
 */
export async function blobSize(client: RegistryClient, repository: string, digest: string, signal?: AbortSignal): Promise<number | undefined> {
  const response = await client.request({ method: 'HEAD', url: blobPath(repository, digest), expect: [200, 404], signal });
  response.discard();
  if (response.status === 404) return undefined;
  const said = response.header('docker-content-digest');
  const length = Number(response.header('content-length'));
  if ((said !== undefined && said !== digest) || !Number.isSafeInteger(length)) return undefined;
  return length;
}

/**
 * The blob's bytes as they come (GET, its redirect to storage followed). Its
 * length, when the answer gives one, must be the descriptor's size.
 */
export async function openBlob(client: RegistryClient, repository: string, blob: BlobDescriptor, signal?: AbortSignal): Promise<RegistryResponse> {
  const response = await client.request({ method: 'GET', url: blobPath(repository, blob.digest), expect: [200], signal });
  const length = response.header('content-length');
  if (length !== undefined && Number(length) !== blob.size) {
    response.body.destroy();
    throw new RegistryError(`${client.describe('GET', response.url)} answered with ${length} bytes for ${blob.digest}, whose size is ${blob.size}`);
  }
  return response;
}

/**
 * Mounts a blob from another repository of the same registry: no byte moves.
 * A registry that cannot (another account's repository, no permission) starts
 * an ordinary upload instead (202), whose URL comes back.
 */
export async function mountBlob(client: RegistryClient, repository: string, digest: string, from: string, signal?: AbortSignal): Promise<MountAnswer> {
  const query = new URLSearchParams({ mount: digest, from });
  const url = `/v2/${repository}/blobs/uploads/?${query.toString()}`;
  const response = await client.request({ method: 'POST', url, expect: [201, 202], signal });
  response.discard();
  if (response.status === 202) return { mounted: false, uploadUrl: uploadLocation(client, response) };
  const said = response.header('docker-content-digest');
  if (said !== undefined && said !== digest) throw new RegistryError(`${client.describe('POST', url)} mounted ${said}, not ${digest}`);
  return { mounted: true };
}

/** Where the registry wants the next part of an upload. */
export function uploadLocation(client: RegistryClient, response: RegistryResponse): string {
  const location = response.header('location');
  if (location === undefined) throw new RegistryError(`${client.describe('POST', response.url)} started an upload but gave no Location`);
  return new URL(location, response.url).toString();
}
