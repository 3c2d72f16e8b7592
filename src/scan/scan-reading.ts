import type { DescribeImageScanFindingsResponse, ECRClient, EnhancedImageScanFinding, ImageIdentifier, ImageScanFinding } from '@aws-sdk/client-ecr';
import { DescribeImageScanFindingsCommand } from '../ecr-client';
import { PluginError } from '../errors';
import { severityOf, type Severity } from './severity';

/**
 * One read of an image's scan: every page of DescribeImageScanFindings, with
 * its findings in one shape whatever scanning produced them.
 *
 * How ECR answers (its API reference, and what users of both kinds of
 * scanning reported in aws/aws-sdk#288, #289 and aws/aws-cli#6759):
 * - Basic scanning: status COMPLETE once done; `imageScanFindings.findings`
 *   (name, uri, severity, attributes package_name and package_version), with
 *   `findingSeverityCounts`, `imageScanCompletedAt` and
 *   `vulnerabilitySourceUpdatedAt`.
 * - Enhanced scanning (Amazon Inspector): status ACTIVE (continuous scanning)
 *   or COMPLETE (scan on push); the findings are in
 *   `imageScanFindings.enhancedFindings` (packageVulnerabilityDetails with the
 *   vulnerabilityId and vulnerablePackages, fixedInVersion, severity, score),
 *   with the same counts and times. Inspector delivers them some time after
 *   ECR reports the status: until then the answer reads ACTIVE or COMPLETE
 *   with nothing but `findings: []`: no counts, no imageScanCompletedAt.
 * No field names the kind of scanning. So `imageScanCompletedAt` is what says
 * a scan completed and these are its findings (an answer without it is not a
 * result yet, and is waited for); the type is ENHANCED when the answer holds
 * enhancedFindings or reads ACTIVE (only enhanced scanning is continuous), and
 * BASIC otherwise: an enhanced scan on push that found nothing reads like a
 * basic one, and is judged the same way.
 */

/** A finding as the result reports it. */
export interface Finding {
  name: string;
  severity: Severity;
  package?: string;
  version?: string;
  fixedIn?: string;
  uri?: string;
  /** For ordering findings of one severity: Inspector's score, or basic scanning's CVSS score. */
  score?: number;
}

export interface ScanReading {
  status?: string;
  description?: string;
  /** The digest ECR answered for. */
  digest?: string;
  /** When the scan these findings come from completed; absent: no findings to judge yet. */
  completedAt?: Date;
  scanType: 'BASIC' | 'ENHANCED';
  findings: Finding[];
  /** findingSeverityCounts, by the plugin's severities. */
  reportedCounts: Partial<Record<Severity, number>>;
  /** False when a later page described another scan than the first (one completed meanwhile): read again. */
  consistent: boolean;
}

/** Where the image is. */
export interface ScanTarget {
  client: ECRClient;
  registryId?: string;
  repoName: string;
}

/** The most findings one page may hold (ECR's limit): the fewest round trips. */
const PAGE_SIZE = 1000;
/** 100,000 findings: far beyond any image; a bound on a registry that keeps handing out tokens. */
const MAX_PAGES = 100;

/** Reads every page of the scan of `imageId`; SDK errors (ScanNotFoundException, …) are thrown as they come. */
export async function readScan(target: ScanTarget, imageId: ImageIdentifier, signal: AbortSignal): Promise<ScanReading> {
  const pages: DescribeImageScanFindingsResponse[] = [];
  let nextToken: string | undefined;
  const seen = new Set<string>();
  do {
    if (pages.length >= MAX_PAGES) throw new PluginError(`ECR DescribeImageScanFindings kept answering with more pages after ${MAX_PAGES} (${MAX_PAGES * PAGE_SIZE} findings)`);
    const page = await target.client.send(
      new DescribeImageScanFindingsCommand({ registryId: target.registryId, repositoryName: target.repoName, imageId, maxResults: PAGE_SIZE, nextToken }),
      { abortSignal: signal },
    );
    pages.push(page);
    nextToken = page.nextToken;
    if (nextToken !== undefined) {
      if (seen.has(nextToken)) throw new PluginError('ECR DescribeImageScanFindings handed out the same nextToken twice');
      seen.add(nextToken);
    }
  } while (nextToken !== undefined);
  return combine(pages);
}

function combine(pages: DescribeImageScanFindingsResponse[]): ScanReading {
  const [first] = pages;
  const { imageScanStatus, imageScanFindings } = first;
  const completedAt = imageScanFindings?.imageScanCompletedAt;
  const enhanced = pages.some((page) => page.imageScanFindings?.enhancedFindings !== undefined);
  const findings = pages.flatMap((page) => [
    ...(page.imageScanFindings?.findings ?? []).map(basicFinding),
    ...(page.imageScanFindings?.enhancedFindings ?? []).map(enhancedFinding),
  ]);
  const reportedCounts: Partial<Record<Severity, number>> = {};
  for (const [label, count] of Object.entries(imageScanFindings?.findingSeverityCounts ?? {})) {
    const severity = severityOf(label);
    reportedCounts[severity] = (reportedCounts[severity] ?? 0) + (count ?? 0);
  }
  const consistent = pages.every(
    (page) => page.imageScanStatus?.status === imageScanStatus?.status && page.imageScanFindings?.imageScanCompletedAt?.getTime() === completedAt?.getTime(),
  );
  return {
    status: imageScanStatus?.status,
    description: imageScanStatus?.description,
    digest: first.imageId?.imageDigest,
    completedAt,
    scanType: enhanced || imageScanStatus?.status === 'ACTIVE' ? 'ENHANCED' : 'BASIC',
    findings,
    reportedCounts,
    consistent,
  };
}

function basicFinding(finding: ImageScanFinding): Finding {
  const attribute = (key: string): string | undefined => finding.attributes?.find((a) => a.key === key)?.value;
  const score = Number(attribute('CVSS3_SCORE') ?? attribute('CVSS2_SCORE'));
  return withoutUndefined({
    name: finding.name ?? '(unnamed finding)',
    severity: severityOf(finding.severity),
    package: attribute('package_name'),
    version: attribute('package_version'),
    uri: finding.uri,
    score: Number.isFinite(score) ? score : undefined,
  });
}

/** "NotAvailable" is Inspector's word for no fixed version: not a version. */
const NO_FIX = 'NotAvailable';

function enhancedFinding(finding: EnhancedImageScanFinding): Finding {
  const details = finding.packageVulnerabilityDetails;
  const packages = details?.vulnerablePackages ?? [];
  const list = (values: Array<string | undefined>): string | undefined => {
    const known = values.filter((value): value is string => value !== undefined && value !== '' && value !== NO_FIX);
    return known.length > 0 ? [...new Set(known)].join(', ') : undefined;
  };
  return withoutUndefined({
    name: details?.vulnerabilityId ?? finding.title ?? finding.findingArn ?? '(unnamed finding)',
    severity: severityOf(finding.severity),
    package: list(packages.map((p) => p.name)),
    version: list(packages.map((p) => p.version)),
    fixedIn: list(packages.map((p) => p.fixedInVersion)),
    uri: details?.sourceUrl ?? finding.remediation?.recommendation?.url ?? details?.referenceUrls?.[0],
    score: finding.score,
  });
}

/** The finding without its unknown fields, so the result shows only what ECR said. */
function withoutUndefined(finding: Finding): Finding {
  return Object.fromEntries(Object.entries(finding).filter(([, value]) => value !== undefined)) as unknown as Finding;
}
