import { ActivityLog } from '../../src/kaholo/activity-log';
import { Redactor } from '../../src/kaholo/redactor';

/** An activity log that keeps its info lines, so that a test waits for a line instead of a while. */
export class WatchedLog extends ActivityLog {
  readonly lines: string[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(private readonly onLine: (line: string) => void = () => undefined) {
    super(new Redactor());
  }

  override info(line: string): void {
    this.lines.push(line);
    this.onLine(line);
    for (const waiter of [...this.waiters]) waiter();
    super.info(line);
  }

  /** The first line (written already or to come) that matches, within `timeoutMs`. */
  lineMatching(pattern: RegExp, timeoutMs = 3000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const line = this.lines.find((l) => pattern.test(l));
        if (line === undefined) return;
        done();
        resolve(line);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no log line matching ${String(pattern)} within ${timeoutMs} ms; lines: ${JSON.stringify(this.lines)}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }
}
