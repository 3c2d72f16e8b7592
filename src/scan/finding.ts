import type { Severity } from './severity';

/** A finding as the scan gate reports it, whatever kind of scanning produced it. */
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
