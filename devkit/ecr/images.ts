/**
 * ECR's image operations on the manifests the real registry holds (manifest-store.ts):
 * BatchGetImage (by tag, digest or both, filtered by the accepted media types, ECR's failure codes
 * per image id) and PutImage (a manifest byte for byte under a tag or its digest, ECR's refusals
 * for a digest that does not match, an image already there, an IMMUTABLE tag). Pushes go from
 * docker straight to the registry: IMMUTABLE holds for PutImage only. PutImage may also answer as
 * other ECR-compatible endpoints do (`PutImageAnswers`), for the plugin to prove it verifies tags.
 */
import { INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES } from '../../src/registry/media-types';
import { invalidParameter, optionalString, optionalStringList, ServiceError, type Json, type Operation } from '../aws/json-protocol';
import { manifestDigest, readManifest, writeManifest, type Manifest } from './manifest-store';
import type { EcrRegistries, RegistryConfig } from './registries';

const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;
const KNOWN_MEDIA_TYPES: readonly string[] = MANIFEST_MEDIA_TYPES;

/** BatchGetImage's answer for one image id: its manifest, or its entry under `failures`. */
async function lookUpImage(
  registry: RegistryConfig,
  repository: string,
  id: { imageTag?: string; imageDigest?: string },
  accepted: string[] | undefined,
): Promise<Manifest | { failureCode: string; failureReason: string }> {
  const { imageTag, imageDigest } = id;
  if (imageTag === undefined && imageDigest === undefined) {
    return { failureCode: 'MissingDigestAndTag', failureReason: 'Invalid request parameters: both tag and digest cannot be null' };
  }
  if (imageDigest !== undefined && !DIGEST_PATTERN.test(imageDigest)) {
    return { failureCode: 'InvalidImageDigest', failureReason: 'Invalid request parameters: image digest should satisfy the regex' };
  }
  const manifest = await readManifest(registry, repository, imageDigest ?? imageTag ?? '');
  // The stand-in serves each manifest as stored; one of a type the caller does not accept is not found.
  if (!manifest || (accepted !== undefined && !accepted.includes(manifest.mediaType))) {
    return { failureCode: 'ImageNotFound', failureReason: 'Requested image not found' };
  }
  if (imageTag !== undefined && imageDigest !== undefined && (await readManifest(registry, repository, imageTag))?.digest !== imageDigest) {
    return { failureCode: 'ImageTagDoesNotMatchDigest', failureReason: 'Invalid request parameters: given tag does not map to the given digest' };
  }
  return manifest;
}

/** PutImage's manifest: its bytes as given, its media type from the request or its own mediaType field. */
export function manifestFromInput(input: Json): Manifest {
  const text = optionalString(input, 'imageManifest');
  if (text === undefined || text === '') throw invalidParameter(`Invalid parameter at 'imageManifest': must not be null`);
  let declared: unknown;
  try {
    declared = (JSON.parse(text) as Json).mediaType;
  } catch {
    throw invalidParameter(`Invalid parameter at 'imageManifest' failed to satisfy constraint: 'Invalid JSON syntax'`);
  }
  const given = optionalString(input, 'imageManifestMediaType');
  const mediaType = given ?? (typeof declared === 'string' ? declared : undefined);
  if (mediaType === undefined || !KNOWN_MEDIA_TYPES.includes(mediaType)) {
    throw invalidParameter(`Invalid parameter at 'imageManifestMediaType': unsupported or missing media type '${mediaType ?? ''}'`);
  }
  if (given !== undefined && typeof declared === 'string' && declared !== given) {
    throw invalidParameter(`Invalid parameter at 'imageManifestMediaType': '${given}' does not match the manifest's mediaType '${declared}'`);
  }
  const bytes = Buffer.from(text, 'utf8');
  return { digest: manifestDigest(bytes), mediaType, bytes };
}

