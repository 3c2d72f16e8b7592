import { ParamError } from '../errors';
import { shown, type ParamReader } from '../kaholo/param-reader';
import type { RegistryType } from './registry-type';

/** An AWS resource tag of the repository. */
export interface ResourceTag {
  Key: string;
  Value: string;
}

/** How a private repository that a push creates is set up (ECR CreateRepository's settings). */
export interface PrivateRepositorySettings {
  type: 'private';
  imageTagMutability: 'MUTABLE' | 'IMMUTABLE';
  scanOnPush: boolean;
  encryptionType: 'AES256' | 'KMS';
  /** Only with KMS; absent means the AWS managed key. */
  kmsKey?: string;
  tags: ResourceTag[];
}

/** What the Amazon ECR Public Gallery shows of a public repository; every field optional. */
export interface CatalogData {
  description?: string;
  aboutText?: string;
  usageText?: string;
  architectures: string[];
  operatingSystems: string[];
}

/** How a public repository that a push creates is set up (ECR Public CreateRepository's settings). */
export interface PublicRepositorySettings {
  type: 'public';
  catalog: CatalogData;
  tags: ResourceTag[];
}

export type RepositorySettings = PrivateRepositorySettings | PublicRepositorySettings;

/** AWS's limits for resource tags: the characters, the lengths, 50 tags, no "aws:" keys. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const MAX_TAGS = 50;

/** The architectures and operating systems the Gallery shows as badges and filters by (others are kept but never shown). */
export const CATALOG_ARCHITECTURES = ['ARM', 'ARM 64', 'x86', 'x86-64'] as const;
export const CATALOG_OPERATING_SYSTEMS = ['Linux', 'Windows'] as const;

/** Each catalog field's param. */
const CATALOG_PARAMS: Record<keyof CatalogData, string> = {
  description: 'catalogDescription',
  aboutText: 'catalogAboutText',
  usageText: 'catalogUsageText',
  architectures: 'catalogArchitectures',
  operatingSystems: 'catalogOperatingSystems',
};

/**
 * Reads push's repository params for a registry of `registryType`, every one
 * of them checked whether or not `createRepository` is on (so a mistake shows
 * before it matters). Returns the settings when the push should create the
 * repository, undefined otherwise.
 *
 * The Kaholo form sends imageTagMutability, scanOnPush and encryptionType at
 * their defaults (MUTABLE, true, AES256) whether or not the user touched
 * them, so for a public repository those values mean "not set"; only a
 * setting that asks for what ECR Public cannot do (immutable tags, a KMS key)
 * is refused. Catalog data is for public repositories only.
 */
export function readRepositorySettings(params: ParamReader, registryType: RegistryType): RepositorySettings | undefined {
  const create = params.boolean('createRepository', false);
  const imageTagMutability = params.option('imageTagMutability', ['MUTABLE', 'IMMUTABLE'] as const, 'MUTABLE');
  const scanOnPush = params.boolean('scanOnPush', true);
  const encryptionType = params.option('encryptionType', ['AES256', 'KMS'] as const, 'AES256');
  const kmsKey = params.string('kmsKey');
  // Not for a public repository, where "choose KMS" would be wrong advice: kmsKey is refused there (below).
  if (registryType !== 'public' && kmsKey !== undefined && encryptionType !== 'KMS') {
    throw new ParamError('kmsKey', 'is only used with "encryptionType" KMS: choose KMS or leave "kmsKey" empty');
  }
  const tags = readResourceTags(params);
  const catalog = readCatalogData(params);
  if (registryType === 'public') {
    const privateOnly: Refused[] = [];
    if (imageTagMutability === 'IMMUTABLE') privateOnly.push(['imageTagMutability', `IMMUTABLE ${PRIVATE_ONLY} (a public one's tags can always move): ${KEEP_PUBLIC} MUTABLE`]);
    if (encryptionType === 'KMS') privateOnly.push(['encryptionType', `KMS ${PRIVATE_ONLY} (AWS manages a public one's keys): ${KEEP_PUBLIC} AES256`]);
    if (kmsKey !== undefined) privateOnly.push(['kmsKey', `${PRIVATE_ONLY} (AWS manages a public one's keys): ${KEEP_PUBLIC} empty`]);
    if (privateOnly.length > 0) throw refusal(privateOnly);
    return create ? { type: 'public', catalog, tags } : undefined;
  }
  const catalogSet = (Object.keys(CATALOG_PARAMS) as Array<keyof CatalogData>)
    .filter((field) => catalog[field] !== undefined && catalog[field]?.length !== 0)
    .map((field): Refused => [CATALOG_PARAMS[field], 'is catalog data, for public repositories only: set "registryType" public, or leave it empty']);
  if (catalogSet.length > 0) throw refusal(catalogSet);
  return create ? { type: 'private', imageTagMutability, scanOnPush, encryptionType, ...(kmsKey !== undefined ? { kmsKey } : {}), tags } : undefined;
}

