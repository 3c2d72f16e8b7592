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
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

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
  /**
   * The temporary keys STS hands out, shared with other endpoints (one per region, as AWS's STS
   * keys work in every region's ECR); default: this endpoint's own.
   */
  temporaryKeys?: Map<string, TemporaryKey>;
}

export interface RoleConfig {
  /** When set, AssumeRole must carry exactly this ExternalId (as a trust policy's sts:ExternalId condition). */
  externalId?: string;
  /** The role's MaxSessionDuration; default 3600 (as IAM's). */
  maxSessionDurationSeconds?: number;
}

/** One AssumeRole request that carried a parseable SigV4 credential. */
export interface AssumeRoleCall {
  accessKeyId: string;
  region: string;
  roleArn?: string;
  roleSessionName?: string;
  durationSeconds?: number;
  externalId?: string;
  /** The temporary access key handed out, when the call succeeded. */
  issuedAccessKeyId?: string;
}

/** What the endpoint does instead of answering: nothing at all, or an HTML page with this status. */
export type EndpointFault = { mode: 'hang' } | { mode: 'html'; status: number };

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
// ECR requests are tiny; the cap only protects the test process from a runaway client.
const MAX_BODY_BYTES = 1024 * 1024;
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
// SigV4 verification
// ---------------------------------------------------------------------------------------------

