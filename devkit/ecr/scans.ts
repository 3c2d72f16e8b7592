/**
 * Image scans on the ECR stand-in: DescribeImageScanFindings (basic and enhanced shapes as ECR
 * answers them, paginated with maxResults and nextToken) and StartImageScan, answered from a store
 * the tests fill per image: any status, and answers that change from read to read, so a scan can
 * go IN_PROGRESS → COMPLETE or its findings can arrive late. Its images are its own (a digest and
 * tags per repository), apart from the registry's manifests.
 */
import { createHash } from 'node:crypto';
import { invalidParameter, optionalString, ServiceError, type Json, type Operation } from '../aws/json-protocol';
import type { EcrRegistries } from './registries';

const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;
const MAX_MAX_RESULTS = 1000;
const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** One finding, as a test describes it; rendered in basic or enhanced shape as ECR answers. */
export interface ScanFindingSpec {
  /** Such as "CVE-2024-1234". */
  name: string;
  /** ECR's severities; enhanced scanning also has UNTRIAGED. */
  severity: string;
  package?: string;
  version?: string;
  /** The version with the fix (enhanced scanning only reports it; absent: "NotAvailable"). */
  fixedIn?: string;
  uri?: string;
  /** Inspector's score (enhanced) or the CVSS score attribute (basic). */
  score?: number;
}

/** What one read of an image's scan answers. */
export interface ScanAnswer {
  /** ECR's imageScanStatus.status: COMPLETE, ACTIVE, IN_PROGRESS, PENDING, FAILED, … (any text, as ECR may add more). */
  status: string;
  /** imageScanStatus.description; default: ECR's usual text for the status. */
  description?: string;
  /** For COMPLETE and ACTIVE: basic (`findings`) or enhanced (`enhancedFindings`); default BASIC. */
  scanType?: 'BASIC' | 'ENHANCED';
  /**
   * For COMPLETE and ACTIVE: the findings. Left out, the answer is `imageScanFindings: { findings: [] }`
   * with no counts and no imageScanCompletedAt: how ECR answers an enhanced scan whose findings Amazon
   * Inspector has not delivered yet.
   */
  findings?: ScanFindingSpec[];
  /** findingSeverityCounts when they should differ from what the findings add up to. */
  severityCounts?: Record<string, number>;
}

export interface ScannedImage {
  repositoryName: string;
  /** Default: the endpoint's default registry. */
  registryId?: string;
  digest: string;
  tags?: string[];
  /**
   * What DescribeImageScanFindings answers, one entry per read (a call without nextToken; its
   * pages come from the same entry); the last one stays. Empty: the image has no scan
   * (ScanNotFoundException).
   */
  scan: ScanAnswer[];
  /** What StartImageScan puts in place of `scan`; default: IN_PROGRESS once, then a basic COMPLETE with no findings. */
  afterStart?: ScanAnswer[];
}

export interface ImageScans {
  /** Puts an image (or replaces the one with this digest) and its scan answers. */
  set(image: ScannedImage): void;
  /** When each read of the image's scan (a call without nextToken, answered or not) arrived, in epoch ms. */
  readTimes(repositoryName: string, digest: string, registryId?: string): number[];
  /** How many times StartImageScan started a scan of the image. */
  starts(repositoryName: string, digest: string, registryId?: string): number;
}

const SCAN_DESCRIPTIONS: Record<string, string> = {
  COMPLETE: 'The scan was completed successfully.',
  ACTIVE: 'Continuous scan is selected for image.',
  IN_PROGRESS: 'The scan is in progress.',
  PENDING: 'Pending initial scan.',
  FAILED: 'UnsupportedImageError: the scan could not be completed.',
  UNSUPPORTED_IMAGE: 'UnsupportedImageError: The operating system and/or package manager are not supported.',
  SCAN_ELIGIBILITY_EXPIRED: 'The image is no longer eligible for continuous scanning.',
  FINDINGS_UNAVAILABLE: 'Findings are unavailable for this image.',
  LIMIT_EXCEEDED: 'The scan quota has been exceeded.',
  IMAGE_ARCHIVED: 'The image is archived.',
};
const DEFAULT_AFTER_START: ScanAnswer[] = [{ status: 'IN_PROGRESS' }, { status: 'COMPLETE', scanType: 'BASIC', findings: [] }];
const SCAN_DEFAULT_MAX_RESULTS = 100;

