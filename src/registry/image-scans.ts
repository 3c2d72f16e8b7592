/**
 * A registry's image scanning, as the scan gate (src/scan/) reads it: one
 * page of an image's scan at a time, in the plugin's own shape, and a way to
 * start a scan. Private ECR has it (aws/ecr-scans.ts); a registry without
 * scanning has no `scans` on its RegistryApi.
 */
import type { Finding } from '../scan/finding';
import type { Severity } from '../scan/severity';
import type { ImageId } from './registry-api';

/** One page of an image's scan as the registry answered it. */
export interface ScanPage {
  /** The scan's status as the registry words it (COMPLETE, ACTIVE, IN_PROGRESS, …). */
  status?: string;
  description?: string;
  /** The digest the registry answered for. */
  digest?: string;
  /** When the scan these findings come from completed; absent: no findings to judge yet. */
  completedAt?: Date;
  /** Whether the page holds enhanced scanning's findings (Amazon Inspector's shape). */
  enhanced: boolean;
  findings: Finding[];
  /** The counts the registry reported, by the plugin's severities. */
  reportedCounts: Partial<Record<Severity, number>>;
  /** Where the next page starts; absent on the last. */
  nextToken?: string;
}

export interface ImageScanApi {
  /**
   * One page of the image's scan. No scan at all is a `MissingScanError`, no
   * such image a `MissingImageError` (errors.ts); `signal` ends the call.
   */
  readScanPage(repoName: string, image: ImageId, nextToken: string | undefined, signal: AbortSignal): Promise<ScanPage>;
  /** Starts a basic scan of the image; the digest it scans and the status it reports. */
  startImageScan(repoName: string, image: ImageId, signal: AbortSignal): Promise<{ digest?: string; status?: string }>;
  /** The origin the last call went to, such as "http://127.0.0.1:4566". */
  lastEndpoint(): string | undefined;
}
