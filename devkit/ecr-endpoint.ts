/**
 * A local Amazon ECR API endpoint for tests, demos and benchmarks; never shipped in the plugin.
 *
 * Real ECR cannot be reached from here, so the tests point the real AWS SDK at this server
 * over HTTP. It speaks ECR's JSON 1.1 protocol for the operations the plugin uses, checks the
 * SigV4 signature with the configured keys (so credentials provably reach the wire), paginates
 * like ECR and answers with ECR's error shapes, so the SDK raises its real exception classes.
 *
 * It also serves STS AssumeRole (query protocol: form-encoded requests, XML answers and STS's XML
 * errors, SigV4 checked) for the roles it is given; the temporary keys it hands out work on the ECR
 * side only together with their session token. Fault modes make it hang (accept, never answer) or
 * answer with an HTML page, as a broken proxy or load balancer would.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AccessKeys } from './aws/access-keys';
import { BodyTooLargeError, readBody, startEndpointServer, type EndpointFault } from './aws/endpoint-server';
import { checkSignature, headerValue } from './aws/sigv4';
import { stsService, type AssumeRoleCall, type RoleConfig } from './aws/sts';

export type { EndpointFault } from './aws/endpoint-server';
export type { AssumeRoleCall, RoleConfig } from './aws/sts';

export interface RegistryConfig {
  /** Registry URL such as 'http://127.0.0.1:5001'; becomes proxyEndpoint and the repositoryUri host. */
  url: string;
  password: string;
}

export interface EcrEndpointOptions {
  accessKeyId: string;
  secretAccessKey: string;
  /** Keyed by 12-digit account id; the first key is the default registry. */
  registries: Record<string, RegistryConfig>;
  /** Used in repository ARNs; default 'us-east-1'. */
  region?: string;
  /** Roles that STS AssumeRole may assume with the base keys, keyed by role ARN. */
  roles?: Record<string, RoleConfig>;
}

/** One request that carried a parseable SigV4 credential, whether it was then accepted or not. */
export interface EcrCall {
  operation: string;
  accessKeyId: string;
  /** The region from the signature's credential scope, i.e. what the client signed for. */
  region: string;
  sessionToken?: string;
  /** The assumed role whose temporary keys signed the call. */
  role?: string;
}

export interface EcrEndpoint {
  /** 'http://127.0.0.1:<port>' */
  url: string;
  defaultRegistryId: string;
  calls: EcrCall[];
  /** Seeds repositories directly, without HTTP; throws on invalid or duplicate names. */
  createRepositories(names: string[], registryId?: string): void;
  /** The next `count` authenticated calls fail (replaces any pending count; 0 clears it). */
  failNext(count: number, kind: 'throttling' | 'server-error'): void;
  /**
   * Holds the next `count` calls of `operation` until all of them have arrived (at most
   * `timeoutMs`), then answers them in arrival order: the calls were provably in flight at once.
   */
  gate(operation: string, count: number, timeoutMs: number): void;
  /** Changes the password that GetAuthorizationToken hands out for a configured registry. */
  setPassword(registryId: string, password: string): void;
  /** STS AssumeRole requests, in order. */
  assumeRoleCalls: AssumeRoleCall[];
  /** Requests met by a fault (hung or answered with HTML), by service. */
  faulted: Array<'ecr' | 'sts'>;
  /** From now on, requests to `service` (default: both) meet `fault`; undefined restores normal answers. */
  setFault(fault: EndpointFault | undefined, service?: 'ecr' | 'sts'): void;
  /** Connections clients hold open to the endpoint right now (an idle keep-alive one counts). */
  openConnections(): number;
  close(): Promise<void>;
}

const TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const SIGNING_SERVICE = 'ecr';
const REGISTRY_ID_PATTERN = /^\d{12}$/;
const REPOSITORY_NAME_REGEX = '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*';
const REPOSITORY_NAME_PATTERN = new RegExp(`^${REPOSITORY_NAME_REGEX}$`);
const DEFAULT_MAX_RESULTS = 100;
const MAX_MAX_RESULTS = 1000;
const MAX_REPOSITORY_NAMES = 100;
const TOKEN_LIFETIME_SECONDS = 12 * 60 * 60;
const IMAGE_TAG_MUTABILITIES = ['MUTABLE', 'IMMUTABLE', 'MUTABLE_WITH_EXCLUSION', 'IMMUTABLE_WITH_EXCLUSION'];
const ENCRYPTION_TYPES = ['AES256', 'KMS', 'KMS_DSSE'];

/** An error answered in ECR's shape; `type` becomes the SDK error's `name`. */
class EcrError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const invalidParameter = (message: string): EcrError => new EcrError('InvalidParameterException', message);

interface Repository {
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

type Json = Record<string, unknown>;

interface ResourceTag {
  Key: string;
  Value: string;
}

/** Code-unit order: deterministic and locale independent. */
const compareNames = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Repositories of one registry, with a name index sorted lazily so bulk seeding sorts once. */
class RegistryStore {
  private readonly byName = new Map<string, Repository>();
  private sortedNames: string[] | undefined;

  get(name: string): Repository | undefined {
    return this.byName.get(name);
  }

  add(repository: Repository): void {
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

// ---------------------------------------------------------------------------------------------
// Request parsing helpers
// ---------------------------------------------------------------------------------------------

function parseJsonBody(body: Buffer): Json {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new EcrError('SerializationException', 'Request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new EcrError('SerializationException', 'Request body must be a JSON object');
  }
  return parsed as Json;
}

function optionalString(input: Json, field: string): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidParameter(`Invalid parameter at '${field}': must be a string`);
  return value;
}

function optionalStringList(input: Json, field: string): string[] | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
    throw invalidParameter(`Invalid parameter at '${field}': must be a list of strings`);
  }
  return value;
}

/** CreateRepository's `tags`: a list of { Key, Value } strings. */
function resourceTagList(input: Json): ResourceTag[] {
  const tags = input.tags ?? [];
  const valid = (tag: unknown): tag is ResourceTag =>
    typeof tag === 'object' && tag !== null && typeof (tag as Json).Key === 'string' && typeof (tag as Json).Value === 'string';
  if (!Array.isArray(tags) || !tags.every(valid)) throw invalidParameter(`Invalid parameter at 'tags': must be a list of { Key, Value } strings`);
  return tags.map(({ Key, Value }) => ({ Key, Value }));
}

function validateRepositoryName(name: string): void {
  if (name.length < 2 || name.length > 256 || !REPOSITORY_NAME_PATTERN.test(name)) {
    throw invalidParameter(
      `Invalid parameter at 'repositoryName' failed to satisfy constraint: ` +
        `'must satisfy regular expression '${REPOSITORY_NAME_REGEX}' and have length between 2 and 256'`,
    );
  }
}

function validateRegistryId(registryId: string, field = 'registryId'): void {
  if (!REGISTRY_ID_PATTERN.test(registryId)) {
    throw invalidParameter(
      `Invalid parameter at '${field}' failed to satisfy constraint: 'must satisfy regular expression '[0-9]{12}''`,
    );
  }
}

const notFound = (name: string, registryId: string): EcrError =>
  new EcrError(
    'RepositoryNotFoundException',
    `The repository with name '${name}' does not exist in the registry with id '${registryId}'`,
  );

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

// ---------------------------------------------------------------------------------------------
// Images: BatchGetImage and PutImage read and write manifests in the real registry over its
// HTTP API, with the credentials its tokens carry, so a tag PutImage adds is pullable with docker.
// (Pushes go from docker straight to the registry: IMMUTABLE holds for PutImage only.)
// ---------------------------------------------------------------------------------------------

const MANIFEST_MEDIA_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
];
const INDEX_MEDIA_TYPES = new Set([MANIFEST_MEDIA_TYPES[1], MANIFEST_MEDIA_TYPES[3]]);
const REGISTRY_TIMEOUT_MS = 10_000;
const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;
const sha256Hex = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

interface Manifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

interface RegistryAnswer {
  status: number;
  contentType: string;
  body: Buffer;
}