interface StoredScan extends ScannedImage {
  registryId: string;
  reads: number[];
  /** How many reads the current answers served (the next read gets the next answer). */
  served: number;
  started: number;
  /** imageScanCompletedAt of each answer (epoch seconds), fixed when it was set. */
  completedAt: number;
}

/** The scan answers of every image, by registry, repository and digest. */
export class ImageScanStore implements ImageScans {
  private readonly images = new Map<string, StoredScan>();

  constructor(
    private readonly defaultRegistryId: string,
    private readonly region: string,
  ) {}

  private static key(registryId: string, repositoryName: string, digest: string): string {
    return `${registryId}/${repositoryName}@${digest}`;
  }

  set(image: ScannedImage): void {
    const registryId = image.registryId ?? this.defaultRegistryId;
    if (!DIGEST_PATTERN.test(image.digest)) throw new Error(`'${image.digest}' is not a sha256 digest`);
    for (const tag of image.tags ?? []) {
      for (const other of this.images.values()) {
        if (other.registryId === registryId && other.repositoryName === image.repositoryName && other.digest !== image.digest) {
          other.tags = (other.tags ?? []).filter((t) => t !== tag); // a tag names one image, as in ECR
        }
      }
    }
    this.images.set(ImageScanStore.key(registryId, image.repositoryName, image.digest), {
      ...image,
      registryId,
      reads: [],
      served: 0,
      started: 0,
      completedAt: Math.floor(Date.now() / 1000),
    });
  }

  readTimes(repositoryName: string, digest: string, registryId = this.defaultRegistryId): number[] {
    return [...(this.images.get(ImageScanStore.key(registryId, repositoryName, digest))?.reads ?? [])];
  }

  starts(repositoryName: string, digest: string, registryId = this.defaultRegistryId): number {
    return this.images.get(ImageScanStore.key(registryId, repositoryName, digest))?.started ?? 0;
  }

  /** The image an imageId names in a repository, as ECR resolves it (a tag and a digest must agree). */
  find(registryId: string, repositoryName: string, input: Json): StoredScan {
    const given = typeof input.imageId === 'object' && input.imageId !== null ? (input.imageId as Json) : undefined;
    if (given === undefined) throw invalidParameter(`Invalid parameter at 'imageId': must not be null`);
    const imageTag = optionalString(given, 'imageTag');
    const imageDigest = optionalString(given, 'imageDigest');
    if (imageTag === undefined && imageDigest === undefined) throw invalidParameter('Invalid request parameters: both tag and digest cannot be null');
    if (imageDigest !== undefined && !DIGEST_PATTERN.test(imageDigest)) throw invalidParameter('Invalid request parameters: image digest should satisfy the regex');
    const found = [...this.images.values()].find(
      (image) =>
        image.registryId === registryId &&
        image.repositoryName === repositoryName &&
        (imageDigest === undefined || image.digest === imageDigest) &&
        (imageTag === undefined || (image.tags ?? []).includes(imageTag)),
    );
    if (!found) {
      throw new ServiceError(
        'ImageNotFoundException',
        `The image with imageId {imageDigest:'${imageDigest ?? 'null'}', imageTag:'${imageTag ?? 'null'}'} does not exist within the repository with name '${repositoryName}' in the registry with id '${registryId}'`,
      );
    }
    return found;
  }

