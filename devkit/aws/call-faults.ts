/**
 * Faults a test sets on a JSON API's authenticated calls, after the signature check: the next
 * calls fail as the service would under load, or the calls of one operation are held at a gate
 * until all of them have arrived (so they were provably in flight at once). Faults of the whole
 * endpoint (hanging, HTML pages) are the server's (endpoint-server.ts).
 */
export type InjectedFailure = 'throttling' | 'server-error';

interface Gate {
  operation: string;
  count: number;
  waiting: Array<() => void>;
  timer: NodeJS.Timeout;
}

export class CallFaults {
  private pendingFailures = 0;
  private failureKind: InjectedFailure = 'throttling';
  private current: Gate | undefined;

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

  /** Resolves when a call of `operation` may go on: at once, unless a gate holds it. */
  async pass(operation: string): Promise<void> {
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
