/**
 * Faults a test sets on a JSON API's authenticated calls, after the signature check: the next
 * calls fail as the service would under load, the calls of one operation are held at a gate
 * until all of them have arrived (so they were provably in flight at once), or the next call of
 * one operation is held until the test lets it go (so one action stops there, as long as the test
 * needs). Faults of the whole endpoint (hanging, HTML pages) are the server's (endpoint-server.ts).
 */
export type InjectedFailure = 'throttling' | 'server-error';

interface Gate {
  operation: string;
  count: number;
  waiting: Array<() => void>;
  timer: NodeJS.Timeout;
}

/** One call held until the test lets it go. */
export interface CallHold {
  /** Resolves once the call has arrived and is held. */
  reached: Promise<void>;
  /** Whether the call has arrived by now. */
  hasReached(): boolean;
  /** Lets the call go on (also before it arrived: then it is not held at all). */
  release(): void;
}

interface Hold {
  operation: string;
  arrived(): void;
  released: Promise<void>;
}

export class CallFaults {
  private pendingFailures = 0;
  private failureKind: InjectedFailure = 'throttling';
  private current: Gate | undefined;
  private readonly holds: Hold[] = [];

  /** The next `count` authenticated calls fail (replaces any pending count; 0 clears it). */
  failNext(count: number, kind: InjectedFailure): void {
    if (!Number.isInteger(count) || count < 0) throw new Error('failNext count must be a non-negative integer');
    this.pendingFailures = count;
    this.failureKind = kind;
  }

  /** The failure this call meets, if one is pending; counts it off. */
  takeFailure(): InjectedFailure | undefined {
    if (this.pendingFailures === 0) return undefined;
    this.pendingFailures -= 1;
    return this.failureKind;
  }

  /**
   * Holds the next `count` calls of `operation` until all of them have arrived (at most
   * `timeoutMs`), then lets them on in arrival order.
   */
  gate(operation: string, count: number, timeoutMs: number): void {
    this.openGate();
    this.current = { operation, count, waiting: [], timer: setTimeout(() => this.openGate(), timeoutMs).unref() };
  }

  /**
   * Holds the next call of `operation` until `release()`, or `timeoutMs` at most (every wait of the
   * kit is bounded); holds asked for one operation take its calls in turn.
   */
  hold(operation: string, timeoutMs: number): CallHold {
    let arrived = false;
    let markArrived = (): void => undefined;
    const reached = new Promise<void>((resolve) => (markArrived = resolve));
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs).unref();
      release = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const hold: Hold = {
      operation,
      released,
      arrived: () => {
        arrived = true;
        markArrived();
      },
    };
    this.holds.push(hold);
    void released.then(() => {
      const index = this.holds.indexOf(hold);
      if (index >= 0) this.holds.splice(index, 1); // released before its call came: it holds nothing
    });
    return { reached, hasReached: () => arrived, release };
  }

  /** Resolves when a call of `operation` may go on: at once, unless a hold or a gate holds it. */
  async pass(operation: string): Promise<void> {
    const index = this.holds.findIndex((hold) => hold.operation === operation);
    if (index >= 0) {
      const [hold] = this.holds.splice(index, 1);
      hold.arrived();
      await hold.released;
    }
    const gate = this.current;
    if (gate?.operation !== operation) return;
    await new Promise<void>((resolve) => {
      gate.waiting.push(resolve);
      if (gate.waiting.length >= gate.count) this.openGate();
    });
  }

  private openGate(): void {
    const opened = this.current;
    this.current = undefined;
    if (!opened) return;
    clearTimeout(opened.timer);
    for (const release of opened.waiting) release();
  }
}