  /** The imageId an answer carries: the digest, and the tag it was asked by. */
  static imageIdOf(image: StoredScan, input: Json): Json {
    const tag = optionalString((input.imageId ?? {}) as Json, 'imageTag');
    return { imageDigest: image.digest, ...(tag !== undefined ? { imageTag: tag } : {}) };
  }

  findingArn(image: StoredScan, finding: ScanFindingSpec): string {
    const id = sha256Hex(`${image.digest}/${finding.name}/${finding.package ?? ''}`).slice(0, 32);
    return `arn:aws:inspector2:${this.region}:${image.registryId}:finding/${id}`;
  }
}

/** A finding as basic scanning answers it: name, uri, severity and attributes. */
function basicFinding(finding: ScanFindingSpec): Json {
  const attributes = [
    ...(finding.version !== undefined ? [{ key: 'package_version', value: finding.version }] : []),
    ...(finding.package !== undefined ? [{ key: 'package_name', value: finding.package }] : []),
    ...(finding.score !== undefined ? [{ key: 'CVSS2_SCORE', value: String(finding.score) }] : []),
  ];
  return {
    name: finding.name,
    description: `${finding.name} in ${finding.package ?? 'a package'}.`,
    ...(finding.uri !== undefined ? { uri: finding.uri } : {}),
    severity: finding.severity,
    attributes,
  };
}

/** A finding as enhanced scanning (Amazon Inspector) answers it. */
function enhancedFinding(store: ImageScanStore, image: StoredScan, finding: ScanFindingSpec, observedAt: number): Json {
  return {
    awsAccountId: image.registryId,
    description: `${finding.name} in ${finding.package ?? 'a package'}.`,
    findingArn: store.findingArn(image, finding),
    firstObservedAt: observedAt,
    lastObservedAt: observedAt,
    packageVulnerabilityDetails: {
      source: 'NVD',
      ...(finding.uri !== undefined ? { sourceUrl: finding.uri, referenceUrls: [finding.uri] } : {}),
      vulnerabilityId: finding.name,
      vulnerablePackages: [
        {
          ...(finding.package !== undefined ? { name: finding.package } : {}),
          ...(finding.version !== undefined ? { version: finding.version } : {}),
          packageManager: 'OS',
          fixedInVersion: finding.fixedIn ?? 'NotAvailable',
        },
      ],
    },
    remediation: { recommendation: { text: finding.fixedIn !== undefined ? `Upgrade to ${finding.fixedIn}.` : 'None Provided' } },
    resources: [
      {
        id: `arn:aws:ecr:${image.registryId}:repository/${image.repositoryName}/${image.digest}`,
        type: 'AWS_ECR_CONTAINER_IMAGE',
        details: { awsEcrContainerImage: { imageHash: image.digest, imageTags: image.tags ?? [], registry: image.registryId, repositoryName: image.repositoryName } },
      },
    ],
    ...(finding.score !== undefined ? { score: finding.score } : {}),
    severity: finding.severity,
    status: 'ACTIVE',
    title: finding.package !== undefined ? `${finding.name} - ${finding.package}` : finding.name,
    type: 'PACKAGE_VULNERABILITY',
    updatedAt: observedAt,
    fixAvailable: finding.fixedIn !== undefined ? 'YES' : 'NO',
    exploitAvailable: 'NO',
  };
}

const describedAs = (description: string | undefined): Json => (description !== undefined ? { description } : {});

/** What the findings add up to, by severity; severities with none are left out, as ECR does. */
function severityCounts(findings: ScanFindingSpec[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { severity } of findings) counts[severity] = (counts[severity] ?? 0) + 1;
  return counts;
}

// Opaque to clients; names the answer being paged, so every page of one read comes from it.
const encodeScanToken = (digest: string, answer: number, offset: number): string =>
  Buffer.from(JSON.stringify({ d: digest, n: answer, o: offset }), 'utf8').toString('base64');

