/**
 * copy/: Copy Image's engine. This file copies an image from one registry
 * repository to another through both registries' HTTP APIs: no Docker,
 * nothing on disk. The order keeps every name honest: the blobs first (a few
 * at a time), then each manifest after its blobs and an index after its
 * children, the referrers after their subjects, and the tags last, under
 * their locks, so that a tag never names an image that is not whole. A
 * failure or an interrupt before the tags puts no tag; one that comes while
 * they are put says which are in place, as the registry is then seen to hold
 * them. A rerun finds what is already there and goes on.
 */
import { setMaxListeners } from 'node:events';
import type { ActivityLog } from '../kaholo/activity-log';
import { PluginError } from '../errors';
import type { Interruption } from '../agent/interruption';
import type { ImageRegistry } from '../registry-http/registry-http-api';
import { tagReference } from '../agent/registry-lock';
import type { RegistryType } from '../params/registry-type';
import type { TimeLimit } from '../params/time-limit';
import type { RetryPolicy } from '../params/transfer-options';
import { copyBlob } from './blob-copy';
import { forEachBounded } from './bounded-pool';
import { explainSourceError, explainTargetError, type CopyNames } from './copy-errors';
import { CopyProgress, mib, shortDigest, type BlobTotals } from './copy-progress';
import { planCopy, type CopyPlan, type ManifestNode } from './copy-plan';
import { abortReason, RERUN, withRetries, type RetryContext } from './retries';

/** Blobs in flight at once: enough to fill a link, few enough for a registry's rate limits. */
const DEFAULT_CONCURRENCY = 4;

/** How long reading back the tags a stopped copy was putting may take, also after an interrupt. */
const TAG_CHECK_BOUND_MS = 2_000;

export interface CopyRequest {
  /** `type`: the registry's API (private ECR, ECR Public), for what a refusal says it needs. */
  source: { registry: ImageRegistry; type: RegistryType; repository: string; reference: string };
  target: { registry: ImageRegistry; type: RegistryType; repository: string; tags: string[] };
  copyReferrers: boolean;
  retry: RetryPolicy;
  /** Bound on the whole copy, retries and waits for locks included (transferTimeLimit, counted from the action's start). */
  limit: TimeLimit;
  log: ActivityLog;
  interruption: Interruption;
  /** Runs `work` holding the lock of every tag (as agent/registry-lock.ts's tagReference names it), waiting at most `waitMs` for them. */
  lockNames: <T>(names: string[], waitMs: number, work: () => Promise<T>) => Promise<T>;
  concurrency?: number;
  chunkBytes?: number;
}

export interface CopyResult {
  digest: string;
  mediaType: string;
  platforms: number;
  referrers: number;
  blobs: BlobTotals;
}

export async function copyImage(request: CopyRequest): Promise<CopyResult> {
  const { interruption, limit } = request;
  const timeLimitMs = limit.remainingMs();
  interruption.check();
  const controller = new AbortController();
  // Every request under way listens to it (a few blobs at once, each with its download and upload).
  setMaxListeners(64, controller.signal);
  const stopListening = interruption.onInterrupt(() => controller.abort(interruptedError(interruption)));
  const timer = setTimeout(
    () => controller.abort(limit.exceeded(RERUN)),
    timeLimitMs,
  );
  const context: RetryContext = { policy: request.retry, log: request.log, signal: controller.signal, limit };
  const tagging: TagsUnderWay = { digest: '', tags: [] };
  try {
    return await copyUnderSignal(request, context, tagging);
  } catch (error) {
    const reason = abortReason(controller.signal, error);
    if (tagging.tags.length === 0) throw reason;
    // Stopped or failed while the tags went in: say which are in place, as the registry is then seen to hold them.
    const inPlace = await tagsInPlace(request.target, tagging);
    if (inPlace.length === 0) throw reason;
    const clause = `${inPlace.map((tag) => `${request.target.repository}:${tag}`).join(', ')} ${inPlace.length === 1 ? 'was' : 'were'} tagged before it stopped, naming the whole image ${tagging.digest}; a new run puts the other tags`;
    if (controller.signal.aborted) throw interruption.interrupted ? interruptedError(interruption, clause) : limit.exceeded(clause);
    if (reason instanceof Error) reason.message = `${reason.message}; ${clause}`;
    throw reason;
  } finally {
    clearTimeout(timer);
    stopListening();
  }
}

