/**
 * ECR's image scanning as an `ImageScanApi`: DescribeImageScanFindings and
 * StartImageScan through the SDK's ECR client, each answer put in the
 * plugin's shape. How ECR answers (its API reference, and what users of both
 * kinds of scanning reported in aws/aws-sdk#288, #289 and aws/aws-cli#6759):
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
 */
import {
  DescribeImageScanFindingsCommand,
  StartImageScanCommand,
  type DescribeImageScanFindingsResponse,
  type ECRClient,
  type EnhancedImageScanFinding,
  type ImageIdentifier,
  type ImageScanFinding,
} from '@aws-sdk/client-ecr';
import { describeAwsError, MissingImageError, MissingScanError } from '../errors';
import type { ImageScanApi, ScanPage } from '../registry/image-scans';
import type { ImageId } from '../registry/registry-api';
import type { Finding } from '../scan/finding';
import { severityOf, type Severity } from '../scan/severity';
import type { EcrClient } from './ecr-client';

/** The most findings one page may hold (ECR's limit): the fewest round trips. */
const PAGE_SIZE = 1000;

export class EcrImageScans implements ImageScanApi {
  private readonly client: ECRClient;

  constructor(
    private readonly ecr: EcrClient,
    private readonly registryId: string | undefined,
  ) {
    this.client = ecr.client;
  }

  async readScanPage(repoName: string, image: ImageId, nextToken: string | undefined, signal: AbortSignal): Promise<ScanPage> {
    const input = { registryId: this.registryId, repositoryName: repoName, imageId: imageIdentifier(image), maxResults: PAGE_SIZE, nextToken };
    const page = await this.client.send(new DescribeImageScanFindingsCommand(input), { abortSignal: signal }).catch((error: unknown) => {
      throw this.failure('DescribeImageScanFindings', error);
    });
    return pageOf(page);
  }

  async startImageScan(repoName: string, image: ImageId, signal: AbortSignal): Promise<{ digest?: string; status?: string }> {
    const input = { registryId: this.registryId, repositoryName: repoName, imageId: imageIdentifier(image) };
    const answer = await this.client.send(new StartImageScanCommand(input), { abortSignal: signal }).catch((error: unknown) => {
      throw this.failure('StartImageScan', error);
    });
    return { digest: answer.imageId?.imageDigest, status: answer.imageScanStatus?.status };
  }

  lastEndpoint(): string | undefined {
    return this.ecr.call('DescribeImageScanFindings').endpoint;
  }

  /** ECR's "no such scan" and "no such image" are answers the gate acts on; anything else is described. */
  private failure(operation: string, error: unknown): unknown {
    if (signalled(error)) return error;
    const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
    const reason = typeof message === 'string' ? message : String(name);
    if (name === 'ScanNotFoundException') return new MissingScanError(reason);
    if (name === 'ImageNotFoundException') return new MissingImageError(reason);
    return describeAwsError(this.ecr.call(operation), error);
  }
}

/** An aborted call: the caller's deadline or interrupt, which the caller explains itself. */
function signalled(error: unknown): boolean {
  return (error as { name?: unknown } | undefined)?.name === 'AbortError';
}

function imageIdentifier(image: ImageId): ImageIdentifier {
  return image.digest !== undefined ? { imageDigest: image.digest } : { imageTag: image.tag };
}

function pageOf(page: DescribeImageScanFindingsResponse): ScanPage {
  const { imageScanStatus, imageScanFindings } = page;
  const reportedCounts: Partial<Record<Severity, number>> = {};
  for (const [label, count] of Object.entries(imageScanFindings?.findingSeverityCounts ?? {})) {
    const severity = severityOf(label);
    reportedCounts[severity] = (reportedCounts[severity] ?? 0) + (count ?? 0);
  }
  return {
    status: imageScanStatus?.status,
    description: imageScanStatus?.description,
    digest: page.imageId?.imageDigest,
    completedAt: imageScanFindings?.imageScanCompletedAt,
    enhanced: imageScanFindings?.enhancedFindings !== undefined,
    findings: [...(imageScanFindings?.findings ?? []).map(basicFinding), ...(imageScanFindings?.enhancedFindings ?? []).map(enhancedFinding)],
    reportedCounts,
    nextToken: page.nextToken,
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
