/**
 * Image manifests as the real registry behind an ECR registry holds them, read and written over
 * the registry's own HTTP API (/v2/<repository>/manifests/<reference>) as the user its tokens name,
 * so a tag PutImage adds is pullable with docker and what docker pushed is what BatchGetImage finds.
 * Each manifest is kept byte for byte with its media type; its digest is the sha256 of its bytes.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { MANIFEST_MEDIA_TYPES } from '../../src/registry/media-types';
import { ServiceError } from '../aws/json-protocol';
import type { RegistryConfig } from './registries';

/**
 * A registry the stand-in reads and writes manifests on: its URL, and the password its tokens
 * carry (Basic auth as 'AWS'), or, for a registry that trusts a token service (ECR Public's), a
 * token of the kit's own for the repository.
 */
export type ManifestRegistry = Pick<RegistryConfig, 'url' | 'password'> & { bearer?: (repository: string) => string };

export interface Manifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

interface RegistryAnswer {
  status: number;
  contentType: string;
  body: Buffer;
}

const REGISTRY_TIMEOUT_MS = 10_000;

export const manifestDigest = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** One request to the registry's /v2/ API as the user its tokens name ('AWS'), bounded in time. */
function registryRequest(registry: ManifestRegistry, method: 'GET' | 'PUT', path: string, body?: Manifest): Promise<RegistryAnswer> {
  const url = new URL(`/v2/${path}`, registry.url);
  const repository = path.slice(0, path.lastIndexOf('/manifests/'));
  const headers = {
    Authorization: registry.bearer ? `Bearer ${registry.bearer(repository)}` : `Basic ${Buffer.from(`AWS:${registry.password}`).toString('base64')}`,
    ...(body ? { 'Content-Type': body.mediaType, 'Content-Length': String(body.bytes.length) } : { Accept: MANIFEST_MEDIA_TYPES.join(', ') }),
  };
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(url, { method, headers, agent: false, timeout: REGISTRY_TIMEOUT_MS }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, contentType: (response.headers['content-type'] ?? '').split(';')[0].trim(), body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`registry ${registry.url} did not answer ${method} ${path}`)));
    request.on('error', reject);
    request.end(body?.bytes);
  });
}

/** An answer the stand-in cannot make sense of: ECR's internal error, with what the registry said. */
const registryFailure = (what: string, answer: RegistryAnswer): ServiceError =>
  new ServiceError('ServerException', `Registry ${what} failed: HTTP ${answer.status} ${answer.body.toString('utf8').slice(0, 200)}`, 500);

/** A manifest by tag or digest, as stored; undefined when the registry has none. */
export async function readManifest(registry: ManifestRegistry, repository: string, reference: string): Promise<Manifest | undefined> {
  const answer = await registryRequest(registry, 'GET', `${repository}/manifests/${reference}`);
  if (answer.status === 404) return undefined;
  if (answer.status !== 200) throw registryFailure(`GET manifest ${repository}:${reference}`, answer);
  return { digest: manifestDigest(answer.body), mediaType: answer.contentType, bytes: answer.body };
}

/**
 * Puts a manifest under a tag or its digest: 'written', or 'missing-references' when the registry
 * lacks a blob or manifest it refers to.
 */
export async function writeManifest(
  registry: ManifestRegistry,
  repository: string,
  reference: string,
  manifest: Manifest,
): Promise<'written' | 'missing-references'> {
  const answer = await registryRequest(registry, 'PUT', `${repository}/manifests/${reference}`, manifest);
  if (answer.status === 201) return 'written';
  if (answer.status === 400 && /BLOB_UNKNOWN|MANIFEST_UNKNOWN/.test(answer.body.toString('utf8'))) return 'missing-references';
  throw registryFailure(`PUT manifest ${repository}:${reference}`, answer);
}