function decodeScanToken(token: string, digest: string): { answer: number; offset: number } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as Json;
    if (parsed.d === digest && Number.isInteger(parsed.n) && Number.isInteger(parsed.o)) return { answer: parsed.n as number, offset: parsed.o as number };
  } catch {
    // Falls through to the ECR-style error below.
  }
  throw invalidParameter(`Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid pagination token'`);
}

/** DescribeImageScanFindings and StartImageScan over the store, for repositories that `repositoryOf` finds. */
export const describeImageScanFindings: Operation<EcrRegistries> = (input, ecr) => {
      const { repository } = ecr.existingRepository(input);
      const store = ecr.scans;
      const image = store.find(repository.registryId, repository.repositoryName, input);
      const maxResults = input.maxResults ?? SCAN_DEFAULT_MAX_RESULTS;
      if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > MAX_MAX_RESULTS) {
        throw invalidParameter(`Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and ${MAX_MAX_RESULTS}'`);
      }
      const nextToken = optionalString(input, 'nextToken');
      if (nextToken === undefined) image.reads.push(Date.now());
      if (image.scan.length === 0) {
        throw new ServiceError('ScanNotFoundException', `Image scan does not exist for the image with '{imageDigest:'${image.digest}', imageTag:'null'}' in the repository with name '${repository.repositoryName}' in the registry with id '${repository.registryId}'`);
      }
      let position: { answer: number; offset: number };
      if (nextToken === undefined) {
        image.served += 1;
        position = { answer: Math.min(image.served, image.scan.length) - 1, offset: 0 };
      } else {
        position = decodeScanToken(nextToken, image.digest);
      }
      const answer = image.scan[Math.min(position.answer, image.scan.length - 1)];
      const reply: Json = {
        registryId: repository.registryId,
        repositoryName: repository.repositoryName,
        imageId: ImageScanStore.imageIdOf(image, input),
        imageScanStatus: { status: answer.status, ...describedAs(answer.description ?? SCAN_DESCRIPTIONS[answer.status]) },
      };
      if (answer.status !== 'COMPLETE' && answer.status !== 'ACTIVE') return reply;
      if (answer.findings === undefined) return { ...reply, imageScanFindings: { findings: [] } };
      const page = answer.findings.slice(position.offset, position.offset + maxResults);
      const enhanced = answer.scanType === 'ENHANCED';
      const rendered = page.map((finding) => (enhanced ? enhancedFinding(store, image, finding, image.completedAt) : basicFinding(finding)));
      const end = position.offset + page.length;
      return {
        ...reply,
        imageScanFindings: {
          [enhanced ? 'enhancedFindings' : 'findings']: rendered,
          imageScanCompletedAt: image.completedAt,
          vulnerabilitySourceUpdatedAt: image.completedAt - 3600,
          findingSeverityCounts: answer.severityCounts ?? severityCounts(answer.findings),
        },
        ...(end < answer.findings.length ? { nextToken: encodeScanToken(image.digest, position.answer, end) } : {}),
      };
};

export const startImageScan: Operation<EcrRegistries> = (input, ecr) => {
      const { repository } = ecr.existingRepository(input);
      const image = ecr.scans.find(repository.registryId, repository.repositoryName, input);
      // Basic scanning allows one scan per image a day, the scan on push included.
      if (image.scan.length > 0) throw new ServiceError('LimitExceededException', 'The scan quota per image has been exceeded. Wait and try again.');
      image.scan = image.afterStart ?? DEFAULT_AFTER_START;
      image.served = 0;
      image.started += 1;
      const status = image.scan[0]?.status ?? 'IN_PROGRESS';
      return {
        registryId: repository.registryId,
        repositoryName: repository.repositoryName,
        imageId: ImageScanStore.imageIdOf(image, input),
        imageScanStatus: { status, ...describedAs(SCAN_DESCRIPTIONS[status]) },
      };
};
