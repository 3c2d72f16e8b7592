import { ParamError } from '../errors';

/**
 * The `transferTimeLimit` of one push, pull or copy: a moment, counted from
 * the action's start, at which every wait, docker command and registry
 * request of the work stops (the lock waits, each login, tag, push, pull and
 * digest check, a copy's requests, each wait between retries). Clean-up is
 * not bound by it: logout, giving a name back, removing the private config
 * and giving up a copy's uploads run after it, each with bounds of its own.
 */
/** What a time limit bounds. */
export type TransferWork = 'push' | 'pull' | 'copy';

export class TimeLimit {
  private readonly end: number;

  constructor(
    /** As the user set it, for the message. */
    readonly minutes: number,
    /** How long that is (the tests shorten a minute). */
    readonly ms: number,
    private readonly work: TransferWork,
  ) {
    this.end = Date.now() + ms;
  }

  /** Milliseconds left; 0 once the limit has come. */
  remainingMs(): number {
    return Math.max(0, this.end - Date.now());
  }

  /** The error of work the limit cut short; `doing` says what it was doing then. */
  exceeded(doing: string): ParamError {
    const span = `${this.minutes} ${this.minutes === 1 ? 'minute' : 'minutes'}`;
    return new ParamError('transferTimeLimit', `the ${this.work} did not finish within ${span}: ${doing}`);
  }
}
