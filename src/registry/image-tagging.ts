import { Interruption } from '../agent/interruption';
import { planPull, repositoryImageId, type ImageRequest } from '../params/image-request';
import { foreign, MissingImageError, ParamError, PluginError, quote, shorten } from '../errors';
import type { ActivityLog } from '../kaholo/activity-log';
import { shown } from '../kaholo/param-reader';
import type { ImageId, PutManifestAnswer, RegistryApi, RepositoryLocation, StoredManifest } from './registry-api';
import type { RepositoryTarget } from './repository-creation';
import type { TimeLimit } from '../params/time-limit';

/**
 * Adds tags to an image already in the registry the way ECR itself does: its
 * manifest is read, then put again, byte for byte with its media type, under
 * each new tag. No layer moves and no Docker is involved; for a
 * multi-platform image the index is tagged, so every platform is. A tag
 * counts only once the registry was seen to hold it: PutImage's answer
 * carries the image's digest, or the tag is read back.
 */

/** What tagImage returns: the source reference, its digest, the registry host, and its tags. */
export interface TaggedImage {
  image: string;
  digest: string;
  registry: string;
  tags: string[];
}

/**
 * tagImage: `imageName` (a tag or digest in the repository, parsed as a pull
 * parses it) gets `tags` too. The tags stay locked against other actions on
 * the agent (a push of one of them, another tagImage, a copy) from before the
 * image is read until the last is written, so those end as if run one after
 * the other.
 */
export async function tagImageInRepository(
  target: RepositoryTarget,
  image: ImageRequest,
  tags: string[],
  { log, waitMs }: { log: ActivityLog; waitMs: number },
): Promise<TaggedImage> {
  const location = await registryLocation(target);
  const reference = planPull(image, target.repoName, location);
  const source = repositoryImageId(image);
  // Only an action that gets this far loads the lock (and proper-lockfile).
  const { tagReference, withRegistryLocks } = await import('../agent/registry-lock');
  const interruption = Interruption.catch(log);
  try {
    const references = tags.map((tag) => tagReference(location.host, location.path, tag));
    return await withRegistryLocks({ references, waitMs, log, interruption }, async () => {
      const stored = await getImage(target, source, interruption, `${shown(image.text)} is not in repository ${quote(target.repoName)}`, 'imageName');
      const placed: string[] = [];
      try {
        await putTags(target, stored, tags, 'tags', placed, log, interruption);
      } catch (error) {
        const untried = tags.slice(placed.length + 1);
        const after = [...(placed.length > 0 ? [`tags added before it (verified): ${listed(placed)}`] : []), ...(untried.length > 0 ? [`not tried: ${listed(untried)}`] : [])];
        const state = after.join('; ');
        throw new PluginError(state === '' ? messageOf(error) : `${messageOf(error)}. ${state[0].toUpperCase()}${state.slice(1)}`);
      }
      return { image: reference, digest: stored.digest, registry: location.host, tags: unique([...(source.tag !== undefined ? [source.tag] : []), ...tags]) };
    });
  } finally {
    interruption.release();
  }
}

/**
 * Push: every tag that now names the pushed digest, the pushed one first.
 * Runs under the locks of all of them (image-transfer.ts). A failure says the
 * image was pushed, with its digest, and which tags are in place.
 */
export async function tagPushedImage(
  target: RepositoryTarget,
  pushed: { image: string; digest: string },
  additionalTags: string[],
  log: ActivityLog,
  interruption: Interruption,
  limit: TimeLimit,
): Promise<string[]> {
  // `<host>/<path>:<tag>`: repository paths hold no ':', so the last one starts the tag.
  const pushedTag = pushed.image.slice(pushed.image.lastIndexOf(':') + 1);
  const tags = unique([pushedTag, ...additionalTags]);
  // docker's answer to the push carried the digest, checked against the image pushed.
  const placed = [pushedTag];
  const stop = stopAtLimit(interruption, limit, 'it was still adding the additional tags');
  try {
    if (tags.length > 1) {
      const stored = await getImage(target, { digest: pushed.digest }, stop, `the pushed image ${pushed.digest} is not in repository ${quote(target.repoName)}`);
      await putTags(target, stored, tags.slice(1), 'additionalTags', placed, log, stop);
    }
    return placed;
  } catch (error) {
    throw new PluginError(
      `${messageOf(error)}. The image itself was pushed to ${quote(target.repoName)} with digest ${pushed.digest}; ` +
        `tags in place (verified): ${listed(placed)}; not in place: ${listed(tags.slice(placed.length))}`,
    );
  } finally {
    stop.release();
  }
}

/** What stops the tagging: an interrupt, and for a push its time limit too. */
type Stop = Pick<Interruption, 'signal' | 'check'>;

/** The interrupt's stop, also raised when the limit comes: the AWS call in flight is aborted, and check() names the limit. */
function stopAtLimit(interruption: Interruption, limit: TimeLimit, doing: string): Stop & { release(): void } {
  const aborter = new AbortController();
  const timer = setTimeout(() => aborter.abort(), limit.remainingMs());
  const forget = interruption.onInterrupt(() => aborter.abort());
  return {
    signal: aborter.signal,
    check: () => {
      interruption.check();
      // Not interrupted: an abort was the limit's.
      if (aborter.signal.aborted || limit.remainingMs() === 0) throw limit.exceeded(doing);
    },
    release: () => {
      clearTimeout(timer);
      forget();
    },
  };
}

/**
 * Where the repository's URI says it is: `<host>/<path>`, the path being the
 * repository's name, or on ECR Public `<alias>/<name>` (hosts hold no "/").
 */
