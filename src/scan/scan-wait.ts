import type { Interruption } from '../agent/interruption';
import { MissingImageError, MissingScanError, ParamError, PluginError, quote, seconds } from '../errors';
import type { ActivityLog } from '../kaholo/activity-log';
import type { ImageId } from '../registry/registry-api';
import type { Clock } from './clock';
import { minimumPollInterval, PollSchedule } from './poll-schedule';
import { readScan, type ScanReading, type ScanTarget } from './scan-reading';
import { MAX_SCAN_TIMEOUT_SECONDS } from './scan-request';
import { scanState } from './scan-status';

/** A scan result that can be judged: its status, when it completed, and the image's digest. */
export interface UsableScan extends ScanReading {
  status: string;
  digest: string;
  completedAt: Date;
}

export interface WaitContext {
  log: ActivityLog;
  interruption: Interruption;
  clock: Clock;
  env?: NodeJS.ProcessEnv;
}

export interface WaitRequest {
  startScan: boolean;
  timeoutMs: number;
}

/**
 * Reads the image's scan until it is a usable result, polling with backoff
 * (poll-schedule.ts) and ending at the deadline. After the first answer every
 * read asks for the digest it named, so a tag moved meanwhile cannot swap the
 * image. The SDK's waiter is not used: it succeeds on COMPLETE only, so under
 * enhanced (continuous, ACTIVE) scanning it waits until it times out, and it
 * has no answer for the other statuses. Every AWS call ends at the deadline
 * or on an interrupt, as every wait does.
 */
export async function waitForScan(target: ScanTarget, imageId: ImageId, label: string, request: WaitRequest, context: WaitContext): Promise<UsableScan> {
  const { clock, log } = context;
  const started = clock.now();
  const deadline = started + request.timeoutMs;
  const timedOut = (why: string): PluginError =>
    new PluginError(
      `No usable scan result for ${label} within ${seconds(request.timeoutMs)} s: the scan ${why}. Raise scanTimeoutSeconds (at most ${MAX_SCAN_TIMEOUT_SECONDS}), or look at the image's scan in the ECR console`,
    );
  let id = imageId;
  let digest: string | undefined;
  let startedScan = false;
  let schedule: PollSchedule | undefined;
  let why = 'was not read';
  for (;;) {
    let reading: ScanReading | undefined;
    try {
      reading = await bounded(context, deadline, () => timedOut(why), (signal) => readScan(target, id, signal));
    } catch (error) {
      if (!(error instanceof MissingScanError)) throw readFailure(target, label, error);
      if (!request.startScan) {
        throw new PluginError(
          `${label} has no scan in ECR (ScanNotFoundException): turn on scan on push for the repository, set startScan to start a basic scan, or use enhanced scanning`,
        );
      }
      if (startedScan) {
        why = 'was started but is not there yet';
      } else {
        digest = await bounded(context, deadline, () => timedOut(why), (signal) => startBasicScan(target, id, label, signal, log));
        id = { digest };
        startedScan = true;
        why = 'was just started';
      }
    }
    if (reading !== undefined) {
      digest = checkDigest(reading, digest, label);
      if (id.digest === undefined) {
        log.info(`${label} is ${digest}`);
        id = { digest };
      }
      const state = scanState(reading, label);
      if (state.kind === 'usable') return { ...reading, status: reading.status as string, digest, completedAt: reading.completedAt as Date };
      if (state.kind === 'failed') throw new PluginError(state.message);
      why = state.why;
    }
    if (schedule === undefined) {
      const interval = minimumPollInterval(target.scans.lastEndpoint(), context.env);
      if (interval.note !== undefined) log.info(interval.note);
      schedule = new PollSchedule(interval.ms);
    }
    const wait = schedule.next(clock.now(), deadline);
    if (wait === undefined) throw timedOut(why);
    log.info(`The scan of ${label} ${why}; reading it again in ${seconds(wait)} s (${seconds(clock.now() - started)} of ${seconds(request.timeoutMs)} s)`);
    await clock.sleep(wait);
  }
}

/** The digest the answer names: there, and the same on every read. */
function checkDigest(reading: ScanReading, pinned: string | undefined, label: string): string {
  if (reading.digest === undefined) throw new PluginError(`ECR DescribeImageScanFindings answered for ${label} without the image's digest`);
  if (pinned !== undefined && reading.digest !== pinned) {
    throw new PluginError(`ECR DescribeImageScanFindings answered for ${reading.digest}, not for ${pinned} (${label}) as asked`);
  }
  return reading.digest;
}

/** StartImageScan (basic scanning); the digest of the image it scans. */
async function startBasicScan(target: ScanTarget, imageId: ImageId, label: string, signal: AbortSignal, log: ActivityLog): Promise<string> {
  let answer;
  try {
    answer = await target.scans.startImageScan(target.repoName, imageId, signal);
  } catch (error) {
    throw readFailure(target, label, error);
  }
  const { digest, status } = answer;
  if (digest === undefined) throw new PluginError(`ECR StartImageScan answered for ${label} without the image's digest`);
  log.info(`${label} had no scan: started a basic scan of ${digest} (StartImageScan: ${status ?? 'no status'})`);
  return digest;
}

/**
 * Runs one AWS call that ends at the deadline (then `timedOut`) or on an
 * interrupt (then the interruption's error), whichever comes first.
 */
async function bounded<T>(context: WaitContext, deadline: number, timedOut: () => PluginError, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { clock, interruption } = context;
  interruption.check();
  const controller = new AbortController();
  const cancel = clock.after(Math.max(0, deadline - clock.now()), () => controller.abort());
  const stopListening = interruption.onInterrupt(() => controller.abort());
  try {
    return await call(controller.signal);
  } catch (error) {
    interruption.check();
    if (controller.signal.aborted) throw timedOut();
    throw error;
  } finally {
    cancel();
    stopListening();
  }
}

function readFailure(target: ScanTarget, label: string, error: unknown): unknown {
  if (error instanceof MissingImageError) return new ParamError('imageName', `${label} is not in the registry: no such tag or digest in repository ${quote(target.repoName)}`);
  return error;
}
