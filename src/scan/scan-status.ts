import { shorten } from '../errors';
import type { ScanReading } from './scan-reading';

/** What a read of the scan means for the wait: a result to judge, a reason to read again, or the end. */
export type ScanState = { kind: 'usable' } | { kind: 'waiting'; why: string } | { kind: 'failed'; message: string };

/**
 * Every status ECR documents (ImageScanStatus), read for a gate: COMPLETE and
 * ACTIVE are results once their findings are there; IN_PROGRESS and PENDING
 * are waited for; each of the others ends the action with what to do about it.
 * A status this plugin does not know ends it too, rather than pass or wait blind.
 */
export function scanState(reading: ScanReading, image: string): ScanState {
  const status = reading.status ?? '(none)';
  // ECR's own words on the status, as "(STATUS: description)".
  const why = `(${status}${reading.description ? `: ${shorten(reading.description, 200)}` : ''})`;
  switch (reading.status) {
    case 'COMPLETE':
    case 'ACTIVE':
      if (reading.completedAt === undefined) return { kind: 'waiting', why: `reads ${status} but its findings are not there yet (no imageScanCompletedAt)` };
      if (!reading.consistent) return { kind: 'waiting', why: `changed while its pages were read (a newer scan completed)` };
      return { kind: 'usable' };
    case 'IN_PROGRESS':
    case 'PENDING':
      return { kind: 'waiting', why: `is ${status}${reading.description ? ` (${shorten(reading.description, 200)})` : ''}` };
    case 'FAILED':
      return failed(`The scan of ${image} failed ${why}: start a new scan (ECR console, or aws ecr start-image-scan; basic scanning allows one per image a day), then run the action again`);
    case 'UNSUPPORTED_IMAGE':
      return failed(`ECR cannot scan ${image} ${why}: its operating system or package manager is not supported; enhanced scanning (Amazon Inspector) supports more, or gate it another way`);
    case 'SCAN_ELIGIBILITY_EXPIRED':
      return failed(`The scan of ${image} has expired ${why}: Amazon Inspector no longer rescans it; push the image again, or lengthen the re-scan duration in Inspector's ECR settings`);
    case 'FINDINGS_UNAVAILABLE':
      return failed(`ECR has no findings for ${image} ${why}: check that Amazon Inspector covers the repository (Inspector console, ECR coverage), then run the action again`);
    case 'LIMIT_EXCEEDED':
      return failed(`ECR did not scan ${image} ${why}: the account's scan quota is used up; run the action again later or raise the quota`);
    case 'IMAGE_ARCHIVED':
      return failed(`${image} is archived ${why}, and archived images are not scanned: restore it first`);
    default:
      return failed(`ECR DescribeImageScanFindings answered ${shorten(why, 240)} for ${image}, a status this plugin does not know; look at the image's scan in the ECR console`);
  }
}

const failed = (message: string): ScanState => ({ kind: 'failed', message });
