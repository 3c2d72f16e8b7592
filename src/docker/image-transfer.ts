/**
 * docker/: push and pull through the docker CLI and the agent's Docker
 * engine: docker run from an argument array in a private config, the login
 * session around the work, the engine's image names and endpoint, docker's
 * retries. This file is push and pull themselves.
 */
import { DockerCommandError } from './docker-cli';
import type { RegistryLogin, RepositoryLocation } from '../registry/registry-api';
import { imageIdOf, lastLine, LOCAL_TIMEOUT_MS, restoreName } from './engine-names';
import { ParamError, PluginError, quote, shorten } from '../errors';
import { withRegistrySession, type RegistrySession, type SessionContext } from './registry-session';
import { withRetries } from './docker-retries';
import { forgetAddedName, recordAddedName, type AddedName } from '../agent/added-names';
import { withEngineLock } from '../agent/engine-lock';
import { tagReference, withRegistryLocks } from '../agent/registry-lock';
import type { Interruption } from '../agent/interruption';
import type { TransferOptions } from '../params/transfer-options';
import { planPull, planPush, type ImageRequest, type PushCandidate } from '../params/image-request';

export interface TransferRequest {
  /** Absent: no credentials, so an anonymous pull (of a public image). */
  login: RegistryLogin | undefined;
  repoName: string;
  /** Where the repository's images are: `<host>/<path>`. */
  location: RepositoryLocation;
  image: ImageRequest;
  options: TransferOptions;
}

/** A push: the image, and more tags it gets in the registry once pushed. */
export interface PushRequest extends TransferRequest {
  additionalTags: string[];
}

/** What push and pull return: the image's reference, its digest and the registry host. */
export interface TransferResult {
  image: string;
  digest: string;
  registry: string;
}

/**
 * Pushes exactly the image `imageName` names when the push starts: it is
 * resolved to its image id, that id is tagged as the target, and the digest
 * docker reports is checked to belong to that id. Under the lock for the
 * target, so no other push or pull of this plugin re-points the name
 * meanwhile; the name is then left as it was before. All of it but the push
 * itself runs in the engine alone, so it overlaps the login. `finish` (the
 * additional tags) runs once the image is pushed, still under the locks of
 * every tag the push writes in the registry, taken before the engine's.
 */
export async function pushImage<T>(
  request: PushRequest,
  context: SessionContext,
  finish: (pushed: TransferResult, interruption: Interruption) => Promise<T>,
): Promise<T> {
  const { login, repoName, location, image, options, additionalTags } = request;
  if (login === undefined) throw new PluginError('A push needs a login to the registry');
  const candidates = planPush(image, repoName, location);
  return withRegistrySession(login, context, options, async (session) => {
    const underTagLocks = (target: string, push: () => Promise<TransferResult>): Promise<T> =>
      withRegistryLocks(
        {
          references: [tagOf(target), ...additionalTags].map((tag) => tagReference(location.host, location.path, tag)),
          waitMs: options.limit.ms,
          limit: session.limit,
          log: session.log,
          interruption: session.interruption,
        },
        async () => finish(await push(), session.interruption),
      );
    const targets = new Set(candidates.map((c) => c.target));
    if (targets.size === 1) {
      // One target whatever the image turns out to be: lock it first, and one inspect of a
      // candidate that is the target itself tells both what to push and what the name named.
      const [target] = targets;
      return underTagLocks(target, () =>
        withEngineLock({ ...session, reference: target, waitMs: options.limit.ms }, async () => {
          const resolved = await resolveSource(session, candidates);
          const previousId = resolved.source === target ? resolved.imageId : await imageIdOf(session.docker, target);
          return pushLocked(request, session, resolved, previousId);
        }),
      );
    }
    const resolved = await resolveSource(session, candidates);
    return underTagLocks(resolved.target, () =>
      withEngineLock({ ...session, reference: resolved.target, waitMs: options.limit.ms }, async () =>
        pushLocked(request, session, resolved, await imageIdOf(session.docker, resolved.target)),
      ),
    );
  });
}

/** The tag of a target `<host>/<path>:<tag>`: repository paths hold no ':', so the last one starts the tag. */
function tagOf(target: string): string {
  return target.slice(target.lastIndexOf(':') + 1);
}

/** The push proper, under the target's lock: name the image, push it once logged in, check it, restore the name. */
async function pushLocked(
  { location, options }: TransferRequest,
  session: RegistrySession,
  { source, target, imageId }: PushCandidate & { imageId: string },
  previousId: string | undefined,
): Promise<TransferResult> {
  const { docker, log } = session;
  log.info(`Pushing ${target} (${source}, image ${imageId.slice(0, 19)})`);
  const added: AddedName | undefined = previousId === imageId ? undefined : { engine: session.engine, target, imageId, previousId };
  // Written down before docker tag runs: whatever stops this action, the name gets undone.
  if (added) await recordAddedName(session.configDir, added);
  try {
    if (added) {
      await docker.run(['tag', imageId, target], { timeoutMs: LOCAL_TIMEOUT_MS });
      log.info(`Tagged ${source} as ${target}`);
    }
    await session.loggedIn;
    const { stdout } = await withRetries('docker push', options.retry, session, () =>
      docker.run(['push', target], { stream: true, timeoutMs: options.limit.ms, stallMs: options.stallMs }),
    ).catch((error: unknown) => {
      throw explainPushFailure(error, location);
    });
    // Done with the registry: the logout runs while the engine is asked about the digest.
    const loggedOut = session.logOut();
    const digest = await checkPushedDigest(session, stdout, imageId, `${location.host}/${location.path}`);
    await loggedOut;
    return { image: target, digest, registry: location.host };
  } finally {
    if (added && (await restoreName(docker, added, log))) {
      await forgetAddedName(session.configDir, added).catch((error: Error) => log.error(`Clean-up: ${error.message}`));
    }
  }
}

