import { PluginError } from '../errors';
import type { ActivityLog } from '../kaholo/activity-log';

const INTERRUPTS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/**
 * While an action works (a push or pull, tags, a copy, a scan wait), SIGTERM,
 * SIGINT and SIGHUP stop the work (the running docker command, a call, a wait
 * for a lock or a retry) but never the clean-up; once the clean-up is done,
 * release() raises the signal again so the process still ends as it was
 * asked to. The first signal is said in the log, so that a log that stops
 * short says why (and a test knows the signal has landed).
 */
export class Interruption {
  private received: NodeJS.Signals | undefined;
  private readonly listeners = new Set<() => void>();
  private aborter: AbortController | undefined;
  private readonly handler = (signal: NodeJS.Signals): void => {
    if (this.received === undefined) {
      this.received = signal;
      this.log?.info(`Interrupted (${signal}): stopping the work; cleaning up`);
    }
    for (const listener of [...this.listeners]) listener();
  };

  constructor(private readonly log?: ActivityLog) {}

  /** Catches the interrupts until release(); the action's one Interruption, so the line is said once. */
  static catch(log: ActivityLog): Interruption {
    const interruption = new Interruption(log);
    for (const signal of INTERRUPTS) process.on(signal, interruption.handler);
    return interruption;
  }

  get interrupted(): boolean {
    return this.received !== undefined;
  }

  /** Calls `listener` on an interrupt; returns the function that stops listening. */
  onInterrupt(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Aborted on an interrupt: for calls that take a signal (an AWS request in flight). */
  get signal(): AbortSignal {
    if (this.aborter === undefined) {
      const aborter = new AbortController();
      this.aborter = aborter;
      if (this.interrupted) aborter.abort();
      else this.onInterrupt(() => aborter.abort());
    }
    return this.aborter.signal;
  }

  /** Throws when the action was interrupted, so that no new work starts. */
  check(): void {
    if (this.interrupted) throw new PluginError(`The action was interrupted (${String(this.received)})`);
  }

  /** Waits `ms`, or less when an interrupt comes (then throws). */
  async sleep(ms: number): Promise<void> {
    this.check();
    let stop = (): void => undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      stop = this.onInterrupt(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    stop();
    this.check();
  }

  release(): void {
    for (const signal of INTERRUPTS) process.off(signal, this.handler);
    if (this.received === undefined) return;
    // Listeners of others (an exit hook such as signal-exit, used by proper-lockfile) would catch a
    // re-raised signal only once the process had moved on: let them act on it now, as if it came
    // now (signal-exit then raises it itself); with none, the signal's default action ends the process.
    if (process.listenerCount(this.received) > 0) process.emit(this.received, this.received);
    else process.kill(process.pid, this.received);
  }
}
