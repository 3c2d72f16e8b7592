import { ParamError, quote } from './errors';
import { formatImageReference, isBareWord, isValidTag, parseImageReference, type ImageReference } from './image-reference';

/** A local image to push, and the ECR reference it goes to. */
export interface PushCandidate {
  source: string;
  target: string;
}

/**
 * The local images a push of `imageName` may mean, in the order they are
 * tried, each with its ECR target `<host>/<repoName>:<tag>`:
 * - a bare word `X`: the local image `X` (tag latest), else `<repoName>:X`,
 *   else `<host>/<repoName>:X` — so both "myapp" and "1.2.0" do what is meant;
 * - a full reference into this registry: itself (its repository must be repoName);
 * - any other reference (`app:1.0`, `ghcr.io/org/app:1.0`): itself, pushed under its tag.
 */
export function planPush(imageName: string, repoName: string, host: string): PushCandidate[] {
  const target = (tag: string): string => `${host}/${repoName}:${tag}`;
  if (isBareWord(imageName)) {
    const candidates: PushCandidate[] = [];
    if (isValidLocalName(imageName)) candidates.push({ source: `${imageName}:latest`, target: target('latest') });
    if (isValidTag(imageName)) {
      candidates.push({ source: `${repoName}:${imageName}`, target: target(imageName) });
      candidates.push({ source: target(imageName), target: target(imageName) });
    }
    if (candidates.length === 0) throw invalidImageName(imageName);
    return candidates;
  }
  const ref = parseImageReference('imageName', imageName);
  checkSameRepository(ref, repoName, host);
  if (ref.tag === undefined && ref.digest !== undefined) {
    throw new ParamError('imageName', `${quote(imageName)} names only a digest; a push needs a tag, such as "app:1.2.0"`);
  }
  return [{ source: imageName, target: target(ref.tag ?? 'latest') }];
}

/**
 * Checks the form of `imageName` before anything is called (the registry host
 * is not needed for that): a bare word must be a tag for a pull, and a tag or
 * a local name for a push.
 */
export function checkImageName(imageName: string, direction: 'push' | 'pull'): void {
  if (isBareWord(imageName)) {
    const usable = isValidTag(imageName) || (direction === 'push' && isValidLocalName(imageName));
    if (!usable) throw invalidImageName(imageName);
    return;
  }
  parseImageReference('imageName', imageName);
}

/**
 * The ECR reference a pull of `imageName` means: only its tag or digest is
 * used (a bare word is a tag; none means latest), in `<host>/<repoName>`.
 */
export function planPull(imageName: string, repoName: string, host: string): string {
  if (isBareWord(imageName)) {
    if (!isValidTag(imageName)) throw invalidImageName(imageName);
    return `${host}/${repoName}:${imageName}`;
  }
  const ref = parseImageReference('imageName', imageName);
  checkSameRepository(ref, repoName, host);
  const target = { domain: host, path: repoName };
  return formatImageReference(ref.digest !== undefined ? { ...target, digest: ref.digest } : { ...target, tag: ref.tag ?? 'latest' });
}

/** A full reference into this very registry must not quietly go to another repository. */
function checkSameRepository(ref: ImageReference, repoName: string, host: string): void {
  if (ref.domain !== undefined && ref.domain.toLowerCase() === host.toLowerCase() && ref.path !== repoName) {
    throw new ParamError(
      'imageName',
      `names repository ${quote(ref.path)} in this registry, but "repoName" is ${quote(repoName)}; make them agree`,
    );
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

function invalidImageName(imageName: string): ParamError {
  return new ParamError(
    'imageName',
    `${quote(imageName)} is neither a tag nor an image name; expected a tag ("1.2.0"), a local image ("app:1.2.0") or a full reference`,
  );
}
