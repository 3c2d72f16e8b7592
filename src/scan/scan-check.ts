/**
 * scan/: Check Image Scan's logic: its params, one read of a scan (every
 * page), what each scan status means, the poll schedule, the wait for a
 * usable result, and the verdict against the gate. This file runs them in
 * order.
 */
import { planPull, repositoryImageId, type ImageRequest } from '../params/image-request';
import { PluginError, quote, seconds } from '../errors';
import type { ScanTarget } from './scan-reading';
import type { ScanRequest } from './scan-request';
import { describeCounts, describeFinding, gateFailure, judgeScan, type ScanResult } from './scan-verdict';
import { waitForScan, type WaitContext } from './scan-wait';

/** How many of the worst findings the activity log lists. */
const LOGGED_FINDINGS = 10;

/**
 * checkImageScan: waits for a usable scan of the image, judges it, and
 * returns the result, or, when the gate fails, prints the result to the
 * activity log and fails with one line that sums it up.
 */
export async function checkScan(target: ScanTarget, image: ImageRequest, request: ScanRequest, context: WaitContext): Promise<ScanResult> {
  const { log, clock } = context;
  const imageId = repositoryImageId(image);
  const label = `${target.repoName}${imageId.digest !== undefined ? `@${imageId.digest}` : `:${imageId.tag}`}`;
  const gate = request.failOnSeverity === 'NONE' ? 'report only (failOnSeverity NONE)' : `fails on ${request.failOnSeverity} or above`;
  log.info(`Checking the scan of ${label}: ${gate}; waiting up to ${seconds(request.timeoutMs)} s for a result`);
  const host = await registryHost(target);
  // Before any scan is read or started: a full reference into another repository of this registry is refused here.
  const reference = planPull(image, target.repoName, { host, path: target.repoName });
  const scan = await waitForScan(target, imageId, label, request, context);
  const today = new Date(clock.now()).toISOString().slice(0, 10);
  const result = judgeScan(scan, reference, request, today, log);

  log.info(`${result.scanType} scan ${result.status}, completed ${result.completedAt}: ${describeCounts(result.counts)}`);
  for (const finding of result.findings.slice(0, LOGGED_FINDINGS)) log.info(`  ${describeFinding(finding)}`);
  if (result.findings.length > LOGGED_FINDINGS) log.info(`  … and ${result.findings.length - LOGGED_FINDINGS} more in the result`);
  if (result.ignored.length > 0) log.info(`Ignored (ignoreFindings): ${result.ignored.join(', ')}`);
  if (!result.passed) {
    // A pipeline that reads the log still finds everything: the error line is only a summary.
    log.info(`Scan result: ${JSON.stringify(result)}`);
    throw new PluginError(gateFailure(result, request.failOnSeverity));
  }
  log.info(request.failOnSeverity === 'NONE' ? 'Reported only: failOnSeverity is NONE' : `Passed: no finding at ${request.failOnSeverity} or above`);
  return result;
}

/** The registry host, from the repository's URI (which also proves the repository exists). */
async function registryHost(target: ScanTarget): Promise<string> {
  const [repository] = await target.registry.describeRepositories([target.repoName]);
  const uri = repository?.repositoryUri;
  if (uri === undefined || !uri.endsWith(`/${target.repoName}`)) {
    throw new PluginError(`ECR DescribeRepositories returned no URI for repository ${quote(target.repoName)}`);
  }
  return uri.slice(0, uri.length - target.repoName.length - 1);
}
