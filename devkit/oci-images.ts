/**
 * Images written straight to a registry's HTTP API, with no network and no Docker engine: layers
 * of random bytes (each a gzipped tar of one file, so docker can pull and unpack them), a config,
 * an OCI manifest; an OCI index of several platforms; and artifacts that refer to an image
 * (`subject`), listed as a registry without the referrers API needs (the tag schema's index
 * `sha256-<hex>`) unless the registry answered that it keeps them itself (`OCI-Subject`).
 * This is the kit's own small client, written apart from the plugin's, so that what the tests copy
 * was not made by the code under test.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';

export interface RegistryAccess {
  /** 'http://127.0.0.1:PORT' (a registry, or a front of one). */
  url: string;
  user: string;
  password: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
}

export interface WrittenImage extends Descriptor {
  bytes: Buffer;
  /** Config and layers. */
  blobs: Descriptor[];
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const TIMEOUT_MS = 60_000;

export const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request with basic auth, bounded in time. */
export function registryRequest(access: RegistryAccess, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const url = new URL(path, access.url);
  const auth = Buffer.from(`${access.user}:${access.password}`).toString('base64');
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: false, timeout: TIMEOUT_MS, headers: { Authorization: `Basic ${auth}`, 'Content-Length': String(body?.length ?? 0), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.toString()} did not answer`)));
    req.on('error', reject);
    req.end(body);
  });
}

const expectStatus = (answer: Answer, status: number, what: string): void => {
  if (answer.status !== status) throw new Error(`${what}: HTTP ${answer.status} ${answer.body.toString('utf8').slice(0, 200)}`);
};

/** Uploads a blob in one go (POST, then PUT with its digest); its descriptor. */
export async function putBlob(access: RegistryAccess, repository: string, bytes: Buffer, mediaType: string): Promise<Descriptor> {
  const digest = sha256(bytes);
  const started = await registryRequest(access, 'POST', `/v2/${repository}/blobs/uploads/`);
  expectStatus(started, 202, `starting an upload to ${repository}`);
  const location = new URL(String(started.headers.location), access.url);
  location.searchParams.set('digest', digest);
  const done = await registryRequest(access, 'PUT', `${location.pathname}${location.search}`, bytes, { 'Content-Type': 'application/octet-stream' });
  expectStatus(done, 201, `uploading ${digest} to ${repository}`);
  return { mediaType, digest, size: bytes.length };
}

/** Puts a manifest; its digest and whether the registry keeps the referrers of its subject itself. */
export async function putManifest(access: RegistryAccess, repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<{ digest: string; subjectIndexed: boolean }> {
  const answer = await registryRequest(access, 'PUT', `/v2/${repository}/manifests/${reference}`, bytes, { 'Content-Type': mediaType });
  expectStatus(answer, 201, `putting the manifest ${repository}:${reference}`);
  return { digest: sha256(bytes), subjectIndexed: answer.headers['oci-subject'] !== undefined };
}

/** A manifest as the registry holds it, or undefined. */
export async function getManifest(access: RegistryAccess, repository: string, reference: string): Promise<{ bytes: Buffer; digest: string; mediaType: string } | undefined> {
  const accept = ['application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json', OCI_MANIFEST, OCI_INDEX].join(', ');
  const answer = await registryRequest(access, 'GET', `/v2/${repository}/manifests/${reference}`, undefined, { Accept: accept });
  if (answer.status === 404) return undefined;
  expectStatus(answer, 200, `reading the manifest ${repository}:${reference}`);
  return { bytes: answer.body, digest: sha256(answer.body), mediaType: String(answer.headers['content-type'] ?? '') };
}

/** A tar archive of one regular file (POSIX ustar). */
function tarOf(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const field = (text: string, offset: number, length: number): void => void header.write(text, offset, length, 'ascii');
  const octal = (value: number, length: number): string => `${value.toString(8).padStart(length - 1, '0')}\0`;
  field(name, 0, 100);
  field(octal(0o644, 8), 100, 8);
  field(octal(0, 8), 108, 8);
  field(octal(0, 8), 116, 8);
  field(octal(content.length, 12), 124, 12);
  field(octal(0, 12), 136, 12);
  field('        ', 148, 8);
  field('0', 156, 1);
  field('ustar\0', 257, 6);
  field('00', 263, 2);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}

/**
 * An image of `layerSizes` layers (each that many random bytes in a gzipped tar) for one platform,
 * its manifest put under `tag` (or only its digest).
 */
export async function writeImage(access: RegistryAccess, repository: string, tag: string | undefined, layerSizes: number[], architecture = 'amd64'): Promise<WrittenImage> {
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const [index, size] of layerSizes.entries()) {
    const tar = tarOf(`layer-${index}.bin`, randomBytes(size));
    diffIds.push(sha256(tar));
    layers.push(await putBlob(access, repository, gzipSync(tar, { level: 1 }), 'application/vnd.oci.image.layer.v1.tar+gzip'));
  }
  const configBytes = Buffer.from(JSON.stringify({ architecture, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const config = await putBlob(access, repository, configBytes, 'application/vnd.oci.image.config.v1+json');
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers }));
  const { digest } = await putManifest(access, repository, tag ?? sha256(bytes), bytes, OCI_MANIFEST);
  return { mediaType: OCI_MANIFEST, digest, size: bytes.length, bytes, blobs: [config, ...layers], platform: { architecture, os: 'linux' } };
}

/** An OCI index of one image per architecture, under `tag`; indented, so only a byte-for-byte copy keeps its digest. */
export async function writeIndex(access: RegistryAccess, repository: string, tag: string, layerSizes: number[], architectures = ['amd64', 'arm64']): Promise<WrittenImage & { children: WrittenImage[] }> {
  const children: WrittenImage[] = [];
  for (const architecture of architectures) children.push(await writeImage(access, repository, undefined, layerSizes, architecture));
  const manifests = children.map(({ mediaType, digest, size, platform }) => ({ mediaType, digest, size, platform }));
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }, null, 3));
  const { digest } = await putManifest(access, repository, tag, bytes, OCI_INDEX);
  return { mediaType: OCI_INDEX, digest, size: bytes.length, bytes, blobs: children.flatMap((c) => c.blobs), children };
}

/**
 * An artifact referring to `subject` (a signature or an SBOM): an empty config, one layer of
 * `payload`. Where the registry does not keep referrers itself, it is added to the tag schema's
 * index of the subject, as a client does.
 */
export async function writeReferrer(access: RegistryAccess, repository: string, subject: Descriptor, artifactType: string, payload: Buffer): Promise<WrittenImage> {
  const config = await putBlob(access, repository, Buffer.from('{}'), 'application/vnd.oci.empty.v1+json');
  const layer = await putBlob(access, repository, payload, 'application/octet-stream');
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config,
      layers: [layer],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
    }),
  );
  const { digest, subjectIndexed } = await putManifest(access, repository, sha256(bytes), bytes, OCI_MANIFEST);
  const written = { mediaType: OCI_MANIFEST, digest, size: bytes.length, bytes, blobs: [config, layer] };
  if (!subjectIndexed) {
    const tag = subject.digest.replace(':', '-');
    const current = await getManifest(access, repository, tag);
    const listed = current ? ((JSON.parse(current.bytes.toString('utf8')) as { manifests: unknown[] }).manifests ?? []) : [];
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...listed, { mediaType: OCI_MANIFEST, digest, size: bytes.length, artifactType }] }));
    await putManifest(access, repository, tag, index, OCI_INDEX);
  }
  return written;
}
