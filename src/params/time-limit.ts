import { ParamError } from '../errors';

/**
 * The `transferTimeLimit` of one push, pull or copy: a moment, counted from
 * the action's start, at which every wait, docker command and registry
 * request of the work stops (the lock waits, the AWS calls before the
 * transfer and those of a push's additional tags, each login, tag, push, pull
 * and digest check, a copy's requests, each wait between retries). Clean-up
 * is not bound by it: logout, giving a name back, removing the private config
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

  /**
   * `call`, or this limit's error if the limit comes first. For AWS calls, which keep their own
   * timeouts: the caller then closes the client (withRegistry does), which ends the request.
   */
  async bound<T>(call: Promise<T>, doing: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(this.exceeded(doing)), this.remainingMs());
    });
    try {
      return await Promise.race([call, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The error of work the limit cut short; `doing` says what it was doing then. */
  exceeded(doing: string): ParamError {
    const span = `${this.minutes} ${this.minutes === 1 ? 'minute' : 'minutes'}`;
    return new ParamError('transferTimeLimit', `the ${this.work} did not finish within ${span}: ${doing}`);
  }
}
