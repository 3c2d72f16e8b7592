import { planPull, type ImageRequest } from '../docker/transfer-plan';
import { MissingImageError, ParamError, PluginError, quote } from '../errors';
import type { ActivityLog } from '../kaholo/activity-log';
import { shown } from '../kaholo/param-reader';
import type { ImageId, RepositoryLocation, StoredManifest } from './registry-api';
import type { RepositoryTarget } from './repository-creation';

/**
 * Adds tags to an image already in the registry the way ECR itself does: its
 * manifest is read, then put again, byte for byte with its media type, under
 * each new tag. No layer moves and no Docker is involved; for a
 * multi-platform image the index is tagged, so every platform is.
 */

/** What tagImage returns: the source reference, its digest, the registry host, and its tags. */
export interface TaggedImage {
  image: string;
  digest: string;
  registry: string;
  tags: string[];
}

/** tagImage: `imageName` (a tag or digest in the repository, parsed as a pull parses it) gets `tags` too. */
export async function tagImageInRepository(target: RepositoryTarget, image: ImageRequest, tags: string[], log: ActivityLog): Promise<TaggedImage> {
  const source = sourceImageId(image);
  // The registry host (for the result) and the manifest, in one round trip's time.
  const [repositories, stored] = await Promise.all([
    target.registry.describeRepositories([target.repoName]),
    getImage(target, source, `${shown(image.text)} is not in repository ${quote(target.repoName)}`, 'imageName'),
  ]);
  const location = locationOfUri(repositories[0]?.repositoryUri, target.repoName);
  const reference = planPull(image, target.repoName, location);
  await putTags(target, stored, tags, 'tags', log);
  return { image: reference, digest: stored.digest, registry: location.host, tags: unique([...(source.tag !== undefined ? [source.tag] : []), ...tags]) };
}

/**
 * Where a repository's URI says it is: `<host>/<path>`, the path being the
 * repository's name, or on ECR Public `<alias>/<name>` (hosts hold no "/").
 */
function locationOfUri(uri: string | undefined, repoName: string): RepositoryLocation {
  const slash = uri?.indexOf('/') ?? -1;
  const location = uri !== undefined && slash > 0 ? { host: uri.slice(0, slash), path: uri.slice(slash + 1) } : undefined;
  if (location === undefined || !(location.path === repoName || location.path.endsWith(`/${repoName}`))) {
    throw new PluginError(`DescribeRepositories returned no URI of repository ${quote(repoName)} (${uri === undefined ? 'none' : quote(uri)})`);
  }
  return location;
}

/** Push: every tag that now names the pushed digest, the pushed one first. */
export async function tagPushedImage(target: RepositoryTarget, pushed: { image: string; digest: string }, additionalTags: string[], log: ActivityLog): Promise<string[]> {
  // `<host>/<path>:<tag>`: repository paths hold no ':', so the last one starts the tag.
  const pushedTag = pushed.image.slice(pushed.image.lastIndexOf(':') + 1);
  const tags = unique([pushedTag, ...additionalTags]);
  if (tags.length === 1) return tags;
  const stored = await getImage(target, { digest: pushed.digest }, `the pushed image ${pushed.digest} is not in repository ${quote(target.repoName)}`);
  await putTags(target, stored, tags.slice(1), 'additionalTags', log);
  return tags;
}

/** The image named: a bare word is a tag; a reference gives its digest, else its tag (none: latest). */
function sourceImageId(image: ImageRequest): ImageId {
  if (image.kind === 'word') return { tag: image.text };
  const { ref } = image;
  return ref.digest !== undefined ? { digest: ref.digest } : { tag: ref.tag ?? 'latest' };
}

/** The manifest of one image; a missing one becomes `missing`, naming `param` if given. */
async function getImage({ registry, repoName }: RepositoryTarget, image: ImageId, missing: string, param?: string): Promise<StoredManifest> {
  try {
    return await registry.getManifest(repoName, image);
  } catch (error) {
    if (!(error instanceof MissingImageError)) throw error;
    throw param !== undefined ? new ParamError(param, `${missing} (${error.reason})`) : new PluginError(`${missing} (${error.reason})`);
  }
}

/**
 * The stored manifest put under each tag. A tag that already names this
 * digest is fine; one that names another image of an IMMUTABLE repository is
 * an error naming the tag.
 */
async function putTags({ registry, repoName }: RepositoryTarget, stored: StoredManifest, tags: string[], param: string, log: ActivityLog): Promise<void> {
  for (const tag of tags) {
    const answer = await registry.putManifest(repoName, stored, tag);
    if (answer.outcome === 'stored') {
      log.info(`Tagged ${repoName}@${stored.digest} as ${tag}`);
    } else if (answer.outcome === 'already-exists') {
      log.info(`${repoName}:${tag} already names ${stored.digest}`);
    } else {
      throw new ParamError(param, `tag ${quote(tag)} already names another image in repository ${quote(repoName)}, whose tags are immutable; choose another tag`);
    }
  }
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