interface SigV4Authorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, SignedHeaders=..., Signature=...`. */
function parseAuthorization(header: string): SigV4Authorization | undefined {
  const match = /^AWS4-HMAC-SHA256\s+(.+)$/.exec(header.trim());
  if (!match) return undefined;
  const fields = new Map<string, string>();
  for (const part of match[1].split(',')) {
    const separator = part.indexOf('=');
    if (separator > 0) fields.set(part.slice(0, separator).trim(), part.slice(separator + 1).trim());
  }
  const scope = (fields.get('Credential') ?? '').split('/');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (scope.length !== 5 || scope[4] !== 'aws4_request' || !signedHeaders || !signature) return undefined;
  const [accessKeyId, date, region, service] = scope;
  if (!accessKeyId || !/^\d{8}$/.test(date) || !region || !service) return undefined;
  return { accessKeyId, date, region, service, signedHeaders: signedHeaders.split(';'), signature };
}

/** RFC 3986 escaping, as SigV4 requires (encodeURIComponent leaves !'()* alone). */
const escapeRfc3986 = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const safeDecode = (value: string): string => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

/** Non-S3 services sign the normalised path escaped once more than it travels on the wire. */
function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && rawPath.endsWith('/') ? '/' : '';
  return `/${segments.map(escapeRfc3986).join('/')}${trailing}`;
}

function canonicalQuery(rawQuery: string): string {
  if (!rawQuery) return '';
  return rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const separator = pair.indexOf('=');
      const key = separator < 0 ? pair : pair.slice(0, separator);
      const value = separator < 0 ? '' : pair.slice(separator + 1);
      return [escapeRfc3986(safeDecode(key)), escapeRfc3986(safeDecode(value))] as const;
    })
    .sort(([ka, va], [kb, vb]) => compareNames(ka, kb) || compareNames(va, vb))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Mirrors the SDK signer's header value canonicalisation. */
const canonicalHeaderValue = (value: string): string =>
  value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** Recomputes the request's SigV4 signature with `secretAccessKey` and compares it in constant time. */
function signatureMatches(req: IncomingMessage, body: Buffer, auth: SigV4Authorization, secretAccessKey: string): boolean {
  const amzDate = headerValue(req.headers, 'x-amz-date');
  if (!amzDate || !amzDate.startsWith(auth.date) || !auth.signedHeaders.includes('host')) return false;

  const canonicalHeaders: string[] = [];
  for (const name of auth.signedHeaders) {
    const value = headerValue(req.headers, name);
    if (value === undefined) return false;
    canonicalHeaders.push(`${name}:${canonicalHeaderValue(value)}\n`);
  }
  // A signed content hash must describe the body actually received.
  const bodyHash = sha256Hex(body);
  const declaredHash = headerValue(req.headers, 'x-amz-content-sha256');
  if (declaredHash !== undefined && declaredHash !== bodyHash) return false;

  const [rawPath, rawQuery = ''] = (req.url ?? '/').split('?', 2);
  const canonicalRequest = [
    req.method ?? 'POST',
    canonicalPath(rawPath),
    canonicalQuery(rawQuery),
    canonicalHeaders.join(''),
    auth.signedHeaders.join(';'),
    bodyHash,
  ].join('\n');
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, auth.date), auth.region), auth.service), 'aws4_request');
  const expected = Buffer.from(createHmac('sha256', signingKey).update(stringToSign).digest('hex'));
  const provided = Buffer.from(auth.signature);
  return expected.length === provided.length && timingSafeEqual(expected, provided);
}

// ---------------------------------------------------------------------------------------------
// Request parsing helpers
// ---------------------------------------------------------------------------------------------

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () =>
      size > MAX_BODY_BYTES
        ? reject(new EcrError('SerializationException', 'Request body is too large'))
        : resolve(Buffer.concat(chunks)),
    );
    req.on('error', reject);
  });
}

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
// STS AssumeRole (query protocol, XML)
// ---------------------------------------------------------------------------------------------

const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const STS_SIGNING_SERVICE = 'sts';
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;

/** An error answered in STS's XML shape; `code` becomes the SDK error's `name`. */
class StsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

const escapeXml = (text: string): string =>
  text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);

const isStsRequest = (req: IncomingMessage): boolean =>
  (headerValue(req.headers, 'content-type') ?? '').startsWith('application/x-www-form-urlencoded');

/** Letters and digits only: what AWS's access keys, secrets and tokens look like closely enough. */
const randomKey = (length: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'): string =>
  Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join('');

export interface TemporaryKey {
  secretAccessKey: string;
  sessionToken: string;
  roleArn: string;
  expiresAt: number;
}

function stsXml(requestId: string, result: string): string {
  return (
    `<AssumeRoleResponse xmlns="${STS_XMLNS}">\n  <AssumeRoleResult>\n${result}  </AssumeRoleResult>\n` +
    `  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n</AssumeRoleResponse>\n`
  );
}

function stsErrorXml(requestId: string, error: StsError): string {
  return (
    `<ErrorResponse xmlns="${STS_XMLNS}">\n  <Error>\n    <Type>${error.type}</Type>\n    <Code>${escapeXml(error.code)}</Code>\n` +
    `    <Message>${escapeXml(error.message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`
  );
}

/** What a broken proxy or load balancer sends instead of the service's answer. */
function htmlPage(status: number): string {
  const title = `${status} ${status === 403 ? 'Forbidden' : status === 502 ? 'Bad Gateway' : 'Error'}`;
  return (
    `<!DOCTYPE html>\n<html>\n<head><title>${title}</title>\n<style>body { font-family: sans-serif; }</style></head>\n` +
    `<body>\n<h1>${title}</h1>\n<p>Blocked\u0000 by the network policy of this site. ` +
    `Contact your administrator.</p>\n${'<!-- padding -->\n'.repeat(200)}</body>\n</html>\n`
  );
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
  const faulted: Array<'ecr' | 'sts'> = [];
  const roles = new Map(Object.entries(options.roles ?? {}));
  const temporaryKeys = options.temporaryKeys ?? new Map<string, TemporaryKey>();
  let fault: { fault: EndpointFault; service?: 'ecr' | 'sts' } | undefined;
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

  /**
   * The secret that signs for `accessKeyId`: the base key (whatever session token a test sends with
   * it), or a temporary key, only together with the session token it was issued with.
   */
  const secretFor = (accessKeyId: string, sessionToken: string | undefined): string | undefined => {
    if (accessKeyId === options.accessKeyId) return options.secretAccessKey;
    const temporary = temporaryKeys.get(accessKeyId);
    return temporary && sessionToken === temporary.sessionToken ? temporary.secretAccessKey : undefined;
  };

  /** Authenticates and answers one STS request; every failure becomes an STS-shaped error. */
  const answerSts = async (req: IncomingMessage, requestId: string): Promise<string> => {
    const body = await readBody(req);
    const form = new URLSearchParams(body.toString('utf8'));
    const authorization = headerValue(req.headers, 'authorization');
    const auth = authorization === undefined ? undefined : parseAuthorization(authorization);
    if (!auth) throw new StsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
    const duration = form.get('DurationSeconds');
    const call: AssumeRoleCall = { accessKeyId: auth.accessKeyId, region: auth.region };
    for (const [field, value] of [['roleArn', form.get('RoleArn')], ['roleSessionName', form.get('RoleSessionName')], ['externalId', form.get('ExternalId')]] as const) {
      if (value !== null) call[field] = value;
    }
    if (duration !== null) call.durationSeconds = Number(duration);
    assumeRoleCalls.push(call);

    const secretAccessKey = secretFor(auth.accessKeyId, headerValue(req.headers, 'x-amz-security-token'));
    if (secretAccessKey === undefined) throw new StsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
    if (auth.service !== STS_SIGNING_SERVICE) {
      throw new StsError('SignatureDoesNotMatch', `Credential should be scoped to correct service: '${STS_SIGNING_SERVICE}'.`, 403);
    }
    if (!signatureMatches(req, body, auth, secretAccessKey)) {
      throw new StsError(
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
        403,
      );
    }
    if (form.get('Action') !== 'AssumeRole' || form.get('Version') !== '2011-06-15') {
      throw new StsError('InvalidAction', `Could not find operation ${form.get('Action') ?? ''} for version ${form.get('Version') ?? ''}`);
    }
    const roleArn = call.roleArn ?? '';
    const sessionName = call.roleSessionName ?? '';
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      throw new StsError('ValidationError', `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`);
    }
    const role = roles.get(roleArn);
    const match = ROLE_ARN_PATTERN.exec(roleArn);
    const denied = (): StsError =>
      new StsError('AccessDenied', `User: arn:aws:iam::${defaultRegistryId}:user/local is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
    if (!role || !match || (role.externalId !== undefined && call.externalId !== role.externalId)) throw denied();
    const seconds = call.durationSeconds ?? 3600;
    if (!Number.isInteger(seconds) || seconds < 900 || seconds > 43_200) {
      throw new StsError('ValidationError', `1 validation error detected: Value '${duration ?? ''}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`);
    }
    if (seconds > (role.maxSessionDurationSeconds ?? 3600)) {
      throw new StsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    }
    const accessKeyId = `ASIA${randomKey(16)}`;
    const temporary: TemporaryKey = {
      secretAccessKey: randomKey(40, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'),
      sessionToken: `FwoGZXIvYXdzE${randomKey(120, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')}`,
      roleArn,
      expiresAt: Date.now() + seconds * 1000,
    };
    temporaryKeys.set(accessKeyId, temporary);
    call.issuedAccessKeyId = accessKeyId;
    const [, account, roleName] = match;
    return stsXml(
      requestId,
      `    <AssumedRoleUser>\n      <Arn>arn:aws:sts::${account}:assumed-role/${escapeXml(roleName)}/${escapeXml(sessionName)}</Arn>\n` +
        `      <AssumedRoleId>AROA${randomKey(17)}:${escapeXml(sessionName)}</AssumedRoleId>\n    </AssumedRoleUser>\n` +
        `    <Credentials>\n      <AccessKeyId>${accessKeyId}</AccessKeyId>\n` +
        `      <SecretAccessKey>${escapeXml(temporary.secretAccessKey)}</SecretAccessKey>\n` +
        `      <SessionToken>${escapeXml(temporary.sessionToken)}</SessionToken>\n` +
        `      <Expiration>${new Date(temporary.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z')}</Expiration>\n    </Credentials>\n`,
    );
  };

  const sendXml = (res: ServerResponse, requestId: string, status: number, body: string): void => {
    res.writeHead(status, { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(body), 'x-amzn-RequestId': requestId });
    res.end(body);
  };

  /** Serves a fault instead of an answer; true when one applied. */
  const serveFault = (req: IncomingMessage, res: ServerResponse, service: 'ecr' | 'sts'): boolean => {
    if (!fault || (fault.service !== undefined && fault.service !== service)) return false;
    faulted.push(service);
    const current = fault.fault;
    // Read the request either way, so the client is left waiting on the answer alone.
    req.resume();
    if (current.mode === 'html') {
      const page = htmlPage(current.status);
      req.on('end', () => {
        res.writeHead(current.status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(page) });
        res.end(page);
      });
    }
    return true;
  };

  /** Authenticates, records and answers one request; every failure becomes an ECR-shaped error. */
  const answer = async (req: IncomingMessage): Promise<Json> => {
    const body = await readBody(req);
    const target = headerValue(req.headers, 'x-amz-target') ?? '';
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;

    const authorization = headerValue(req.headers, 'authorization');
    if (authorization === undefined) {
      throw new EcrError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    const auth = parseAuthorization(authorization);
    if (!auth) {
      throw new EcrError('IncompleteSignatureException', 'The Authorization header is not a valid AWS4-HMAC-SHA256 header.');
    }
    const sessionToken = headerValue(req.headers, 'x-amz-security-token');
    const temporary = temporaryKeys.get(auth.accessKeyId);
    calls.push({
      operation,
      accessKeyId: auth.accessKeyId,
      region: auth.region,
      ...(sessionToken !== undefined ? { sessionToken } : {}),
      ...(temporary ? { role: temporary.roleArn } : {}),
    });
    const secretAccessKey = secretFor(auth.accessKeyId, sessionToken);
    if (secretAccessKey === undefined) {
      throw new EcrError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    if (temporary && temporary.expiresAt <= Date.now()) {
      throw new EcrError('ExpiredTokenException', 'The security token included in the request is expired', 403);
    }
    if (auth.service !== SIGNING_SERVICE) {
      throw new EcrError('InvalidSignatureException', `Credential should be scoped to correct service: '${SIGNING_SERVICE}'.`, 403);
    }
    if (!signatureMatches(req, body, auth, secretAccessKey)) {
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
    return handler(withCallersRegistry(parseJsonBody(body), operation, temporary?.roleArn));
  };

  /**
   * As in AWS, the default registry is the caller's account: for a call signed by a role's keys,
   * the role's account when this endpoint serves its registry (else, as for the base keys, the first).
   */
  const withCallersRegistry = (input: Json, operation: string, roleArn: string | undefined): Json => {
    const account = roleArn === undefined ? undefined : ROLE_ARN_PATTERN.exec(roleArn)?.[1];
    if (account === undefined || !registries.has(account)) return input;
    if (operation === 'GetAuthorizationToken') return input.registryIds === undefined || input.registryIds === null ? { ...input, registryIds: [account] } : input;
    return input.registryId === undefined || input.registryId === null ? { ...input, registryId: account } : input;
  };

  const server = createServer((req, res) => {
    const requestId = randomUUID();
    const service = isStsRequest(req) ? 'sts' : 'ecr';
    if (serveFault(req, res, service)) return;
    if (service === 'sts') {
      answerSts(req, requestId).then(
        (xml) => sendXml(res, requestId, 200, xml),
        (error: unknown) => {
          const failure = error instanceof StsError ? error : new StsError('InternalFailure', `Local STS failure: ${String(error)}`, 500, 'Receiver');
          sendXml(res, requestId, failure.status, stsErrorXml(requestId, failure));
        },
      );
      return;
    }
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
  });
  // Accepted sockets are unref'd too, so idle keep-alive connections never hold the process open.
  // An idle one stays for 30 s, so that a client that leaves its connections open is seen doing so.
  const open = new Set<Socket>();
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    socket.unref();
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
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
    faulted,
    setFault(next, service) {
      fault = next ? { fault: next, ...(service ? { service } : {}) } : undefined;
    },
    openConnections: () => open.size,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // server.close() only drops idle sockets; a busy or half-sent request would hold it open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
