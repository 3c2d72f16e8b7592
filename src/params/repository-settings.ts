import { ParamError } from '../errors';
import { shown, type ParamReader } from '../kaholo/param-reader';

/** How a repository that a push creates is set up (CreateRepository's settings). */
export interface RepositorySettings {
  imageTagMutability: 'MUTABLE' | 'IMMUTABLE';
  scanOnPush: boolean;
  encryptionType: 'AES256' | 'KMS';
  /** Only with KMS; absent means the AWS managed key. */
  kmsKey?: string;
  tags: Array<{ Key: string; Value: string }>;
}

/** AWS's limits for resource tags: the characters, the lengths, 50 tags, no "aws:" keys. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const MAX_TAGS = 50;

/**
 * Reads push's repository params, every one of them checked whether or not
 * `createRepository` is on (so a mistake shows before it matters). Returns the
 * settings when the push should create the repository, undefined otherwise.
 */
export function readRepositorySettings(params: ParamReader): RepositorySettings | undefined {
  const create = params.boolean('createRepository', false);
  const imageTagMutability = params.option('imageTagMutability', ['MUTABLE', 'IMMUTABLE'] as const, 'MUTABLE');
  const scanOnPush = params.boolean('scanOnPush', true);
  const encryptionType = params.option('encryptionType', ['AES256', 'KMS'] as const, 'AES256');
  const kmsKey = params.string('kmsKey');
  if (kmsKey !== undefined && encryptionType !== 'KMS') {
    throw new ParamError('kmsKey', 'is only used with "encryptionType" KMS: choose KMS or leave "kmsKey" empty');
  }
  const tags = params.list('repositoryTags').map(parseRepositoryTag);
  const keys = tags.map((tag) => tag.Key);
  const repeated = keys.find((key, index) => keys.indexOf(key) !== index);
  if (repeated !== undefined) throw new ParamError('repositoryTags', `key ${shown(repeated)} is given twice`);
  if (tags.length > MAX_TAGS) throw new ParamError('repositoryTags', `has ${tags.length} tags; AWS allows at most ${MAX_TAGS}`);
  if (!create) return undefined;
  return { imageTagMutability, scanOnPush, encryptionType, ...(kmsKey !== undefined ? { kmsKey } : {}), tags };
}

function parseRepositoryTag(line: string): { Key: string; Value: string } {
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