/** One request to the registry's /v2/ API as the user its tokens name ('AWS'), bounded in time. */
function registryRequest(registry: RegistryConfig, method: 'GET' | 'PUT', path: string, body?: Manifest): Promise<RegistryAnswer> {
  const url = new URL(`/v2/${path}`, registry.url);
  const headers = {
    Authorization: `Basic ${Buffer.from(`AWS:${registry.password}`).toString('base64')}`,
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

const registryFailure = (what: string, answer: RegistryAnswer): EcrError =>
  new EcrError('ServerException', `Registry ${what} failed: HTTP ${answer.status} ${answer.body.toString('utf8').slice(0, 200)}`, 500);

/** A manifest by tag or digest, as stored; undefined when the registry has none. */
async function readManifest(registry: RegistryConfig, repository: string, reference: string): Promise<Manifest | undefined> {
  const answer = await registryRequest(registry, 'GET', `${repository}/manifests/${reference}`);
  if (answer.status === 404) return undefined;
  if (answer.status !== 200) throw registryFailure(`GET manifest ${repository}:${reference}`, answer);
  return { digest: `sha256:${sha256Hex(answer.body)}`, mediaType: answer.contentType, bytes: answer.body };
}

async function writeManifest(registry: RegistryConfig, repository: string, reference: string, manifest: Manifest): Promise<void> {
  const answer = await registryRequest(registry, 'PUT', `${repository}/manifests/${reference}`, manifest);
  if (answer.status === 201) return;
  if (answer.status === 400 && /BLOB_UNKNOWN|MANIFEST_UNKNOWN/.test(answer.body.toString('utf8'))) {
    throw INDEX_MEDIA_TYPES.has(manifest.mediaType)
      ? new EcrError('ReferencedImagesNotFoundException', 'Some of the images referenced by the manifest list are not in the repository.')
      : new EcrError('LayersNotFoundException', 'The image requested does not have any layers associated with it in the repository.');
  }
  throw registryFailure(`PUT manifest ${repository}:${reference}`, answer);
}

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
function manifestFromInput(input: Json): Manifest {
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
  if (mediaType === undefined || !MANIFEST_MEDIA_TYPES.includes(mediaType)) {
    throw invalidParameter(`Invalid parameter at 'imageManifestMediaType': unsupported or missing media type '${mediaType ?? ''}'`);
  }
  if (given !== undefined && typeof declared === 'string' && declared !== given) {
    throw invalidParameter(`Invalid parameter at 'imageManifestMediaType': '${given}' does not match the manifest's mediaType '${declared}'`);
  }
  const bytes = Buffer.from(text, 'utf8');
  return { digest: `sha256:${sha256Hex(bytes)}`, mediaType, bytes };
}

// ---------------------------------------------------------------------------------------------
// The endpoint
// ---------------------------------------------------------------------------------------------

function validateOptions(options: EcrEndpointOptions): void {
  if (!options.accessKeyId || !options.secretAccessKey) throw new Error('accessKeyId and secretAccessKey are required');
  const ids = Object.keys(options.registries);
  if (ids.length === 0) throw new Error('At least one registry must be configured');
  for (const id of ids) {
    if (!REGISTRY_ID_PATTERN.test(id)) throw new Error(`Registry id '${id}' must be 12 digits`);
    const { protocol } = new URL(options.registries[id].url);
    if (protocol !== 'http:' && protocol !== 'https:') throw new Error(`Registry '${id}' URL must be http(s)`);
  }
}

export async function startEcrEndpoint(options: EcrEndpointOptions): Promise<EcrEndpoint> {
  validateOptions(options);
  const region = options.region ?? 'us-east-1';
  // 12-digit keys are not array indices, so Object.keys keeps insertion order and the first is the default.
  const defaultRegistryId = Object.keys(options.registries)[0];
  const registries = new Map(Object.entries(options.registries).map(([id, config]) => [id, { ...config }]));
  // Parsed once: seeding 10,000 repositories should not parse the same URL 10,000 times.
  const registryHosts = new Map(Object.entries(options.registries).map(([id, config]) => [id, new URL(config.url).host]));
  const stores = new Map<string, RegistryStore>();
  const calls: EcrCall[] = [];
  const assumeRoleCalls: AssumeRoleCall[] = [];
  const keys = new AccessKeys({ accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey });
  let pendingFailures = 0;
  let failureKind: 'throttling' | 'server-error' = 'throttling';
  let gate: { operation: string; count: number; waiting: Array<() => void>; timer: NodeJS.Timeout } | undefined;
  const openGate = (): void => {
    const opened = gate;
    gate = undefined;
    if (!opened) return;
    clearTimeout(opened.timer);
    for (const release of opened.waiting) release();
  };
  const passGate = (operation: string): Promise<void> | undefined => {
    const current = gate;
    if (current?.operation !== operation) return undefined;
    return new Promise<void>((resolve) => {
      current.waiting.push(resolve);
      if (current.waiting.length >= current.count) openGate();
    });
  };

  const storeFor = (registryId: string): RegistryStore => {
    let store = stores.get(registryId);
    if (!store) {
      store = new RegistryStore();
      stores.set(registryId, store);
    }
    return store;
  };

  /** Resolves an optional registryId to a well-formed one; unknown ids are allowed (they are just empty). */
  const resolveRegistryId = (input: Json): string => {
    const registryId = optionalString(input, 'registryId') ?? defaultRegistryId;
    validateRegistryId(registryId);
    return registryId;
  };

  const configuredRegistry = (registryId: string): RegistryConfig => {
    const registry = registries.get(registryId);
    if (!registry) throw invalidParameter(`The registry with id '${registryId}' is not served by this endpoint`);
    return registry;
  };

  const newRepository = (name: string, registryId: string, input: Json = {}): Repository => {
    validateRepositoryName(name);
    configuredRegistry(registryId);
    if (storeFor(registryId).get(name)) {
      throw new EcrError(
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
      repositoryArn: `arn:aws:ecr:${region}:${registryId}:repository/${name}`,
      registryId,
      repositoryName: name,
      repositoryUri: `${registryHosts.get(registryId)}/${name}`,
      createdAt: Date.now() / 1000,
      imageTagMutability,
      imageScanningConfiguration: { scanOnPush: scanning?.scanOnPush === true },
      encryptionConfiguration:
        typeof encryption?.kmsKey === 'string' ? { encryptionType, kmsKey: encryption.kmsKey } : { encryptionType },
    };
  };

  /** Resource tags by repository ARN (ECR keeps them apart from the repository's description). */
  const resourceTags = new Map<string, ResourceTag[]>();
  const putQueues = new Map<string, Promise<unknown>>();

  /** The stored repository named by the input and the registry behind it. */
  const existingRepository = (input: Json): { repository: Repository; registry: RegistryConfig } => {
    const registryId = resolveRegistryId(input);
    const name = optionalString(input, 'repositoryName');
    if (name === undefined) throw invalidParameter(`Invalid parameter at 'repositoryName': must not be null`);
    validateRepositoryName(name);
    const repository = stores.get(registryId)?.get(name);
    if (!repository) throw notFound(name, registryId);
    return { repository, registry: configuredRegistry(registryId) };
  };

  /** One PutImage at a time per repository, so the IMMUTABLE check and the write cannot interleave. */
  const oneAtATime = <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const result = (putQueues.get(key) ?? Promise.resolve()).then(work);
    putQueues.set(key, result.catch(() => undefined));
    return result;
  };

  const operations: Record<string, (input: Json) => Json | Promise<Json>> = {
    CreateRepository(input) {
      const registryId = resolveRegistryId(input);
      const name = optionalString(input, 'repositoryName');
      if (name === undefined) throw invalidParameter(`Invalid parameter at 'repositoryName': must not be null`);
      const tags = resourceTagList(input);
      const repository = newRepository(name, registryId, input);
      storeFor(registryId).add(repository);
      resourceTags.set(repository.repositoryArn, tags);
      return { repository };
    },

    ListTagsForResource(input) {
      const arn = optionalString(input, 'resourceArn') ?? '';
      const tags = resourceTags.get(arn);
      if (tags === undefined) throw new EcrError('RepositoryNotFoundException', `The repository with ARN '${arn}' does not exist`);
      return { tags };
    },

    async BatchGetImage(input) {
      const { repository, registry } = existingRepository(input);
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
        const manifest = found;
        images.push({
          registryId: repository.registryId,
          repositoryName: name,
          imageId: { ...imageId, imageDigest: manifest.digest },
          imageManifest: manifest.bytes.toString('utf8'),
          imageManifestMediaType: manifest.mediaType,
        });
      }
      return { images, failures };
    },

    PutImage(input) {
      const { repository, registry } = existingRepository(input);
      const manifest = manifestFromInput(input);
      const imageDigest = optionalString(input, 'imageDigest');
      if (imageDigest !== undefined && imageDigest !== manifest.digest) {
        throw new EcrError('ImageDigestDoesNotMatchException', `Provided digest ${imageDigest} does not match the manifest's digest ${manifest.digest}`);
      }
      const imageTag = optionalString(input, 'imageTag');
      if (imageTag !== undefined && (imageTag.length < 1 || imageTag.length > 300)) {
        throw invalidParameter(`Invalid parameter at 'imageTag' failed to satisfy constraint: 'Member must have length between 1 and 300'`);
      }
      const { repositoryName: name, registryId } = repository;
      return oneAtATime(repository.repositoryArn, async () => {
        const current = await readManifest(registry, name, imageTag ?? manifest.digest);
        if (current?.digest === manifest.digest) {
          throw new EcrError(
            'ImageAlreadyExistsException',
            `Image with digest '${manifest.digest}'${imageTag !== undefined ? ` and tag '${imageTag}'` : ''} already exists in the repository with name '${name}' in registry with id '${registryId}'`,
          );
        }
        if (current && repository.imageTagMutability === 'IMMUTABLE') {
          throw new EcrError(
            'ImageTagAlreadyExistsException',
            `The image tag '${imageTag ?? ''}' already exists in the '${name}' repository and cannot be overwritten because the repository is immutable.`,
          );
        }
        await writeManifest(registry, name, imageTag ?? manifest.digest, manifest);
        const imageId = { imageDigest: manifest.digest, ...(imageTag !== undefined ? { imageTag } : {}) };
        return { image: { registryId, repositoryName: name, imageId, imageManifest: manifest.bytes.toString('utf8'), imageManifestMediaType: manifest.mediaType } };
      });
    },

    DescribeRepositories(input) {
      const registryId = resolveRegistryId(input);
      const store = stores.get(registryId) ?? new RegistryStore();
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
          if (!repository) throw notFound(name, registryId);
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
    },

    DeleteRepository(input) {
      const registryId = resolveRegistryId(input);
      const name = optionalString(input, 'repositoryName');
      if (name === undefined) throw invalidParameter(`Invalid parameter at 'repositoryName': must not be null`);
      validateRepositoryName(name);
      const store = stores.get(registryId);
      const repository = store?.get(name);
      if (!store || !repository) throw notFound(name, registryId);
      store.delete(name);
      resourceTags.delete(repository.repositoryArn);
      return { repository };
    },

    GetAuthorizationToken(input) {
      const requested = optionalStringList(input, 'registryIds');
      const registryIds = requested && requested.length > 0 ? requested : [defaultRegistryId];
      const expiresAt = Math.floor(Date.now() / 1000) + TOKEN_LIFETIME_SECONDS;
      const authorizationData = registryIds.map((registryId) => {
        validateRegistryId(registryId, 'registryIds');
        const registry = configuredRegistry(registryId);
        return {
          authorizationToken: Buffer.from(`AWS:${registry.password}`, 'utf8').toString('base64'),
          expiresAt,
          proxyEndpoint: registry.url,
        };
      });
      return { authorizationData };
    },
  };

  const send = (res: ServerResponse, requestId: string, status: number, payload: unknown, errorType?: string): void => {
    const body = JSON.stringify(payload);
    res.writeHead(status, {
      'Content-Type': CONTENT_TYPE,
      'Content-Length': Buffer.byteLength(body),
      'x-amzn-RequestId': requestId,
      ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
    });
    res.end(body);
  };

  /** Authenticates, records and answers one request; every failure becomes an ECR-shaped error. */
  const answer = async (req: IncomingMessage): Promise<Json> => {
    const body = await readBody(req).catch((error: unknown) => {
      throw error instanceof BodyTooLargeError ? new EcrError('SerializationException', error.message) : error;
    });
    const target = headerValue(req.headers, 'x-amz-target') ?? '';
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;

    const { failure, signer } = checkSignature(req, body, SIGNING_SERVICE, keys);
    if (!signer) {
      throw failure === 'missing'
        ? new EcrError('UnrecognizedClientException', 'The security token included in the request is invalid.')
        : new EcrError('IncompleteSignatureException', 'The Authorization header is not a valid AWS4-HMAC-SHA256 header.');
    }
    const { accessKeyId, region: signedRegion, sessionToken, role } = signer;
    calls.push({
      operation,
      accessKeyId,
      region: signedRegion,
      ...(sessionToken !== undefined ? { sessionToken } : {}),
      ...(role !== undefined ? { role } : {}),
    });
    if (failure === 'unknown-key') throw new EcrError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    if (signer.expired) throw new EcrError('ExpiredTokenException', 'The security token included in the request is expired', 403);
    if (failure === 'wrong-service') {
      throw new EcrError('InvalidSignatureException', `Credential should be scoped to correct service: '${SIGNING_SERVICE}'.`, 403);
    }
    if (failure === 'mismatch') {
      throw new EcrError(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. ' +
          'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
        403,
      );
    }

    if (pendingFailures > 0) {
      pendingFailures -= 1;
      throw failureKind === 'throttling'
        ? new EcrError('ThrottlingException', 'Rate exceeded')
        : new EcrError('ServerException', 'An internal service error occurred (injected by failNext).', 500);
    }

    const handler = req.method === 'POST' && Object.hasOwn(operations, operation) ? operations[operation] : undefined;
    if (!handler) throw new EcrError('UnknownOperationException', `Unknown operation ${target || '(no X-Amz-Target)'}`);
    await passGate(operation);
    return handler(parseJsonBody(body));
  };

  const server = await startEndpointServer<'ecr' | 'sts'>([
    stsService({ keys, roles: options.roles ?? {}, accountId: defaultRegistryId, calls: assumeRoleCalls }),
    {
      name: 'ecr',
      claims: () => true,
      answer(req, res, requestId) {
        answer(req).then(
          (output) => send(res, requestId, 200, output),
          (error: unknown) => {
            const failure =
              error instanceof EcrError
                ? error
                : new EcrError('ServerException', `Local ECR endpoint failure: ${(error as Error)?.message ?? String(error)}`, 500);
            send(res, requestId, failure.status, { __type: failure.type, message: failure.message }, failure.type);
          },
        );
      },
    },
  ]);

  return {
    url: server.url,
    defaultRegistryId,
    calls,
    createRepositories(names, registryId = defaultRegistryId) {
      validateRegistryId(registryId);
      const store = storeFor(registryId);
      for (const name of names) {
        const repository = newRepository(name, registryId);
        store.add(repository);
        resourceTags.set(repository.repositoryArn, []);
      }
    },
    failNext(count, kind) {
      if (!Number.isInteger(count) || count < 0) throw new Error('failNext count must be a non-negative integer');
      pendingFailures = count;
      failureKind = kind;
    },
    gate(operation, count, timeoutMs) {
      openGate();
      gate = { operation, count, waiting: [], timer: setTimeout(openGate, timeoutMs).unref() };
    },
    setPassword(registryId, password) {
      const registry = registries.get(registryId);
      if (!registry) throw new Error(`Registry '${registryId}' is not configured`);
      registry.password = password;
    },
    assumeRoleCalls,
    faulted: server.faulted,
    setFault: (fault, service) => server.setFault(fault, service),
    openConnections: () => server.openConnections(),
    close: () => server.close(),
  };
}
