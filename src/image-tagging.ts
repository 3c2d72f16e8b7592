import type { Image, ImageIdentifier } from '@aws-sdk/client-ecr';
import type { ActivityLog } from './activity-log';
import { BatchGetImageCommand, describeAllRepositories, ecrCall, PutImageCommand } from './ecr-client';
import { describeAwsError, ParamError, PluginError, quote, shorten } from './errors';
import { shown } from './params';
import type { RepositoryTarget } from './repository-creation';
import { planPull, type ImageRequest } from './transfer-plan';

/**
 * Adds tags to an image already in the registry the way ECR itself does:
 * BatchGetImage for its manifest, then PutImage of that manifest, byte for
 * byte with its media type, under each new tag. No layer moves and no Docker
 * is involved; for a multi-platform image the index is tagged, so every
 * platform is.
 */

/** Every manifest an image may have: Docker v2 and OCI, single-platform and index. */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
];

/** An image's manifest as the registry holds it. */
interface StoredImage {
  digest: string;
  manifest: string;
  mediaType?: string;
}

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
    describeAllRepositories(target.client, { registryId: target.registryId, repositoryNames: [target.repoName] }),
    getImage(target, source, `${shown(image.text)} is not in repository ${quote(target.repoName)}`, 'imageName'),
  ]);
  const uri = repositories[0]?.repositoryUri;
  if (uri === undefined) throw new PluginError(`ECR DescribeRepositories returned no URI for repository ${quote(target.repoName)}`);
  const registry = uri.slice(0, uri.length - target.repoName.length - 1);
  const reference = planPull(image, target.repoName, registry);
  await putTags(target, stored, tags, 'tags', log);
  return { image: reference, digest: stored.digest, registry, tags: unique([...(source.imageTag !== undefined ? [source.imageTag] : []), ...tags]) };
}

/** Push: every tag that now names the pushed digest, the pushed one first. */
export async function tagPushedImage(target: RepositoryTarget, pushed: { image: string; digest: string }, additionalTags: string[], log: ActivityLog): Promise<string[]> {
  // `<host>/<repoName>:<tag>`: repository names hold no ':', so the last one starts the tag.
  const pushedTag = pushed.image.slice(pushed.image.lastIndexOf(':') + 1);
  const tags = unique([pushedTag, ...additionalTags]);
  if (tags.length === 1) return tags;
  const stored = await getImage(target, { imageDigest: pushed.digest }, `the pushed image ${pushed.digest} is not in repository ${quote(target.repoName)}`);
  await putTags(target, stored, tags.slice(1), 'additionalTags', log);
  return tags;
}

/** What BatchGetImage looks for: a bare word is a tag; a reference gives its digest, else its tag (none: latest). */
function sourceImageId(image: ImageRequest): ImageIdentifier {
  if (image.kind === 'word') return { imageTag: image.text };
  const { ref } = image;
  return ref.digest !== undefined ? { imageDigest: ref.digest } : { imageTag: ref.tag ?? 'latest' };
}

/**
 * The manifest of one image. BatchGetImage reports a missing image under
 * `failures`, not as an error; that becomes `missing`, naming `param` if given.
 */
async function getImage(target: RepositoryTarget, imageId: ImageIdentifier, missing: string, param?: string): Promise<StoredImage> {
  const { client, registryId, repoName } = target;
  let images: Image[];
  try {
    const response = await client.send(
      new BatchGetImageCommand({ registryId, repositoryName: repoName, imageIds: [imageId], acceptedMediaTypes: MANIFEST_MEDIA_TYPES }),
    );
    const [failure] = response.failures ?? [];
    if (failure !== undefined) {
      const reason = [failure.failureCode, failure.failureReason].filter(Boolean).join(': ');
      throw param !== undefined ? new ParamError(param, `${missing} (${reason})`) : new PluginError(`${missing} (${reason})`);
    }
    images = response.images ?? [];
  } catch (error) {
    throw describeAwsError(ecrCall(client, 'BatchGetImage'), error);
  }
  const [image] = images;
  const digest = image?.imageId?.imageDigest;
  if (image?.imageManifest === undefined || digest === undefined) {
    throw new PluginError(`ECR BatchGetImage returned no manifest for ${shorten(repoName)}`);
  }
  return { digest, manifest: image.imageManifest, mediaType: image.imageManifestMediaType };
}

/**
 * PutImage of the stored manifest under each tag. A tag that already names
 * this digest is fine (ImageAlreadyExistsException); one that names another
 * image of an IMMUTABLE repository is an error naming the tag.
 */
async function putTags(target: RepositoryTarget, stored: StoredImage, tags: string[], param: string, log: ActivityLog): Promise<void> {
  const { client, registryId, repoName } = target;
  for (const tag of tags) {
    try {
      await client.send(
        new PutImageCommand({
          registryId,
          repositoryName: repoName,
          imageManifest: stored.manifest,
          imageManifestMediaType: stored.mediaType,
          imageDigest: stored.digest,
          imageTag: tag,
        }),
      );
      log.info(`Tagged ${repoName}@${stored.digest} as ${tag}`);
    } catch (error) {
      const name = (error as { name?: unknown })?.name;
      if (name === 'ImageAlreadyExistsException') {
        log.info(`${repoName}:${tag} already names ${stored.digest}`);
      } else if (name === 'ImageTagAlreadyExistsException') {
        throw new ParamError(param, `tag ${quote(tag)} already names another image in repository ${quote(repoName)}, whose tags are immutable; choose another tag`);
      } else {
        throw describeAwsError(ecrCall(client, 'PutImage'), error);
      }
    }
  }
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
