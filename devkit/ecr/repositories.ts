/**
 * ECR's repository operations: CreateRepository with its settings (tag mutability, scan on push,
 * encryption) and resource tags, DescribeRepositories paginated as ECR does it (maxResults 1..1000,
 * default 100, an opaque nextToken that keeps pages stable while repositories come and go),
 * DeleteRepository and ListTagsForResource.
 */
import { invalidParameter, optionalString, optionalStringList, ServiceError, type Json, type Operation } from '../aws/json-protocol';
import {
  RepositoryStore,
  repositoryNotFound,
  validateRegistryId,
  validateRepositoryName,
  type EcrRegistries,
  type Repository,
  type ResourceTag,
} from './registries';

const DEFAULT_MAX_RESULTS = 100;
const MAX_MAX_RESULTS = 1000;
const MAX_REPOSITORY_NAMES = 100;
const IMAGE_TAG_MUTABILITIES = ['MUTABLE', 'IMMUTABLE', 'MUTABLE_WITH_EXCLUSION', 'IMMUTABLE_WITH_EXCLUSION'];
const ENCRYPTION_TYPES = ['AES256', 'KMS', 'KMS_DSSE'];

/** A new repository of `registryId` with the settings in `input` (ECR's defaults where it has none). */
function newRepository(ecr: EcrRegistries, name: string, registryId: string, input: Json = {}): Repository {
  validateRepositoryName(name);
  ecr.configured(registryId);
  if (ecr.store(registryId).get(name)) {
    throw new ServiceError(
      'RepositoryAlreadyExistsException',
      `The repository with name '${name}' already exists in the registry with id '${registryId}'`,
    );
  }
  const imageTagMutability = optionalString(input, 'imageTagMutability') ?? 'MUTABLE';
  if (!IMAGE_TAG_MUTABILITIES.includes(imageTagMutability)) {
    throw invalidParameter(`Invalid parameter at 'imageTagMutability': '${imageTagMutability}'`);
  }
  const scanning = input.imageScanningConfiguration as { scanOnPush?: unknown } | undefined;
  const encryption = input.encryptionConfiguration as { encryptionType?: unknown; kmsKey?: unknown } | undefined;
  const encryptionType = typeof encryption?.encryptionType === 'string' ? encryption.encryptionType : 'AES256';
  if (!ENCRYPTION_TYPES.includes(encryptionType)) {
    throw invalidParameter(`Invalid parameter at 'encryptionType': '${encryptionType}'`);
  }
  return {
    repositoryArn: `arn:aws:ecr:${ecr.region}:${registryId}:repository/${name}`,
    registryId,
    repositoryName: name,
    repositoryUri: `${ecr.host(registryId)}/${name}`,
    createdAt: Date.now() / 1000,
    imageTagMutability,
    imageScanningConfiguration: { scanOnPush: scanning?.scanOnPush === true },
    encryptionConfiguration:
      typeof encryption?.kmsKey === 'string' ? { encryptionType, kmsKey: encryption.kmsKey } : { encryptionType },
  };
}

/** Repositories made directly, without HTTP (what a test seeds); throws on invalid or duplicate names. */
export function seedRepositories(ecr: EcrRegistries, names: string[], registryId: string): void {
  validateRegistryId(registryId);
  const store = ecr.store(registryId);
  for (const name of names) {
    const repository = newRepository(ecr, name, registryId);
    store.add(repository);
    ecr.resourceTags.set(repository.repositoryArn, []);
  }
}

/** CreateRepository's `tags` (ECR's and ECR Public's alike): a list of { Key, Value } strings. */
export function resourceTagList(input: Json): ResourceTag[] {
  const tags = input.tags ?? [];
  const valid = (tag: unknown): tag is ResourceTag =>
    typeof tag === 'object' && tag !== null && typeof (tag as Json).Key === 'string' && typeof (tag as Json).Value === 'string';
  if (!Array.isArray(tags) || !tags.every(valid)) throw invalidParameter(`Invalid parameter at 'tags': must be a list of { Key, Value } strings`);
  return tags.map(({ Key, Value }) => ({ Key, Value }));
}

// Opaque to clients; carries the registry and the last name returned so pages stay stable
// even when repositories are created or deleted between calls.
const encodeNextToken = (registryId: string, after: string): string =>
  Buffer.from(JSON.stringify({ r: registryId, a: after }), 'utf8').toString('base64');

