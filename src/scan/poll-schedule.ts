import { PluginError } from '../errors';

/**
 * How often the scan is read while it is not ready: first after 5 s, then half
 * as long again each time, up to 30 s; never sooner than 5 s after the last
 * read, and never past the deadline (the last read starts early enough to
 * be answered before it).
 */
const MIN_POLL_INTERVAL_MS = 5_000;
const GROWTH = 1.5;
/** The longest wait, as a multiple of the shortest. */
const MAX_FACTOR = 6;

/**
 * For the tests only: a shorter minimum between reads, honoured only against
 * an ECR endpoint on this machine (a loopback address, where the tests' local
 * stand-in listens), never against AWS: there the 5 s minimum always holds.
 */
const POLL_INTERVAL_VARIABLE = 'KAHOLO_ECR_SCAN_POLL_MS';
const MIN_TEST_INTERVAL_MS = 10;

/** The shortest wait between reads, and a line for the log when the test setting was seen. */
export function minimumPollInterval(endpoint: string | undefined, env: NodeJS.ProcessEnv = process.env): { ms: number; note?: string } {
  const text = env[POLL_INTERVAL_VARIABLE]?.trim();
  if (!text) return { ms: MIN_POLL_INTERVAL_MS };
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < MIN_TEST_INTERVAL_MS || value > MIN_POLL_INTERVAL_MS) {
    throw new PluginError(`The agent's environment variable ${POLL_INTERVAL_VARIABLE} (for tests) must be a number of milliseconds from ${MIN_TEST_INTERVAL_MS} to ${MIN_POLL_INTERVAL_MS}`);
  }
  if (!isLoopback(endpoint)) {
    return { ms: MIN_POLL_INTERVAL_MS, note: `${POLL_INTERVAL_VARIABLE} is ignored: it is for tests against a local endpoint, and ECR is read at most every ${MIN_POLL_INTERVAL_MS / 1000} s` };
  }
  return { ms: value, note: `Reading the local endpoint every ${value} ms or more (${POLL_INTERVAL_VARIABLE}, a test setting)` };
}

/** Whether an endpoint such as "http://127.0.0.1:4566" is on this machine. */
export function isLoopback(endpoint: string | undefined): boolean {
  if (endpoint === undefined) return false;
  let host: string;
  try {
    host = new URL(endpoint).hostname.toLowerCase();
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * The last read starts this share of the minimum (1 s against ECR) before the
 * deadline, so that it has time to be answered: a read at the deadline itself
 * is cut off at once.
 */
const READ_ROOM_SHARE = 0.2;

/** The waits between reads, growing; each no shorter than the minimum. */
export class PollSchedule {
  private wanted: number;

  constructor(private readonly minMs: number) {
    this.wanted = minMs;
  }

  /** The wait before the next read, or undefined when no read at least `minMs` away fits before the deadline, with room to be answered. */
  next(now: number, deadline: number): number | undefined {
    const wait = Math.min(this.wanted, deadline - now - this.minMs * READ_ROOM_SHARE);
    this.wanted = Math.min(this.wanted * GROWTH, this.minMs * MAX_FACTOR);
    return wait >= this.minMs ? wait : undefined;
  }
}