export async function pullImage(request: TransferRequest, context: SessionContext): Promise<TransferResult> {
  const { login, repoName, location, image, options } = request;
  const reference = planPull(image, repoName, location);
  return withRegistrySession(login, context, options, (session) =>
    withEngineLock({ ...session, reference, waitMs: options.limit.ms }, async () => {
      await session.loggedIn;
      session.log.info(`Pulling ${reference}`);
      let stdout: string;
      try {
        ({ stdout } = await withRetries('docker pull', options.retry, session, () =>
          session.docker.run(['pull', reference], { stream: true, timeoutMs: options.limit.ms, stallMs: options.stallMs }),
        ));
      } catch (error) {
        throw explainPullFailure(error, reference);
      }
      const loggedOut = session.logOut();
      const digest = /Digest: (sha256:[a-f0-9]{64})/.exec(stdout)?.[1] ?? (await repoDigest(session, reference, `${location.host}/${location.path}`));
      await loggedOut;
      return { image: reference, digest, registry: location.host };
    }),
  );
}

/** The first candidate that exists locally, with its image id; a clear error naming all of them otherwise. */
async function resolveSource(session: RegistrySession, candidates: PushCandidate[]): Promise<PushCandidate & { imageId: string }> {
  for (const candidate of candidates) {
    const imageId = await imageIdOf(session.docker, candidate.source);
    if (imageId !== undefined) return { ...candidate, imageId };
  }
  const names = candidates.map((c) => quote(c.source)).join(', ');
  throw new ParamError('imageName', `no such local image on the agent (looked for ${names}); build or pull it first`);
}

/**
 * The digest docker reported for the push, once the engine confirms it is a
 * digest of the image the action resolved; anything else means another
 * process re-pointed the name during the push, and the push is an error.
 */
async function checkPushedDigest(session: RegistrySession, stdout: string, imageId: string, repository: string): Promise<string> {
  const reported = /digest: (sha256:[a-f0-9]{64})/.exec(stdout)?.[1];
  const known = await repoDigestsOf(session, imageId);
  const ofRepository = known.filter((d) => d.startsWith(`${repository}@`)).map((d) => d.split('@')[1]);
  if (reported === undefined) {
    if (ofRepository.length === 1) return ofRepository[0];
    throw new PluginError(`docker reported no digest for the push to ${shorten(repository)}`);
  }
  if (!ofRepository.includes(reported)) {
    throw new PluginError(
      `docker pushed ${reported} to ${shorten(repository)}, which is not the image ${imageId.slice(0, 19)} that "imageName" named when the action started: ` +
        'something else re-tagged that name during the push; push again',
    );
  }
  return reported;
}

async function repoDigestsOf(session: RegistrySession, reference: string): Promise<string[]> {
  const { stdout } = await session.docker.run(['image', 'inspect', '--format', '{{json .RepoDigests}}', reference], {
    timeoutMs: LOCAL_TIMEOUT_MS,
  });
  return (JSON.parse(lastLine(stdout)) as string[] | null) ?? [];
}

/**
 * The digest the registry knows the pulled image by, from the engine's record
 * of it for this repository; a digest recorded for another repository only is
 * no answer (it may name another manifest of the same image).
 */
async function repoDigest(session: RegistrySession, reference: string, repository: string): Promise<string> {
  const digests = await repoDigestsOf(session, reference);
  const digest = digests.find((d) => d.startsWith(`${repository}@`))?.split('@')[1];
  if (!digest) throw new PluginError(`docker reported no digest for ${shorten(reference)}`);
  return digest;
}

/** ECR refuses a push to a repository that does not exist ("name unknown"): say which param, and the way out. */
function explainPushFailure(error: unknown, location: RepositoryLocation): unknown {
  if (error instanceof DockerCommandError && /name unknown|does not exist in the registry/i.test(error.stderr)) {
    return new ParamError('repoName', `repository ${quote(location.path)} does not exist in ${shorten(location.host)}: create it, or set "createRepository" (${error.message})`);
  }
  return error;
}

function explainPullFailure(error: unknown, reference: string): unknown {
  if (error instanceof DockerCommandError && /manifest unknown|not found|does not exist/i.test(error.stderr)) {
    return new PluginError(`${shorten(reference)} is not in the registry: check "repoName" and "imageName" (${error.message})`);
  }
  return error;
}
