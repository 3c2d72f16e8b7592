/**
 * The artifacts that refer to a manifest (OCI 1.1 `subject`: signatures,
 * SBOMs, attestations). A registry with the referrers API lists them itself;
 * for one without it (its answer is 404), clients keep an index of them under
 * the tag `sha256-<hex>` of the subject's digest: read it, and add to it.
 */
import { getManifest, MAX_MANIFEST_BYTES, putManifest } from './manifests';
import { OCI_INDEX } from '../registry/media-types';
import type { RegistryClient } from './registry-client';
import { RegistryError } from './registry-error';

/** A referrer as the lists name it. */
export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ReferrerList {
  referrers: ReferrerDescriptor[];
  /** Where they were found: the registry's API, or the tag schema's index. */
  via: 'api' | 'tag';
}

/** The tag schema's tag for a subject: "sha256:abc…" → "sha256-abc…". */
function referrersTag(digest: string): string {
  return digest.replace(':', '-');
}

/** Pages of one referrers list read at most: a registry's pages hold many descriptors each. */
const MAX_REFERRER_PAGES = 1000;

/**
 * The referrers of `digest`, from the registry's API (every page of it: a
 * registry that cannot list them in one answer names the next page in a
 * `Link: <…>; rel="next"` header), or where it has none, from the tag schema's index.
 */
export async function listReferrers(client: RegistryClient, repository: string, digest: string, signal?: AbortSignal): Promise<ReferrerList> {
  const first = `/v2/${repository}/referrers/${digest}`;
  const referrers: ReferrerDescriptor[] = [];
  const read = new Set<string>();
  for (let url: string | undefined = first; url !== undefined; ) {
    const response = await client.request({ method: 'GET', url, headers: { Accept: OCI_INDEX }, expect: read.size === 0 ? [200, 404] : [200], signal });
    if (response.status === 404) {
      response.discard();
      const index = await readTagIndex(client, repository, digest, signal);
      return { referrers: index?.referrers ?? [], via: 'tag' };
    }
    read.add(response.url.href);
    referrers.push(...descriptorsOf(await response.bytes(MAX_MANIFEST_BYTES), client.describe('GET', response.url)));
    const next = nextPage(response.header('link'), response.url);
    if (next !== undefined && read.has(next)) throw new RegistryError(`${client.describe('GET', first)}: the Link to the next page of referrers leads back to a page already read`);
    if (next !== undefined && read.size >= MAX_REFERRER_PAGES) throw new RegistryError(`${client.describe('GET', first)}: more than ${MAX_REFERRER_PAGES} pages of referrers`);
    url = next;
  }
  return { referrers, via: 'api' };
}

/** The URL of a Link header's rel="next" (RFC 8288), resolved against the page that named it. */
function nextPage(link: string | undefined, from: URL): string | undefined {
  for (const [, target, params] of (link ?? '').matchAll(/<([^>]*)>([^,]*)/g)) {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(params);
    if ((rel?.[1] ?? rel?.[2] ?? '').split(/\s+/).includes('next')) return new URL(target, from).href;
  }
  return undefined;
}

/**
 * Adds `referrers` to the tag schema's index of `subject` (made when there is
 * none), keeping what it lists already. Returns the index's digest and
 * whether it changed. The caller holds the tag's lock: this reads, then writes.
 */
export async function addToTagIndex(client: RegistryClient, repository: string, subject: string, referrers: ReferrerDescriptor[], signal?: AbortSignal): Promise<{ digest: string; changed: boolean }> {
  const current = await readTagIndex(client, repository, subject, signal);
  const known = new Set(current?.referrers.map((r) => r.digest));
  const added = referrers.filter((r) => !known.has(r.digest));
  if (current !== undefined && added.length === 0) return { digest: current.digest, changed: false };
  const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...(current?.referrers ?? []), ...added] };
  const bytes = Buffer.from(JSON.stringify(index));
  // putManifest counts the put only once the registry answered with (or holds) these bytes' digest.
  const answer = await putManifest(client, repository, referrersTag(subject), { bytes, mediaType: OCI_INDEX }, signal);
  return { digest: answer.digest, changed: true };
}

async function readTagIndex(client: RegistryClient, repository: string, subject: string, signal?: AbortSignal): Promise<{ referrers: ReferrerDescriptor[]; digest: string } | undefined> {
  try {
    const manifest = await getManifest(client, repository, referrersTag(subject), signal);
    return { referrers: descriptorsOf(manifest.bytes, `the referrers index ${repository}:${referrersTag(subject)}`), digest: manifest.digest };
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404) return undefined;
    throw error;
  }
}

/** The well-formed descriptors of an index; anything else in it is a registry's mistake and an error. */
function descriptorsOf(bytes: Buffer, what: string): ReferrerDescriptor[] {
  let manifests: unknown;
  try {
    manifests = (JSON.parse(bytes.toString('utf8')) as { manifests?: unknown }).manifests ?? [];
  } catch {
    throw new RegistryError(`${what} is not a JSON index`);
  }
  if (!Array.isArray(manifests)) throw new RegistryError(`${what} has no list of manifests`);
  return manifests.map((entry: unknown) => {
    const d = entry as Partial<ReferrerDescriptor> | null;
    if (typeof d?.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d.digest) || typeof d.mediaType !== 'string' || typeof d.size !== 'number') {
      throw new RegistryError(`${what} lists an entry that is not a descriptor`);
    }
    return {
      mediaType: d.mediaType,
      digest: d.digest,
      size: d.size,
      ...(typeof d.artifactType === 'string' ? { artifactType: d.artifactType } : {}),
      ...(d.annotations !== undefined ? { annotations: d.annotations } : {}),
    };
  });
}