const PRIVATE_ONLY = 'is for private repositories only';
const KEEP_PUBLIC = 'with "registryType" public leave it';

/** A refused param and why. */
type Refused = [param: string, problem: string];

/** The first refused param, naming the others refused with it, so one run shows every one to fix. */
function refusal([[param, problem], ...others]: Refused[]): ParamError {
  const also = others.length > 0 ? `; the same goes for ${others.map(([name]) => `"${name}"`).join(', ')}` : '';
  return new ParamError(param, `${problem}${also}`);
}

function readResourceTags(params: ParamReader): ResourceTag[] {
  const tags = params.list('repositoryTags').map(parseRepositoryTag);
  const keys = tags.map((tag) => tag.Key);
  const repeated = keys.find((key, index) => keys.indexOf(key) !== index);
  if (repeated !== undefined) throw new ParamError('repositoryTags', `key ${shown(repeated)} is given twice`);
  if (tags.length > MAX_TAGS) throw new ParamError('repositoryTags', `has ${tags.length} tags; AWS allows at most ${MAX_TAGS}`);
  return tags;
}

/** The catalog params: texts as written (Markdown for the about and usage texts), badges in the Gallery's own spelling. */
function readCatalogData(params: ParamReader): CatalogData {
  const catalog: CatalogData = {
    architectures: badges(params, CATALOG_PARAMS.architectures, CATALOG_ARCHITECTURES),
    operatingSystems: badges(params, CATALOG_PARAMS.operatingSystems, CATALOG_OPERATING_SYSTEMS),
  };
  for (const field of ['description', 'aboutText', 'usageText'] as const) {
    const value = params.string(CATALOG_PARAMS[field]);
    if (value !== undefined) catalog[field] = value;
  }
  return catalog;
}

/** One of `known` per line or comma, in any case ("arm 64" is "ARM 64"); repeats dropped. */
function badges(params: ParamReader, name: string, known: readonly string[]): string[] {
  const chosen = params.list(name).map((item) => {
    const match = known.find((k) => k.toLowerCase() === item.replace(/\s+/g, ' ').toLowerCase());
    if (match === undefined) {
      throw new ParamError(name, `${shown(item)} is not one the ECR Public Gallery knows; expected ${known.map((k) => `"${k}"`).join(', ')}, one a line`);
    }
    return match;
  });
  return [...new Set(chosen)];
}

function parseRepositoryTag(line: string): ResourceTag {
  const equals = line.indexOf('=');
  const tag = { Key: line.slice(0, Math.max(equals, 0)).trim(), Value: line.slice(equals + 1).trim() };
  const problem = equals < 0 ? 'is not Key=Value' : tagProblem(tag.Key, tag.Value);
  if (problem !== undefined) {
    throw new ParamError('repositoryTags', `${shown(line)} ${problem}; expected one Key=Value a line, such as "team=payments"`);
  }
  return tag;
}

function tagProblem(key: string, value: string): string | undefined {
  if (key === '') return 'has no key before "="';
  if (key.length > 128 || value.length > 256) return 'is too long (keys up to 128 characters, values up to 256)';
  if (!TAG_TEXT.test(key) || !TAG_TEXT.test(value)) {
    return 'holds a character AWS tags do not allow (letters, digits, spaces and _ . : / = + - @ are allowed)';
  }
  if (key.toLowerCase().startsWith('aws:')) return 'uses the "aws:" prefix, which AWS reserves';
  return undefined;
}
