import type { ActivityLog } from '../kaholo/activity-log';
import { seconds } from '../errors';

export type BlobOutcome = 'skipped' | 'mounted' | 'copied';

/** How much a copy did with blobs: counts by outcome, and the bytes that travelled through the agent. */
export interface BlobTotals {
  copied: number;
  mounted: number;
  skipped: number;
  bytes: number;
}

/** A line every few seconds for a blob that takes long. */
const PROGRESS_EVERY_MS = 5_000;

/** A size as the log gives it: "512 B", "3.4 KiB", "25.0 MiB". */
export function mib(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function shortDigest(digest: string): string {
  return digest.slice(0, 19);
}

/**
 * The activity log's account of the blobs: a line per blob when it is done
 * (skipped, mounted or copied, with its size), one every few seconds while a
 * long one is copied, and the totals.
 */
export class CopyProgress {
  readonly totals: BlobTotals = { copied: 0, mounted: 0, skipped: 0, bytes: 0 };
  private readonly started: number;

  constructor(
    private readonly log: ActivityLog,
    private readonly now: () => number = Date.now,
    private readonly everyMs = PROGRESS_EVERY_MS,
  ) {
    this.started = now();
  }

  /** A reporter of bytes for one blob being copied. */
  copying(blob: { digest: string; size: number }): (count: number) => void {
    let done = 0;
    let last = this.now();
    return (count) => {
      done += count;
      if (this.now() - last < this.everyMs || done >= blob.size) return;
      last = this.now();
      this.log.info(`  ${shortDigest(blob.digest)}… ${mib(done)} of ${mib(blob.size)}`);
    };
  }

  done(blob: { digest: string; size: number }, outcome: BlobOutcome, detail: string, startedAt: number): void {
    this.totals[outcome] += 1;
    if (outcome === 'copied') this.totals.bytes += blob.size;
    const verb = { skipped: 'Skipped', mounted: 'Mounted', copied: 'Copied' }[outcome];
    const took = outcome === 'copied' ? `in ${seconds(this.now() - startedAt)} s` : '';
    this.log.info([`${verb} ${shortDigest(blob.digest)}… (${mib(blob.size)})`, detail, took].filter((part) => part !== '').join(' '));
  }

  summary(): string {
    const { copied, mounted, skipped, bytes } = this.totals;
    return `Blobs: ${copied} copied (${mib(bytes)}), ${mounted} mounted, ${skipped} already there, in ${seconds(this.now() - this.started)} s`;
  }
}
