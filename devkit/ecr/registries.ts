/**
 * What the ECR stand-in holds: the registries it serves by 12-digit account id (each backed by a
 * real registry, its URL and the password the tokens carry), the repositories of each, and their
 * resource tags. Every ECR operation works on this; the first configured registry is the default.
 */
import { ImageScanStore } from './scans';
import type { PutImageAnswers } from './images';
import { invalidParameter, optionalString, ServiceError, type Json } from '../aws/json-protocol';

export interface RegistryConfig {
  /** Registry URL such as 'http://127.0.0.1:5001'; becomes proxyEndpoint and the repositoryUri host. */
  url: string;
  password: string;
}

export interface Repository {
  repositoryArn: string;
  registryId: string;
  repositoryName: string;
  repositoryUri: string;
  /** Epoch seconds, as ECR's JSON carries timestamps. */
  createdAt: number;
  imageTagMutability: string;
  imageScanningConfiguration: { scanOnPush: boolean };
  encryptionConfiguration: { encryptionType: string; kmsKey?: string };
}

export interface ResourceTag {
  Key: string;
  Value: string;
}

const REGISTRY_ID_PATTERN = /^\d{12}$/;
const REPOSITORY_NAME_REGEX = '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*';
const REPOSITORY_NAME_PATTERN = new RegExp(`^${REPOSITORY_NAME_REGEX}$`);

export function validateRepositoryName(name: string): void {
  if (name.length < 2 || name.length > 256 || !REPOSITORY_NAME_PATTERN.test(name)) {
    throw invalidParameter(
      `Invalid parameter at 'repositoryName' failed to satisfy constraint: ` +
        `'must satisfy regular expression '${REPOSITORY_NAME_REGEX}' and have length between 2 and 256'`,
    );
  }
}

export function validateRegistryId(registryId: string, field = 'registryId'): void {
  if (!REGISTRY_ID_PATTERN.test(registryId)) {
    throw invalidParameter(
      `Invalid parameter at '${field}' failed to satisfy constraint: 'must satisfy regular expression '[0-9]{12}''`,
    );
  }
}

export const repositoryNotFound = (name: string, registryId: string): ServiceError =>
  new ServiceError(
    'RepositoryNotFoundException',
    `The repository with name '${name}' does not exist in the registry with id '${registryId}'`,
  );

/** Code-unit order: deterministic and locale independent. */
const compareNames = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Repositories of one registry, with a name index sorted lazily so bulk seeding sorts once. */
export class RepositoryStore<R extends { repositoryName: string } = Repository> {
  private readonly byName = new Map<string, R>();
  private sortedNames: string[] | undefined;

  get(name: string): R | undefined {
    return this.byName.get(name);
  }

  add(repository: R): void {
    this.byName.set(repository.repositoryName, repository);
    this.sortedNames = undefined;
  }

  delete(name: string): void {
    this.byName.delete(name);
    this.sortedNames = undefined;
  }

  names(): readonly string[] {
    this.sortedNames ??= [...this.byName.keys()].sort(compareNames);
    return this.sortedNames;
  }

  /** Index of the first name sorting after `name` (binary search, so each page is O(log n + page)). */
  indexAfter(name: string): number {
    const names = this.names();
    let low = 0;
    let high = names.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareNames(names[mid], name) <= 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

export class EcrRegistries {
  readonly defaultRegistryId: string;
  private readonly configs: Map<string, RegistryConfig>;
  /** Parsed once: seeding 10,000 repositories should not parse the same URL 10,000 times. */
  private readonly hosts: Map<string, string>;
  private readonly stores = new Map<string, RepositoryStore>();
  /** Resource tags by repository ARN (ECR keeps them apart from the repository's description). */
  readonly resourceTags = new Map<string, ResourceTag[]>();
  private readonly changeQueues = new Map<string, Promise<unknown>>();
  /** The images whose scans DescribeImageScanFindings and StartImageScan answer for. */
  readonly scans: ImageScanStore;
  /** How PutImage answers: as ECR (default), or as another ECR-compatible endpoint does (images.ts). */
  putImageAnswers: PutImageAnswers = 'ecr';

  /** `registries` keyed by account id, the default first; `region` is the one in repository ARNs. */
  constructor(
    registries: Record<string, RegistryConfig>,
    readonly region: string,
  ) {
    const ids = Object.keys(registries);
    if (ids.length === 0) throw new Error('At least one registry must be configured');
    for (const id of ids) {
      if (!REGISTRY_ID_PATTERN.test(id)) throw new Error(`Registry id '${id}' must be 12 digits`);
      const { protocol } = new URL(registries[id].url);
      if (protocol !== 'http:' && protocol !== 'https:') throw new Error(`Registry '${id}' URL must be http(s)`);
    }
    // 12-digit keys are not array indices, so Object.keys keeps insertion order and the first is the default.
    this.defaultRegistryId = ids[0];
    this.configs = new Map(ids.map((id) => [id, { ...registries[id] }]));
    this.hosts = new Map(ids.map((id) => [id, new URL(registries[id].url).host]));
    this.scans = new ImageScanStore(this.defaultRegistryId, region);
  }

  /** The repositories of a registry (an unknown but well-formed id has none). */
  store(registryId: string): RepositoryStore {
    let store = this.stores.get(registryId);
    if (!store) {
      store = new RepositoryStore();
      this.stores.set(registryId, store);
    }
    return store;
  }

  /** The store of a registry that has had repositories, without making one. */
  existingStore(registryId: string): RepositoryStore | undefined {
    return this.stores.get(registryId);
  }

  /** Host and port of a configured registry: what its repository URIs start with. */
  host(registryId: string): string | undefined {
    return this.hosts.get(registryId);
  }

  /** The input's optional registryId, well-formed, or the default; unknown ids are allowed (they are just empty). */
  resolveRegistryId(input: Json): string {
    const registryId = optionalString(input, 'registryId') ?? this.defaultRegistryId;
    validateRegistryId(registryId);
    return registryId;
  }

  /** Whether this stand-in serves the registry of that account. */
  serves(registryId: string): boolean {
    return this.configs.has(registryId);
  }

  /** The real registry behind a registry id; refused for one this stand-in does not serve. */
  configured(registryId: string): RegistryConfig {
    const registry = this.configs.get(registryId);
    if (!registry) throw invalidParameter(`The registry with id '${registryId}' is not served by this endpoint`);
    return registry;
  }

  /** The stored repository named by the input and the registry behind it. */
  existingRepository(input: Json): { repository: Repository; registry: RegistryConfig } {
    const registryId = this.resolveRegistryId(input);
    const name = optionalString(input, 'repositoryName');
    if (name === undefined) throw invalidParameter(`Invalid parameter at 'repositoryName': must not be null`);
    validateRepositoryName(name);
    const repository = this.stores.get(registryId)?.get(name);
    if (!repository) throw repositoryNotFound(name, registryId);
    return { repository, registry: this.configured(registryId) };
  }

  /** Runs `work` after every change to the same repository before it has settled, so a check and its write cannot interleave. */
  oneAtATime<T>(repositoryArn: string, work: () => Promise<T>): Promise<T> {
    const result = (this.changeQueues.get(repositoryArn) ?? Promise.resolve()).then(work);
    this.changeQueues.set(repositoryArn, result.catch(() => undefined));
    return result;
  }

  /** Changes the password that tokens for a configured registry carry. */
  setPassword(registryId: string, password: string): void {
    const registry = this.configs.get(registryId);
    if (!registry) throw new Error(`Registry '${registryId}' is not configured`);
    registry.password = password;
  }
}