async function registryLocation({ registry, repoName }: RepositoryTarget): Promise<RepositoryLocation> {
  const [repository] = await registry.describeRepositories([repoName]);
  const uri = repository?.repositoryUri;
  const slash = uri?.indexOf('/') ?? -1;
  const location = uri !== undefined && slash > 0 ? { host: uri.slice(0, slash), path: uri.slice(slash + 1) } : undefined;
  if (location === undefined || !(location.path === repoName || location.path.endsWith(`/${repoName}`))) {
    throw new PluginError(`DescribeRepositories returned no URI of repository ${quote(repoName)} (${uri === undefined ? 'none' : quote(uri)})`);
  }
  return location;
}

/** The manifest of one image; a missing one becomes `missing`, naming `param` if given. */
async function getImage(
  { registry, repoName }: RepositoryTarget,
  image: ImageId,
  interruption: Stop,
  missing: string,
  param?: string,
): Promise<StoredManifest> {
  try {
    return await registry.getManifest(repoName, image, interruption.signal);
  } catch (error) {
    interruption.check(); // an interrupt (or the limit) abandons the call: say that, not how the call ended
    if (!(error instanceof MissingImageError)) throw error;
    throw param !== undefined ? new ParamError(param, `${missing} (${error.reason})`) : new PluginError(`${missing} (${error.reason})`);
  }
}

/** Puts the stored manifest under each tag in turn, appending each to `placed` once it is verified; stops at the first failure. */
async function putTags(
  target: RepositoryTarget,
  stored: StoredManifest,
  tags: string[],
  param: string,
  placed: string[],
  log: ActivityLog,
  interruption: Stop,
): Promise<void> {
  for (const tag of tags) {
    interruption.check();
    await putTag(target, stored, tag, param, log, interruption);
    placed.push(tag);
  }
}

/**
 * Puts the manifest under `tag` and makes sure the tag names it. An answer
 * that carries the image's digest (and this tag, if it names one) is proof;
 * any other (no image in it, as an empty 200 has; another digest; "already
 * exists", which an ECR-compatible endpoint may also say for an immutable
 * tag; "immutable") is settled by reading the tag back. A tag that names
 * another image and was refused is an immutable tag, an error naming it.
 */
async function putTag(target: RepositoryTarget, stored: StoredManifest, tag: string, param: string, log: ActivityLog, interruption: Stop): Promise<void> {
  const { registry, repoName } = target;
  let answer: PutManifestAnswer;
  try {
    answer = await registry.putManifest(repoName, stored, tag, interruption.signal);
  } catch (error) {
    interruption.check();
    throw new PluginError(`Tag ${quote(tag)}: ${messageOf(error)}`);
  }
  if (answer.outcome === 'stored' && answer.digest === stored.digest && (answer.tag === undefined || answer.tag === tag)) {
    log.info(`Tagged ${repoName}@${stored.digest} as ${tag}`);
    return;
  }
  const named = await digestOfTag(target, tag, interruption);
  if (named === stored.digest) {
    log.info(
      answer.outcome === 'stored'
        ? `Tagged ${repoName}@${stored.digest} as ${tag} (PutImage ${answered(answer, tag)}; the tag was read back)`
        : `${repoName}:${tag} already names ${stored.digest}`,
    );
    return;
  }
  if (named !== undefined && answer.outcome !== 'stored') {
    throw new ParamError(param, `tag ${quote(tag)} already names another image in repository ${quote(repoName)}, whose tags are immutable; choose another tag`);
  }
  const { put, readBack } = callNames(registry);
  throw new PluginError(
    `Tag ${quote(tag)} is not in place: ${put} ${answered(answer, tag)}, but reading the tag back (${readBack}) found ` +
      `${named === undefined ? 'no such tag' : `it names ${shorten(named)}, not ${shorten(stored.digest)}`}`,
  );
}

/** How a message names the put and the read-back of a tag: ECR Public has no BatchGetImage, its registry's API reads the tag. */
function callNames(registry: RegistryApi): { put: string; readBack: string } {
  return registry.type === 'public' ? { put: 'ECR Public PutImage', readBack: "the registry's manifest API" } : { put: 'ECR PutImage', readBack: 'BatchGetImage' };
}

/** What a put's answer said, for a message. */
function answered(answer: PutManifestAnswer, tag: string): string {
  switch (answer.outcome) {
    case 'stored':
      if (answer.digest === undefined) return 'answered without the image it stored';
      return answer.tag !== undefined && answer.tag !== tag ? `answered ${shorten(answer.digest)} under tag ${quote(answer.tag)}` : `answered ${shorten(answer.digest)}`;
    case 'already-exists':
      return 'answered that the image already exists';
    case 'tag-immutable':
      return 'refused the tag as immutable';
  }
}

/** The digest `tag` names in the repository now; undefined when it names nothing. */
async function digestOfTag({ registry, repoName }: RepositoryTarget, tag: string, interruption: Stop): Promise<string | undefined> {
  try {
    return (await registry.getManifest(repoName, { tag }, interruption.signal)).digest;
  } catch (error) {
    interruption.check();
    if (error instanceof MissingImageError) return undefined;
    throw new PluginError(`Tag ${quote(tag)}: could not read it back after PutImage: ${messageOf(error)}`);
  }
}

function messageOf(error: unknown): string {
  if (error instanceof PluginError) return error.message;
  if (error instanceof Error) return `Unexpected error: ${foreign(`${error.name}: ${error.message}`)}`;
  return `Unexpected error: ${foreign(String(error))}`;
}

function listed(tags: string[]): string {
  return tags.map(quote).join(', ');
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
