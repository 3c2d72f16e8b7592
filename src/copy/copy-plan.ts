/**
 * What a copy must move, read from the source before anything is written:
 * the image's manifest (an index with every platform's manifest), every
 * config and layer, and, when asked, the artifacts that refer to any of
 * those manifests (and to them, in turn). Each manifest is kept byte for
 * byte, its digest and size checked against what names it.
 */
import { PluginError, quote } from '../errors';
import type { ActivityLog } from '../kaholo/activity-log';
import { MissingPartError, missingPart } from './copy-errors';
import { shortDigest } from './copy-progress';
import { FOREIGN_LAYER_MEDIA_TYPES, INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES } from '../registry/media-types';
import type { BlobDescriptor, ImageRegistry, ReferrerDescriptor } from '../registry-http/registry-http-api';

export interface ManifestNode {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  /** An index's manifests, in its order. */
  children: ManifestNode[];
  /** An image manifest's config and layers (layers the registry does not hold left out). */
  blobs: BlobDescriptor[];
  /** For a referrer: the digest it refers to, and how the lists name it. */
  referrer?: { subject: string; descriptor: ReferrerDescriptor };
}

export interface CopyPlan {
  root: ManifestNode;
  /** Every manifest, each after its children and after its subject: the order they can be put in. */
  manifests: ManifestNode[];
  /** Every blob, once. */
  blobs: BlobDescriptor[];
  /** The referrers, in the order found. */
  referrers: ManifestNode[];
  /** The platforms of an index (attestations left out); 1 for a single manifest. */
  platforms: number;
  /** How the source's referrers were found: its API, its tag schema, or not looked for. */
  referrersVia?: 'api' | 'tag';
}

/** Reads manifests and referrers; each call may be retried by the caller's `attempt`. */
export interface PlanSource {
  registry: ImageRegistry;
  repository: string;
  signal: AbortSignal;
  attempt: <T>(what: string, call: () => Promise<T>) => Promise<T>;
  log: ActivityLog;
}

/** Referrers of referrers are followed this deep (a signature of an SBOM of an image is 2). */
const MAX_REFERRER_DEPTH = 4;

interface ManifestJson {
  mediaType?: unknown;
  artifactType?: unknown;
  annotations?: unknown;
  config?: { mediaType?: unknown; digest?: unknown; size?: unknown };
  layers?: unknown[];
  manifests?: unknown[];
  subject?: unknown;
}

export async function planCopy(source: PlanSource, reference: string, withReferrers: boolean): Promise<CopyPlan> {
  const seen = new Map<string, ManifestNode>();
  const root = await readNode(source, reference, undefined, seen);
  const image = [...walk(root)];
  const referrers: ManifestNode[] = [];
  let referrersVia: CopyPlan['referrersVia'];
  if (withReferrers) {
    let subjects = image;
    for (let depth = 0; depth < MAX_REFERRER_DEPTH && subjects.length > 0; depth++) {
      const found: ManifestNode[] = [];
      for (const subject of subjects) {
        const list = await source.attempt(`Listing the referrers of ${subject.digest}`, () => source.registry.listReferrers(source.repository, subject.digest, source.signal));
        referrersVia ??= list.via;
        for (const descriptor of list.referrers) {
          if (seen.has(descriptor.digest)) continue;
          const node = await readNode(source, descriptor.digest, descriptor.size, seen).catch((error: unknown) => {
            // A list may name a referrer deleted since (the tag schema's index is not updated by a delete): no part of the image.
            if (!(error instanceof MissingPartError && error.digest === descriptor.digest)) throw error;
            source.log.info(`Left out ${shortDigest(descriptor.digest)}…, which ${source.registry.host}/${source.repository} lists as a referrer of ${shortDigest(subject.digest)}… but does not hold`);
            return undefined;
          });
          if (node === undefined) continue;
          node.referrer = { subject: subject.digest, descriptor: referrerDescriptor(node) };
          found.push(node);
        }
      }
      referrers.push(...found);
      subjects = found.flatMap((node) => [...walk(node)]);
    }
  }
  const manifests = [...new Map([...image, ...referrers.flatMap((node) => [...walk(node)])].map((node) => [node.digest, node])).values()];
  const blobs = new Map<string, BlobDescriptor>();
  for (const node of manifests) for (const blob of node.blobs) blobs.set(blob.digest, blob);
  return { root, manifests, blobs: [...blobs.values()], referrers, platforms: platformCount(root), ...(referrersVia ? { referrersVia } : {}) };
}