/** The tags a copy has begun to put (each may be in place, or not yet), and the digest they name. */
interface TagsUnderWay {
  digest: string;
  tags: string[];
}

/** Those of the tags begun that the target is seen to name the image with (each read bounded, also after an interrupt). */
async function tagsInPlace(target: CopyRequest['target'], tagging: TagsUnderWay): Promise<string[]> {
  const read = async (tag: string): Promise<string | undefined> =>
    target.registry.manifestDigest(target.repository, tag, AbortSignal.timeout(TAG_CHECK_BOUND_MS)).catch(() => undefined);
  const digests = await Promise.all(tagging.tags.map(read));
  return tagging.tags.filter((_, i) => digests[i] === tagging.digest);
}

async function copyUnderSignal(request: CopyRequest, context: RetryContext, tagging: TagsUnderWay): Promise<CopyResult> {
  const { source, target } = request;
  const { signal } = context;
  const attempt = <T>(what: string, call: () => Promise<T>): Promise<T> => withRetries(what, context, call);

  const names: CopyNames = {
    source: { host: source.registry.host, repository: source.repository, reference: source.reference, type: source.type },
    target: { host: target.registry.host, repository: target.repository, type: target.type },
  };
  const plan = await planCopy({ registry: source.registry, repository: source.repository, signal, attempt, log: request.log }, source.reference, request.copyReferrers).catch((error: unknown) => {
    throw explainSourceError(error, names);
  });
  try {
    return await writeCopy(request, context, plan, names, tagging);
  } catch (error) {
    // What the source refused is explained where it was read; the rest was the target's.
    throw explainTargetError(error, names);
  }
}

