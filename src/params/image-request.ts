import { ParamError, quote } from '../errors';
import { formatImageReference, isBareWord, isValidTag, parseImageReference, type ImageReference } from './image-reference';
import type { ImageId, RepositoryLocation } from '../registry/registry-api';

/**
 * `imageName` as parsed once, before any call: a bare word (which may read as
 * a local image name, as a tag, or both), a digest alone (`sha256:<hex>` as
 * the ECR console and a push's result write it, or `@sha256:<hex>`), or a full
 * image reference. Push and pull resolve it against the registry host later
 * without parsing it again, so they cannot fail on its syntax.
 */
export type ImageRequest =
  | { kind: 'word'; text: string; asLocalName: boolean; asTag: boolean }
  | { kind: 'digest'; text: string; digest: string }
  | { kind: 'reference'; text: string; ref: ImageReference };

/** A digest alone: what a digest looks like, with or without the "@" a reference puts before it. */
const DIGEST_ALONE = /^@|^sha256:/;
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** A local image to push, and the ECR reference it goes to. */
export interface PushCandidate {
  source: string;
  target: string;
}

/**
 * Parses `imageName` for a push or a pull: a bare word must be a tag for a
 * pull, and a tag or a local name for a push; a push needs a tag, not only a
 * digest. Whatever reads an image in the repository (pull, tagImage and the
 * like) reads it through this, with 'pull'.
 */
export function parseImageRequest(imageName: string, direction: 'push' | 'pull'): ImageRequest {
  if (DIGEST_ALONE.test(imageName)) {
    if (direction === 'push') throw digestOnlyPush(imageName);
    const digest = imageName.replace(/^@/, '');
    if (!SHA256_DIGEST.test(digest)) {
      throw new ParamError('imageName', `${quote(imageName)} is not a digest: a digest is "sha256:" followed by 64 lower-case hex characters`);
    }
    return { kind: 'digest', text: imageName, digest };
  }
  if (isBareWord(imageName)) {
    const asTag = isValidTag(imageName);
    const asLocalName = direction === 'push' && isValidLocalName(imageName);
    if (!asTag && !asLocalName) throw invalidImageName(imageName);
    return { kind: 'word', text: imageName, asLocalName, asTag };
  }
  const ref = parseImageReference('imageName', imageName);
  if (direction === 'push' && ref.tag === undefined && ref.digest !== undefined) throw digestOnlyPush(imageName);
  return { kind: 'reference', text: imageName, ref };
}

/**
 * The local images a push may mean, in the order they are tried, each with
 * its target `<host>/<path>:<tag>` (the path is the repository's name on
 * private ECR, `<alias>/<name>` on ECR Public):
 * - a bare word `X`: the local image `X` (tag latest), else `<repoName>:X`,
 *   else `<host>/<path>:X` — so both "myapp" and "1.2.0" do what is meant;
 * - a full reference into this registry: itself (its repository must be repoName);
 * - any other reference (`app:1.0`, `ghcr.io/org/app:1.0`): itself, pushed under its tag.
 */
export function planPush(image: ImageRequest, repoName: string, location: RepositoryLocation): PushCandidate[] {
  const target = (tag: string): string => `${location.host}/${location.path}:${tag}`;
  if (image.kind === 'digest') throw digestOnlyPush(image.text);
  if (image.kind === 'word') {
    const candidates: PushCandidate[] = [];
    if (image.asLocalName) candidates.push({ source: `${image.text}:latest`, target: target('latest') });
    if (image.asTag) {
      candidates.push({ source: `${repoName}:${image.text}`, target: target(image.text) });
      candidates.push({ source: target(image.text), target: target(image.text) });
    }
    return candidates;
  }
  checkSameRepository(image.ref, repoName, location);
  return [{ source: image.text, target: target(image.ref.tag ?? 'latest') }];
}

/**
 * The reference a pull means: only its tag or digest is used (a bare word
 * is a tag; a digest alone is that digest; none means latest), in
 * `<host>/<path>` (the path is the repository's name on private ECR,
 * `<alias>/<name>` on ECR Public).
 */
export function planPull(image: ImageRequest, repoName: string, location: RepositoryLocation): string {
  const { host, path } = location;
  if (image.kind === 'word') return `${host}/${path}:${image.text}`;
  if (image.kind === 'digest') return `${host}/${path}@${image.digest}`;
  const { ref } = image;
  checkSameRepository(ref, repoName, location);
  const target = { domain: host, path };
  return formatImageReference(ref.digest !== undefined ? { ...target, digest: ref.digest } : { ...target, tag: ref.tag ?? 'latest' });
}

/**
 * The image in the repository that `imageName`, parsed as a pull parses it,
 * names for the registry's API: a bare word is a tag; a digest alone is that
 * digest; a reference gives its digest, else its tag (none: latest).
 */
export function repositoryImageId(image: ImageRequest): ImageId {
  if (image.kind === 'word') return { tag: image.text };
  if (image.kind === 'digest') return { digest: image.digest };
  const { ref } = image;
  return ref.digest !== undefined ? { digest: ref.digest } : { tag: ref.tag ?? 'latest' };
}

/**
 * A public image named in full, `<host>/<alias>/<repoName>[:tag|@digest]`:
 * where it is, known without asking any API (so it can be pulled with no
 * credentials at all). Undefined when `imageName` names no host.
 */
export function namedPublicLocation(image: ImageRequest, repoName: string): RepositoryLocation | undefined {
  if (image.kind !== 'reference' || image.ref.domain === undefined) return undefined;
  const { domain, path } = image.ref;
  const alias = path.slice(0, Math.max(path.length - repoName.length - 1, 0));
  if (!path.endsWith(`/${repoName}`) || alias === '' || alias.includes('/')) {
    throw new ParamError(
      'imageName',
      `names ${quote(path)} on ${quote(domain)}, but a public image is "<host>/<alias>/<repoName>" and "repoName" is ${quote(repoName)}; make them agree`,
    );
  }
  return { host: domain, path };
}

/** A full reference into this very registry must not quietly go to another repository. */
function checkSameRepository(ref: ImageReference, repoName: string, { host, path }: RepositoryLocation): void {
  if (ref.domain !== undefined && ref.domain.toLowerCase() === host.toLowerCase() && ref.path !== path) {
    const where = path === repoName ? '' : ` (${quote(path)} under the registry's alias)`;
    throw new ParamError('imageName', `names repository ${quote(ref.path)} in this registry, but "repoName" is ${quote(repoName)}${where}; make them agree`);
  }
}

function isValidLocalName(word: string): boolean {
  try {
    parseImageReference('imageName', word);
    return true;
  } catch {
    return false;
  }
}

function digestOnlyPush(imageName: string): ParamError {
  return new ParamError('imageName', `${quote(imageName)} names only a digest; a push needs a tag, such as "app:1.2.0"`);
}

function invalidImageName(imageName: string): ParamError {
  return new ParamError(
    'imageName',
    `${quote(imageName)} is neither a tag nor an image name; expected a tag ("1.2.0"), a local image ("app:1.2.0") or a full reference`,
  );
}
