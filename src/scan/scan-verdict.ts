import type { ActivityLog } from '../kaholo/activity-log';
import { shorten } from '../errors';
import { ignoreState } from './ignore-list';
import type { Finding } from './finding';
import type { ScanRequest } from './scan-request';
import type { UsableScan } from './scan-wait';
import { failsAt, SEVERITIES, severityRank, zeroCounts, type Severity, type Threshold } from './severity';

/** A finding in the result: what it is, how bad, where, and whether a fixed version is known. */
export type ReportedFinding = Omit<Finding, 'score'>;

/** checkImageScan's result. */
export interface ScanResult {
  image: string;
  digest: string;
  status: string;
  scanType: 'BASIC' | 'ENHANCED';
  completedAt: string;
  /** Findings that count (not ignored), by severity; every severity present. */
  counts: Record<Severity, number>;
  /** Names of the findings that ignoreFindings ignored. */
  ignored: string[];
  /** The most severe findings that count, at most MAX_REPORTED_FINDINGS. */
  findings: ReportedFinding[];
  passed: boolean;
}

const MAX_REPORTED_FINDINGS = 50;
/** How many findings the error line names. */
const WORST_IN_ERROR = 3;

/**
 * Judges a usable scan against the request: ignored findings (entries past
 * their day no longer ignore, and the log says so) are set apart, the rest
 * are counted by severity, and the gate fails when one is at or above
 * failOnSeverity. Findings that ECR counts but does not list count too: they
 * cannot be seen, so they cannot be ignored or passed over.
 */
export function judgeScan(scan: UsableScan, image: string, request: ScanRequest, today: string, log: ActivityLog): ScanResult {
  const ignoring = ignoreState(request.ignore, today);
  for (const entry of ignoring.expired) {
    const present = scan.findings.some((finding) => finding.name.toUpperCase() === entry.name.toUpperCase());
    const now = ignoring.ignores(entry.name)
      ? ', but another entry still ignores it'
      : present
        ? ', which is among the findings and counts'
        : ' (not among the findings)';
    log.info(`ignoreFindings: "${shorten(entry.name)} until ${entry.until ?? ''}" has expired and no longer ignores ${shorten(entry.name)}${now}`);
  }
  const counted: Finding[] = [];
  const ignored: Finding[] = [];
  for (const finding of scan.findings) (ignoring.ignores(finding.name) ? ignored : counted).push(finding);

  const counts = zeroCounts();
  for (const finding of counted) counts[finding.severity] += 1;
  const listed = zeroCounts();
  for (const finding of scan.findings) listed[finding.severity] += 1;
  for (const severity of SEVERITIES) {
    const unlisted = (scan.reportedCounts[severity] ?? 0) - listed[severity];
    if (unlisted > 0) {
      counts[severity] += unlisted;
      log.info(`ECR counts ${listed[severity] + unlisted} ${severity} findings but listed ${listed[severity]}: the ${unlisted} it did not list count too`);
    }
  }
  return {
    image,
    digest: scan.digest,
    status: scan.status,
    scanType: scan.scanType,
    completedAt: scan.completedAt.toISOString(),
    counts,
    ignored: [...new Set(ignored.sort(mostSevereFirst).map((finding) => finding.name))],
    findings: counted.sort(mostSevereFirst).slice(0, MAX_REPORTED_FINDINGS).map(({ score: _score, ...reported }) => reported),
    passed: SEVERITIES.every((severity) => counts[severity] === 0 || !failsAt(severity, request.failOnSeverity)),
  };
}

/** Most severe first; within a severity the highest score first, then by name. */
function mostSevereFirst(a: Finding, b: Finding): number {
  return severityRank(a.severity) - severityRank(b.severity) || (b.score ?? -1) - (a.score ?? -1) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** The counts that are not zero, such as "CRITICAL 1, HIGH 3" (or "none"). */
export function describeCounts(counts: Record<Severity, number>): string {
  const present = SEVERITIES.filter((severity) => counts[severity] > 0).map((severity) => `${severity} ${counts[severity]}`);
  return present.length > 0 ? present.join(', ') : 'none';
}

/** One finding in a line: name, severity, package and version, fix. */
export function describeFinding(finding: ReportedFinding): string {
  const where = finding.package !== undefined ? `, ${shorten(finding.package, 40)}${finding.version !== undefined ? ` ${shorten(finding.version, 30)}` : ''}` : '';
  const fix = finding.fixedIn !== undefined ? `, fixed in ${shorten(finding.fixedIn, 30)}` : '';
  return `${shorten(finding.name, 40)} (${finding.severity}${where}${fix})`;
}

/** The action's error when the gate fails: the threshold, the counts and the worst findings, in one line. */
export function gateFailure(result: ScanResult, threshold: Threshold): string {
  const failing = SEVERITIES.filter((severity) => failsAt(severity, threshold)).reduce((sum, severity) => sum + result.counts[severity], 0);
  const worst = result.findings.filter((finding) => failsAt(finding.severity, threshold)).slice(0, WORST_IN_ERROR).map(describeFinding);
  const more = worst.length > 0 && failing > worst.length ? ', …' : '';
  return (
    `${shorten(result.image, 200)} fails the scan gate: ${failing} finding${failing === 1 ? '' : 's'} at ${threshold} or above (failOnSeverity); ` +
    `counts ${describeCounts(result.counts)}; worst: ${worst.length > 0 ? worst.join('; ') : '(not listed by ECR)'}${more}. ` +
    `The full result is in the activity log; fix the image, or list accepted findings in ignoreFindings`
  );
}
