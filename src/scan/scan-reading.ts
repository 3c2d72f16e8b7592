import { PluginError } from '../errors';
import type { ImageScanApi, ScanPage } from '../registry/image-scans';
import type { ImageId, RegistryApi } from '../registry/registry-api';
import type { Finding } from './finding';
import type { Severity } from './severity';

/**
 * One read of an image's scan: every page, with its findings in one shape
 * whatever scanning produced them. No field names the kind of scanning, so
 * `completedAt` is what says a scan completed and these are its findings (an
 * answer without it is not a result yet, and is waited for); the type is
 * ENHANCED when the answer holds enhanced findings or reads ACTIVE (only
 * enhanced scanning is continuous), and BASIC otherwise: an enhanced scan on
 * push that found nothing reads like a basic one, and is judged the same way.
 */
export interface ScanReading {
  status?: string;
  description?: string;
  /** The digest the registry answered for. */
  digest?: string;
  /** When the scan these findings come from completed; absent: no findings to judge yet. */
  completedAt?: Date;
  scanType: 'BASIC' | 'ENHANCED';
  findings: Finding[];
  /** The registry's counts, by the plugin's severities. */
  reportedCounts: Partial<Record<Severity, number>>;
  /** False when a later page described another scan than the first (one completed meanwhile): read again. */
  consistent: boolean;
}

/** Where the image is, and the registry's scanning that reads it. */
export interface ScanTarget {
  registry: RegistryApi;
  scans: ImageScanApi;
  repoName: string;
}

/** 100,000 findings: far beyond any image; a bound on a registry that keeps handing out tokens. */
const MAX_PAGES = 100;

/** Reads every page of the scan of `image`; a missing scan or image is thrown as the scan API reports it. */
export async function readScan({ scans, repoName }: ScanTarget, image: ImageId, signal: AbortSignal): Promise<ScanReading> {
  const pages: ScanPage[] = [];
  let nextToken: string | undefined;
  const seen = new Set<string>();
  do {
    if (pages.length >= MAX_PAGES) throw new PluginError(`ECR DescribeImageScanFindings kept answering with more pages after ${MAX_PAGES}`);
    const page = await scans.readScanPage(repoName, image, nextToken, signal);
    pages.push(page);
    nextToken = page.nextToken;
    if (nextToken !== undefined) {
      if (seen.has(nextToken)) throw new PluginError('ECR DescribeImageScanFindings handed out the same nextToken twice');
      seen.add(nextToken);
    }
  } while (nextToken !== undefined);
  return combine(pages);
}

function combine(pages: ScanPage[]): ScanReading {
  const [first] = pages;
  const completedAt = first.completedAt;
  const consistent = pages.every((page) => page.status === first.status && page.completedAt?.getTime() === completedAt?.getTime());
  return {
    status: first.status,
    description: first.description,
    digest: first.digest,
    completedAt,
    scanType: pages.some((page) => page.enhanced) || first.status === 'ACTIVE' ? 'ENHANCED' : 'BASIC',
    findings: pages.flatMap((page) => page.findings),
    reportedCounts: first.reportedCounts,
    consistent,
  };
}
