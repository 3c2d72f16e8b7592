/**
 * ECR Public's API on the local endpoint: the JSON 1.1 protocol under its target prefix
 * (`SpencerFrontendService.`), signed for `ecr-public`, which the SDK reaches through
 * AWS_ENDPOINT_URL_ECR_PUBLIC. Its operations work on one public registry (public-registry.ts):
 * DescribeRegistries (the registry URI and its alias), DescribeRepositories (paged as ECR pages
 * it), CreateRepository with catalog data and resource tags, GetAuthorizationToken (one token,
 * no registry ids, no proxyEndpoint) and PutImage (a manifest byte for byte under a tag; public
 * repositories have no immutable tags). There is no BatchGetImage, as on ECR Public.
 */
import { INDEX_MEDIA_TYPES } from '../../src/registry/media-types';
import type { AccessKeys } from '../aws/access-keys';
import { invalidParameter, jsonService, optionalString, optionalStringList, ServiceError, type Json, type JsonService, type Operation } from '../aws/json-protocol';
import { manifestFromInput } from '../ecr/images';
import { readManifest, writeManifest } from '../ecr/manifest-store';
import { describeRepositoryPage, resourceTagList } from '../ecr/repositories';
import type { CatalogData, PublicRegistry } from './public-registry';

const TOKEN_LIFETIME_SECONDS = 12 * 60 * 60;

/** CreateRepository's catalogData: strings, and lists of strings for the badges. */
function catalogInput(input: Json): CatalogData {
  const given = input.catalogData;
  if (given === undefined || given === null) return {};
  if (typeof given !== 'object' || Array.isArray(given)) throw invalidParameter(`Invalid parameter at 'catalogData': must be a structure`);
  const data = given as Json;
  const catalog: CatalogData = {};
  for (const field of ['description', 'aboutText', 'usageText'] as const) {
    const value = optionalString(data, field);
    if (value !== undefined) catalog[field] = value;
  }
  for (const field of ['architectures', 'operatingSystems'] as const) {
    const value = optionalStringList(data, field);
    if (value !== undefined) catalog[field] = value;
  }
  return catalog;
}

const describeRegistries: Operation<PublicRegistry> = (_input, registry) => ({
  registries: [
    {
      registryId: registry.registryId,
      registryArn: `arn:aws:ecr-public::${registry.registryId}:registry/${registry.registryId}`,
      registryUri: `${registry.host}/${registry.alias}`,
      verified: false,
      aliases: [{ name: registry.alias, status: 'ACTIVE', primaryRegistryAlias: true, defaultRegistryAlias: true }],
    },
  ],
});

const describeRepositories: Operation<PublicRegistry> = (input, registry) => {
  registry.checkRegistryId(input);
  return describeRepositoryPage(registry.repositories, input, registry.registryId);
};

const createRepository: Operation<PublicRegistry> = (input, registry) => {
  const name = optionalString(input, 'repositoryName');
  if (name === undefined) throw invalidParameter(`Invalid parameter at 'repositoryName': must not be null`);
  const catalogData = catalogInput(input);
  const tags = resourceTagList(input);
  const repository = registry.add(name);
  registry.catalogs.set(name, catalogData);
  registry.resourceTags.set(repository.repositoryArn, tags);
  return { repository, catalogData };
};

const getAuthorizationToken: Operation<PublicRegistry> = (_input, registry) => ({
  authorizationData: {
    authorizationToken: Buffer.from(`AWS:${registry.currentPassword()}`, 'utf8').toString('base64'),
    expiresAt: Math.floor(Date.now() / 1000) + TOKEN_LIFETIME_SECONDS,
  },
});

const putImage: Operation<PublicRegistry> = async (input, registry) => {
  registry.checkRegistryId(input);
  const name = optionalString(input, 'repositoryName');
  if (name === undefined) throw invalidParameter(`Invalid parameter at 'repositoryName': must not be null`);
  if (!registry.repositories.get(name)) {
    throw new ServiceError('RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${registry.registryId}'`);
  }
  const manifest = manifestFromInput(input);
  const imageDigest = optionalString(input, 'imageDigest');
  if (imageDigest !== undefined && imageDigest !== manifest.digest) {
    throw new ServiceError('ImageDigestDoesNotMatchException', `Provided digest ${imageDigest} does not match the manifest's digest ${manifest.digest}`);
  }
  const imageTag = optionalString(input, 'imageTag');
  const path = `${registry.alias}/${name}`;
  const store = registry.manifestAccess();
  if ((await readManifest(store, path, imageTag ?? manifest.digest))?.digest === manifest.digest) {
    throw new ServiceError('ImageAlreadyExistsException', `Image with digest '${manifest.digest}' already exists in the repository with name '${name}'`);
  }
  if ((await writeManifest(store, path, imageTag ?? manifest.digest, manifest)) === 'missing-references') {
    throw INDEX_MEDIA_TYPES.has(manifest.mediaType)
      ? new ServiceError('ReferencedImagesNotFoundException', 'Some of the images referenced by the manifest list are not in the repository.')
      : new ServiceError('LayersNotFoundException', 'The image requested does not have any layers associated with it in the repository.');
  }
  const imageId = { imageDigest: manifest.digest, ...(imageTag !== undefined ? { imageTag } : {}) };
  return { image: { registryId: registry.registryId, repositoryName: name, imageId, imageManifest: manifest.bytes.toString('utf8'), imageManifestMediaType: manifest.mediaType } };
};

export const ECR_PUBLIC_OPERATIONS: Readonly<Record<string, Operation<PublicRegistry>>> = {
  DescribeRegistries: describeRegistries,
  DescribeRepositories: describeRepositories,
  CreateRepository: createRepository,
  GetAuthorizationToken: getAuthorizationToken,
  PutImage: putImage,
};

/** ECR Public as a service of the endpoint: the requests under its target prefix. */
export function ecrPublicService(registry: PublicRegistry, keys: AccessKeys): JsonService<'ecr-public'> {
  return jsonService(
    {
      name: 'ecr-public',
      label: 'ECR Public',
      signingService: 'ecr-public',
      targetPrefix: 'SpencerFrontendService.',
      operations: ECR_PUBLIC_OPERATIONS,
      context: registry,
    },
    keys,
  );
}