function decodeNextToken(token: string, registryId: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as unknown;
    if (typeof parsed === 'object' && parsed !== null) {
      const { r, a } = parsed as Json;
      if (r === registryId && typeof a === 'string') return a;
    }
  } catch {
    // Falls through to the ECR-style error below.
  }
  throw invalidParameter(`Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid pagination token'`);
}

export const createRepository: Operation<EcrRegistries> = (input, ecr) => {
  const registryId = ecr.resolveRegistryId(input);
  const name = optionalString(input, 'repositoryName');
  if (name === undefined) throw invalidParameter(`Invalid parameter at 'repositoryName': must not be null`);
  const tags = resourceTagList(input);
  const repository = newRepository(ecr, name, registryId, input);
  ecr.store(registryId).add(repository);
  ecr.resourceTags.set(repository.repositoryArn, tags);
  return { repository };
};

export const listTagsForResource: Operation<EcrRegistries> = (input, ecr) => {
  const arn = optionalString(input, 'resourceArn') ?? '';
  const tags = ecr.resourceTags.get(arn);
  if (tags === undefined) throw new ServiceError('RepositoryNotFoundException', `The repository with ARN '${arn}' does not exist`);
  return { tags };
};

export const describeRepositories: Operation<EcrRegistries> = (input, ecr) => {
  const registryId = ecr.resolveRegistryId(input);
  return describeRepositoryPage(ecr.existingStore(registryId) ?? new RepositoryStore(), input, registryId);
};

/**
 * One DescribeRepositories answer from `store`, as ECR and ECR Public page it: the named
 * repositories (each must exist), or a page of all of them after the opaque nextToken.
 */
export function describeRepositoryPage<R extends { repositoryName: string }>(store: RepositoryStore<R>, input: Json, registryId: string): Json {
  const repositoryNames = optionalStringList(input, 'repositoryNames');
  const nextToken = optionalString(input, 'nextToken');
  const maxResults = input.maxResults;
  if (maxResults !== undefined && maxResults !== null) {
    if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > MAX_MAX_RESULTS) {
      throw invalidParameter(
        `Invalid parameter at 'maxResults' failed to satisfy constraint: ` +
          `'Member must have value between 1 and ${MAX_MAX_RESULTS}'`,
      );
    }
  }

  if (repositoryNames !== undefined) {
    // As documented for ECR: maxResults and nextToken cannot be combined with repositoryNames.
    if (maxResults !== undefined && maxResults !== null) {
      throw invalidParameter(`Invalid parameter: 'maxResults' cannot be used together with 'repositoryNames'`);
    }
    if (nextToken !== undefined) {
      throw invalidParameter(`Invalid parameter: 'nextToken' cannot be used together with 'repositoryNames'`);
    }
    if (repositoryNames.length < 1 || repositoryNames.length > MAX_REPOSITORY_NAMES) {
      throw invalidParameter(
        `Invalid parameter at 'repositoryNames' failed to satisfy constraint: ` +
          `'Member must have length between 1 and ${MAX_REPOSITORY_NAMES}'`,
      );
    }
    const repositories = repositoryNames.map((name) => {
      validateRepositoryName(name);
      const repository = store.get(name);
      if (!repository) throw repositoryNotFound(name, registryId);
      return repository;
    });
    return { repositories };
  }

  const pageSize = typeof maxResults === 'number' ? maxResults : DEFAULT_MAX_RESULTS;
  const start = nextToken === undefined ? 0 : store.indexAfter(decodeNextToken(nextToken, registryId));
  const names = store.names();
  const page = names.slice(start, start + pageSize);
  const repositories = page.map((name) => store.get(name));
  const more = start + page.length < names.length;
  return more ? { repositories, nextToken: encodeNextToken(registryId, page[page.length - 1]) } : { repositories };
}

export const deleteRepository: Operation<EcrRegistries> = (input, ecr) => {
  const registryId = ecr.resolveRegistryId(input);
  const name = optionalString(input, 'repositoryName');
  if (name === undefined) throw invalidParameter(`Invalid parameter at 'repositoryName': must not be null`);
  validateRepositoryName(name);
  const store = ecr.existingStore(registryId);
  const repository = store?.get(name);
  if (!store || !repository) throw repositoryNotFound(name, registryId);
  store.delete(name);
  ecr.resourceTags.delete(repository.repositoryArn);
  return { repository };
};