/** The node and everything below it, children first. */
function* walk(node: ManifestNode): Generator<ManifestNode> {
  for (const child of node.children) yield* walk(child);
  yield node;
}

async function readNode(source: PlanSource, reference: string, size: number | undefined, seen: Map<string, ManifestNode>): Promise<ManifestNode> {
  // What an index or a referrers list names (size known) and is missing makes the image incomplete; only the image itself is imageName's.
  const stored = await source
    .attempt(`Reading the manifest ${reference}`, () => source.registry.readManifest(source.repository, reference, source.signal))
    .catch((error: unknown) => {
      throw size === undefined ? error : missingPart(error, { host: source.registry.host, repository: source.repository }, reference);
    });
  const { bytes, mediaType, digest } = stored;
  if (size !== undefined && bytes.length !== size) throw new PluginError(`The manifest ${digest} in ${source.repository} is ${bytes.length} bytes, not the ${size} its index names`);
  if (!(MANIFEST_MEDIA_TYPES as readonly string[]).includes(mediaType)) {
    throw new PluginError(`${source.repository}@${digest} is a ${quote(mediaType)}, not an image manifest or index that copyImage copies`);
  }
  const json = parse(bytes, digest);
  const node: ManifestNode = { digest, mediaType, bytes, children: [], blobs: [] };
  seen.set(digest, node);
  if (INDEX_MEDIA_TYPES.has(mediaType)) {
    for (const entry of json.manifests ?? []) {
      const child = descriptor(entry, digest);
      node.children.push(seen.get(child.digest) ?? (await readNode(source, child.digest, child.size, seen)));
    }
  } else {
    const layers = (json.layers ?? []).map((entry) => ({ ...descriptor(entry, digest), foreign: FOREIGN_LAYER_MEDIA_TYPES.includes(String((entry as { mediaType?: unknown }).mediaType)) }));
    node.blobs = [descriptor(json.config, digest), ...layers.filter((layer) => !layer.foreign).map(({ digest: d, size: s }) => ({ digest: d, size: s }))];
  }
  return node;
}

function parse(bytes: Buffer, digest: string): ManifestJson {
  try {
    const json = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) return json;
  } catch {
    // Falls through to the error below.
  }
  throw new PluginError(`The manifest ${digest} is not a JSON object`);
}

function descriptor(entry: unknown, within: string): BlobDescriptor {
  const d = entry as { digest?: unknown; size?: unknown } | undefined;
  if (typeof d?.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d.digest) || typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw new PluginError(`The manifest ${within} names something that is not a sha256 descriptor with a size`);
  }
  return { digest: d.digest, size: d.size };
}

/** How a referrers list names an artifact: its type (artifactType, else its config's type) and annotations. */
function referrerDescriptor(node: ManifestNode): ReferrerDescriptor {
  const json = parse(node.bytes, node.digest);
  const artifactType = typeof json.artifactType === 'string' ? json.artifactType : typeof json.config?.mediaType === 'string' ? json.config.mediaType : undefined;
  const annotations = typeof json.annotations === 'object' && json.annotations !== null ? (json.annotations as Record<string, string>) : undefined;
  return { mediaType: node.mediaType, digest: node.digest, size: node.bytes.length, ...(artifactType ? { artifactType } : {}), ...(annotations ? { annotations } : {}) };
}

/** Platforms of an index: its manifests but the attestations BuildKit adds (platform unknown/unknown). */
function platformCount(root: ManifestNode): number {
  if (root.children.length === 0) return 1;
  const entries = (parse(root.bytes, root.digest).manifests ?? []) as Array<{ annotations?: Record<string, unknown> }>;
  return entries.filter((entry) => entry.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest').length;
}
