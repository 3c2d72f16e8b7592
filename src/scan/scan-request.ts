import { ParamError } from '../errors';
import { shown, type ParamReader } from '../kaholo/param-reader';
import { parseIgnoreEntry, type IgnoreEntry } from './ignore-list';
import { THRESHOLDS, type Threshold } from './severity';

/** What checkImageScan was asked to do, read once from its params before any call. */
export interface ScanRequest {
  failOnSeverity: Threshold;
  ignore: IgnoreEntry[];
  /** Start a basic scan when the image has none. */
  startScan: boolean;
  /** How long to wait for a usable scan result, in all. */
  timeoutMs: number;
}

const DEFAULT_SCAN_TIMEOUT_SECONDS = 900;
export const MAX_SCAN_TIMEOUT_SECONDS = 3600;

export function readScanRequest(params: ParamReader): ScanRequest {
  return {
    failOnSeverity: params.option('failOnSeverity', THRESHOLDS, 'CRITICAL'),
    ignore: params.list('ignoreFindings').map(parseIgnoreEntry),
    startScan: params.boolean('startScan', false),
    timeoutMs: readTimeoutSeconds(params) * 1000,
  };
}

function readTimeoutSeconds(params: ParamReader): number {
  const text = params.numeral('scanTimeoutSeconds');
  if (text === undefined) return DEFAULT_SCAN_TIMEOUT_SECONDS;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > MAX_SCAN_TIMEOUT_SECONDS) {
    throw new ParamError('scanTimeoutSeconds', `is ${shown(text)}; expected a whole number of seconds from 1 to ${MAX_SCAN_TIMEOUT_SECONDS}`);
  }
  return value;
}