/** The writes, once the plan is known: blobs, then manifests, then the tags. */
async function writeCopy(request: CopyRequest, context: RetryContext, plan: CopyPlan, names: CopyNames, tagging: TagsUnderWay): Promise<CopyResult> {
  const { source, target, log } = request;
  const { signal } = context;
  const attempt = <T>(what: string, call: () => Promise<T>): Promise<T> => withRetries(what, context, call);
  log.info(`Copying ${source.registry.host}/${source.repository}@${plan.root.digest} to ${target.registry.host}/${target.repository}: ${describePlan(plan)}`);

  const progress = new CopyProgress(log);
  const sameRegistry = source.registry.host.toLowerCase() === target.registry.host.toLowerCase();
  const route = { source, target, sameRegistry, chunkBytes: request.chunkBytes, names };
  // The largest first: a small blob (a config) then fills a slot a large one has left, rather than
  // holding one back while it waits its turn among large ones.
  const largestFirst = [...plan.blobs].sort((x, y) => y.size - x.size);
  await forEachBounded(largestFirst, request.concurrency ?? DEFAULT_CONCURRENCY, signal, async (blob, blobSignal) => {
    const started = Date.now();
    const outcome = await attempt(`Copying ${shortDigest(blob.digest)}…`, () => copyBlob(route, blob, blobSignal, progress.copying(blob)));
    const detail = { skipped: `already in ${target.repository}`, mounted: `from ${source.repository}`, copied: '' }[outcome];
    progress.done(blob, outcome, detail, started);
  });
  log.info(progress.summary());

  // Manifests by digest: each after what it names. Referrers the registry does not index itself wait for the tag schema.
  const unindexed = new Map<string, ManifestNode[]>();
  for (const node of plan.manifests) {
    const answer = await attempt(`Putting the manifest ${shortDigest(node.digest)}…`, async () =>
      node.referrer
        ? target.registry.putReferrer(target.repository, node.bytes, node.mediaType, node.digest, signal)
        : { digest: await target.registry.writeManifest(target.repository, node.digest, node.bytes, node.mediaType, signal), subjectIndexed: true },
    );
    if (answer.digest !== node.digest) throw new PluginError(`${target.registry.host} stored the manifest ${node.digest} as ${answer.digest}`);
    if (node.referrer && !answer.subjectIndexed) unindexed.set(node.referrer.subject, [...(unindexed.get(node.referrer.subject) ?? []), node]);
  }
  log.info(`Put ${plan.manifests.length} ${plan.manifests.length === 1 ? 'manifest' : 'manifests'} by digest in ${target.repository}`);

  // The tags, last: the referrers' tag-schema indexes, then the image's tags. Each names a whole image by now.
  const tagOf = (tag: string): string => tagReference(target.registry.host, target.repository, tag);
  const locked = [...[...unindexed.keys()].map((subject) => subject.replace(':', '-')), ...target.tags].map(tagOf);
  await request.lockNames(locked, context.limit.remainingMs(), async () => {
    for (const [subject, referrers] of unindexed) {
      stopIfAborted(signal);
      const index = await attempt(`Listing the referrers of ${shortDigest(subject)}…`, () =>
        target.registry.addToTagIndex(target.repository, subject, referrers.map((node) => node.referrer?.descriptor).filter((d) => d !== undefined), signal),
      );
      log.info(`Referrers of ${shortDigest(subject)}… listed under the tag ${subject.replace(':', '-').slice(0, 19)}… (${target.registry.host} has no referrers API)${index.changed ? '' : ': already there'}`);
    }
    for (const tag of target.tags) {
      stopIfAborted(signal);
      const current = await attempt(`Reading the tag ${tag}`, () => target.registry.manifestDigest(target.repository, tag, signal));
      if (current === plan.root.digest) {
        log.info(`${target.repository}:${tag} already names ${plan.root.digest}`);
        continue;
      }
      tagging.digest = plan.root.digest;
      tagging.tags.push(tag);
      const digest = await attempt(`Tagging ${tag}`, () => target.registry.writeManifest(target.repository, tag, plan.root.bytes, plan.root.mediaType, signal));
      if (digest !== plan.root.digest) throw new PluginError(`${target.registry.host} tagged ${target.repository}:${tag} as ${digest}, not ${plan.root.digest}`);
      log.info(`Tagged ${target.repository}:${tag} → ${plan.root.digest}`);
    }
  });
  return { digest: plan.root.digest, mediaType: plan.root.mediaType, platforms: plan.platforms, referrers: plan.referrers.length, blobs: progress.totals };
}

function describePlan(plan: CopyPlan): string {
  const bytes = plan.blobs.reduce((sum, blob) => sum + blob.size, 0);
  const what = plan.root.children.length > 0 ? `an index of ${plan.platforms} ${plan.platforms === 1 ? 'platform' : 'platforms'}` : 'an image';
  const referrers = plan.referrersVia === undefined ? '' : `, ${plan.referrers.length} ${plan.referrers.length === 1 ? 'referrer' : 'referrers'} (found through ${plan.referrersVia === 'api' ? 'the referrers API' : 'the sha256-<hex> tag schema'})`;
  return `${what}, ${plan.manifests.length} ${plan.manifests.length === 1 ? 'manifest' : 'manifests'}, ${plan.blobs.length} ${plan.blobs.length === 1 ? 'blob' : 'blobs'} of ${mib(bytes)}${referrers}`;
}

function stopIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason;
}

/** The interrupt's error: the copy stopped and put no tag, unless `tagsPut` says which it did put. */
function interruptedError(interruption: Interruption, tagsPut?: string): PluginError {
  try {
    interruption.check();
  } catch (error) {
    const what = tagsPut === undefined ? 'the copy stopped and put no tag; a new run goes on from what is there' : `the copy stopped: ${tagsPut}`;
    return new PluginError(`${(error as Error).message}: ${what}`);
  }
  return new PluginError('The action was interrupted');
}
