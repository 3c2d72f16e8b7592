import { createHash } from 'node:crypto';
import { quote } from '../errors';
import { MANIFEST_MEDIA_TYPES } from '../registry/media-types';
import type { RegistryClient } from './registry-client';
import { RegistryError } from './registry-error';

/** A manifest as the registry holds it: its exact bytes, its media type and the digest of those bytes. */
export interface StoredManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

/** What a manifest PUT was answered with. */
export interface PutManifestAnswer {
  /** The digest the registry says it stored (Docker-Content-Digest), or read back. */
  digest: string;
  /** The registry named the manifest's subject (OCI-Subject): it keeps the referrers of that subject itself. */
  subjectIndexed: boolean;
}

/** Registries accept manifests of at least 4 MiB; nothing bigger is read into memory. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * A manifest by tag or digest, byte for byte (asking for every manifest type,
 * so no registry converts it). Its digest is computed from the bytes and must
 * agree with the reference when that is a digest, and with what the registry
 * says (Docker-Content-Digest). A missing one is a RegistryError with status 404.
 */
export async function getManifest(client: RegistryClient, repository: string, reference: string, signal?: AbortSignal): Promise<StoredManifest> {
  const url = manifestPath(repository, reference);
  const response = await client.request({ method: 'GET', url, headers: { Accept: MANIFEST_MEDIA_TYPES.join(', ') }, expect: [200], signal });
  const bytes = await response.bytes(MAX_MANIFEST_BYTES);
  const digest = sha256Digest(bytes);
  const said = response.header('docker-content-digest');
  const asked = reference.startsWith('sha256:') ? reference : undefined;
  for (const expected of [asked, said]) {
    if (expected !== undefined && expected !== digest) {
      throw new RegistryError(`${client.describe('GET', url)} answered with a manifest whose digest is ${digest}, not ${expected}: it was changed on the way`);
    }
  }
  return { bytes, mediaType: mediaTypeOf(response.header('content-type'), bytes, client.describe('GET', url)), digest };
}

/**
 * Puts a manifest under a tag or its digest. Done only once the registry
 * answered with the digest of these very bytes (or, when it gave none, a
 * read-back shows them there).
 */
export async function putManifest(
  client: RegistryClient,
  repository: string,
  reference: string,
  manifest: { bytes: Buffer; mediaType: string },
  signal?: AbortSignal,
): Promise<PutManifestAnswer> {
  const url = manifestPath(repository, reference);
  const expected = sha256Digest(manifest.bytes);
  const response = await client.request({ method: 'PUT', url, headers: { 'Content-Type': manifest.mediaType }, body: manifest.bytes, expect: [200, 201, 202, 204], signal });
  response.discard();
  const said = response.header('docker-content-digest') ?? (await getManifest(client, repository, reference, signal)).digest;
  if (said !== expected) {
    throw new RegistryError(`${client.describe('PUT', url)} stored ${said}, not the manifest sent (${expected})`);
  }
  return { digest: said, subjectIndexed: response.header('oci-subject') !== undefined };
}

/**
 * The digest of what a tag (or digest) names in the registry, or undefined
 * when it names nothing: HEAD's Docker-Content-Digest, or when the registry
 * gives none, the digest of the manifest read.
 */
export async function manifestDigest(client: RegistryClient, repository: string, reference: string, signal?: AbortSignal): Promise<string | undefined> {
  const response = await client.request({ method: 'HEAD', url: manifestPath(repository, reference), headers: { Accept: MANIFEST_MEDIA_TYPES.join(', ') }, expect: [200, 404], signal });
  response.discard();
  if (response.status === 404) return undefined;
  return response.header('docker-content-digest') ?? (await getManifest(client, repository, reference, signal)).digest;
}

function manifestPath(repository: string, reference: string): string {
  return `/v2/${repository}/manifests/${reference}`;
}

/** The answer's Content-Type when it names a manifest type, else the manifest's own mediaType field. */
function mediaTypeOf(contentType: string | undefined, bytes: Buffer, what: string): string {
  const given = contentType?.split(';')[0].trim();
  if (given !== undefined && (MANIFEST_MEDIA_TYPES as readonly string[]).includes(given)) return given;
  try {
    const declared = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType;
    if (typeof declared === 'string') return declared;
  } catch {
    throw new RegistryError(`${what} answered with a manifest that is not JSON (type ${quote(given ?? 'none')})`);
  }
  return given ?? 'application/octet-stream';
}
