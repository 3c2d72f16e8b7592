import type { Interruption } from '../agent/interruption';

/** Time as the scan wait sees it; the unit tests give it a fake one, so no test waits for real. */
export interface Clock {
  now(): number;
  /** Waits `ms`; an interrupt ends the wait early by throwing. */
  sleep(ms: number): Promise<void>;
  /** Calls `fn` after `ms`; returns what cancels it. */
  after(ms: number, fn: () => void): () => void;
}

/** The real clock; waits end at once on SIGTERM, SIGINT or SIGHUP. */
export function systemClock(interruption: Interruption): Clock {
  return {
    now: () => Date.now(),
    sleep: (ms) => interruption.sleep(ms),
    after(ms, fn) {
      const timer = setTimeout(fn, ms);
      timer.unref();
      return () => clearTimeout(timer);
    },
  };
}
