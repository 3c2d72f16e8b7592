import { existsSync, promises as fs } from 'node:fs';
import { ActivityLog } from '../../src/kaholo/activity-log';
import { Interruption } from '../../src/agent/interruption';
import { Redactor } from '../../src/kaholo/redactor';
import { engineLockPath, withEngineLock } from '../../src/agent/engine-lock';
import { TimeLimit } from '../../src/params/time-limit';
import { captureOutput } from '../support/capture-output';
import { WatchedLog } from '../support/watched-log';

/** An engine of each test's own, so its locks (in the real os.tmpdir()) meet no one else's. */
let engine: string;
beforeEach(() => {
  engine = `unix:///run/lock-test-${process.pid}-${Math.random().toString(36).slice(2)}.sock`;
});
afterEach(async () => {
  for (const reference of ['r/app:1', 'r/app:2']) await fs.rm(engineLockPath(engine, reference), { recursive: true, force: true });
});

const request = (reference: string, waitMs: number) => ({
  engine,
  reference,
  waitMs,
  log: new ActivityLog(new Redactor()),
  interruption: new Interruption(),
});

describe('withEngineLock', () => {
  it('lets one holder in at a time per engine and name, others in parallel', async () => {
    const order: string[] = [];
    const log = new WatchedLog();
    let letFirstGo = (): void => undefined;
    const { output, error } = await captureOutput(async () => {
      let first: Promise<void> | undefined;
      await new Promise<void>((entered) => {
        first = withEngineLock(request('r/app:1', 10_000), async () => {
          order.push('first in');
          entered();
          await new Promise<void>((resolve) => (letFirstGo = resolve));
          order.push('first out');
        });
      });
      const second = withEngineLock({ ...request('r/app:1', 10_000), log }, () => {
        order.push('second in');
        return Promise.resolve();
      });
      // Another name on the same engine: in and out while the first holds r/app:1.
      await withEngineLock(request('r/app:2', 10_000), () => {
        order.push('other name in');
        return Promise.resolve();
      });
      await log.lineMatching(/^Waiting/);
      expect(order).toEqual(['first in', 'other name in']);
      letFirstGo();
      await Promise.all([first, second]);
    });
    expect(error).toBeUndefined();
    expect(order).toEqual(['first in', 'other name in', 'first out', 'second in']);
    expect(log.lines).toEqual(['Waiting for another action on this agent that pushes or pulls r/app:1 (up to 10 s)']);
    expect(output).toContain(log.lines[0]);
    expect(existsSync(engineLockPath(engine, 'r/app:1'))).toBe(false); // released: nothing left
  });

  it('waits within its bound, then says what it waited for', async () => {
    await fs.mkdir(engineLockPath(engine, 'r/app:1')); // a live holder: fresh mtime
    const started = Date.now();
    const { error } = await captureOutput(() => withEngineLock(request('r/app:1', 1000), () => Promise.resolve()));
    expect(Date.now() - started).toBeLessThan(3000);
    expect((error as Error).message).toBe(
      `Waited 1 s for another action on this agent to finish with r/app:1 (engine ${engine}, lock ${engineLockPath(engine, 'r/app:1')}); try again when it has finished`,
    );
  });

  it('waits no longer than the time limit when that comes first, and names transferTimeLimit', async () => {
    await fs.mkdir(engineLockPath(engine, 'r/app:1')); // a live holder
    const started = Date.now();
    const limit = new TimeLimit(1, 800, 'pull');
    const { error } = await captureOutput(() => withEngineLock({ ...request('r/app:1', 60_000), limit }, () => Promise.resolve()));
    expect(Date.now() - started).toBeLessThan(3000);
    expect((error as Error).message).toBe(
      'Parameter "transferTimeLimit": the pull did not finish within 1 minute: it was still waiting for another action on this agent to finish with ' +
        `r/app:1 (engine ${engine}, lock ${engineLockPath(engine, 'r/app:1')})`,
    );
  });

  it('takes over the lock of a holder that died (its lock no longer refreshed)', async () => {
    const file = engineLockPath(engine, 'r/app:1');
    await fs.mkdir(file);
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(file, old, old);
    const started = Date.now();
    const { result } = await captureOutput(() => withEngineLock(request('r/app:1', 5000), () => Promise.resolve('in')));
    expect(result).toBe('in');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