export const batchGetImage: Operation<EcrRegistries> = async (input, ecr) => {
  const { repository, registry } = ecr.existingRepository(input);
  const imageIds = input.imageIds;
  if (!Array.isArray(imageIds) || imageIds.length < 1 || imageIds.length > 100) {
    throw invalidParameter(`Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length between 1 and 100'`);
  }
  const accepted = optionalStringList(input, 'acceptedMediaTypes');
  const name = repository.repositoryName;
  const images: Json[] = [];
  const failures: Json[] = [];
  for (const id of imageIds as unknown[]) {
    const given = typeof id === 'object' && id !== null ? (id as Json) : {};
    const imageTag = optionalString(given, 'imageTag');
    const imageDigest = optionalString(given, 'imageDigest');
    const imageId = { ...(imageDigest !== undefined ? { imageDigest } : {}), ...(imageTag !== undefined ? { imageTag } : {}) };
    const found = await lookUpImage(registry, name, { imageTag, imageDigest }, accepted);
    if ('failureCode' in found) {
      failures.push({ imageId, ...found });
      continue;
    }
    images.push({
      registryId: repository.registryId,
      repositoryName: name,
      imageId: { ...imageId, imageDigest: found.digest },
      imageManifest: found.bytes.toString('utf8'),
      imageManifestMediaType: found.mediaType,
    });
  }
  return { images, failures };
};

/**
 * How PutImage answers: `ecr` as ECR does; `empty` stores the tag but answers 200 with an empty
 * body (no image id); `empty-untagged` answers the same and stores nothing; `moto` answers an
 * IMMUTABLE tag that names another image with ImageAlreadyExistsException, as moto does.
 */
export type PutImageAnswers = 'ecr' | 'empty' | 'empty-untagged' | 'moto';

export const putImage: Operation<EcrRegistries> = (input, ecr) => {
  const { repository, registry } = ecr.existingRepository(input);
  const manifest = manifestFromInput(input);
  const imageDigest = optionalString(input, 'imageDigest');
  if (imageDigest !== undefined && imageDigest !== manifest.digest) {
    throw new ServiceError('ImageDigestDoesNotMatchException', `Provided digest ${imageDigest} does not match the manifest's digest ${manifest.digest}`);
  }
  const imageTag = optionalString(input, 'imageTag');
  if (imageTag !== undefined && (imageTag.length < 1 || imageTag.length > 300)) {
    throw invalidParameter(`Invalid parameter at 'imageTag' failed to satisfy constraint: 'Member must have length between 1 and 300'`);
  }
  const { repositoryName: name, registryId } = repository;
  const answers = ecr.putImageAnswers;
  if (answers === 'empty-untagged') return {};
  // One PutImage at a time per repository, so the IMMUTABLE check and the write cannot interleave.
  return ecr.oneAtATime(repository.repositoryArn, async () => {
    const current = await readManifest(registry, name, imageTag ?? manifest.digest);
    if (current?.digest === manifest.digest || (current && repository.imageTagMutability === 'IMMUTABLE' && answers === 'moto')) {
      throw new ServiceError(
        'ImageAlreadyExistsException',
        `Image with digest '${manifest.digest}'${imageTag !== undefined ? ` and tag '${imageTag}'` : ''} already exists in the repository with name '${name}' in registry with id '${registryId}'`,
      );
    }
    if (current && repository.imageTagMutability === 'IMMUTABLE') {
      throw new ServiceError(
        'ImageTagAlreadyExistsException',
        `The image tag '${imageTag ?? ''}' already exists in the '${name}' repository and cannot be overwritten because the repository is immutable.`,
      );
    }
    if ((await writeManifest(registry, name, imageTag ?? manifest.digest, manifest)) === 'missing-references') {
      throw INDEX_MEDIA_TYPES.has(manifest.mediaType)
        ? new ServiceError('ReferencedImagesNotFoundException', 'Some of the images referenced by the manifest list are not in the repository.')
        : new ServiceError('LayersNotFoundException', 'The image requested does not have any layers associated with it in the repository.');
    }
    if (answers === 'empty') return {};
    const imageId = { imageDigest: manifest.digest, ...(imageTag !== undefined ? { imageTag } : {}) };
    return { image: { registryId, repositoryName: name, imageId, imageManifest: manifest.bytes.toString('utf8'), imageManifestMediaType: manifest.mediaType } };
  });
};
