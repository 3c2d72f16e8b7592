import { existsSync, promises as fs } from 'node:fs';
import { ActivityLog } from '../../src/kaholo/activity-log';
import { Interruption } from '../../src/agent/interruption';
import { Redactor } from '../../src/kaholo/redactor';
import { registryLockPath, tagReference, withRegistryLocks } from '../../src/agent/registry-lock';
import { engineLockPath } from '../../src/agent/engine-lock';
import { captureOutput } from '../support/capture-output';
import { WatchedLog } from '../support/watched-log';

/** A registry host of each test's own, so its locks (in the real os.tmpdir()) meet no one else's. */
let host: string;
const ref = (tag: string): string => tagReference(host, 'team/app', tag);
beforeEach(() => {
  host = `registry-${process.pid}-${Math.random().toString(36).slice(2)}.example:5000`;
});
afterEach(async () => {
  for (const tag of ['a', 'b', 'latest', 'r']) await fs.rm(registryLockPath(ref(tag)), { recursive: true, force: true });
});

const request = (references: string[], waitMs: number, log: ActivityLog = new ActivityLog(new Redactor())) => ({
  references,
  waitMs,
  log,
  interruption: new Interruption(),
});

describe('withRegistryLocks', () => {
  it('names a tag by its registry host (in lower case), repository and tag', () => {
    expect(tagReference('Registry.Example:5000', 'team/app', 'Latest')).toBe('registry.example:5000/team/app:Latest');
  });

  it('holds every tag named while the work runs, and none after', async () => {
    const held = await withRegistryLocks(request([ref('r'), ref('latest'), ref('r')], 5000), () =>
      Promise.resolve([ref('r'), ref('latest')].map((r) => existsSync(registryLockPath(r)))),
    );
    expect(held).toEqual([true, true]);
    expect(existsSync(registryLockPath(ref('r')))).toBe(false);
    expect(existsSync(registryLockPath(ref('latest')))).toBe(false);
  });

  it('a second holder of a shared tag waits for the first, whichever order each names them in', async () => {
    const order: string[] = [];
    let letFirstGo = (): void => undefined;
    const firstIn = new Promise<void>((entered) => {
      void withRegistryLocks(request([ref('r'), ref('latest')], 10_000), async () => {
        order.push('first in');
        entered();
        await new Promise<void>((resolve) => (letFirstGo = resolve));
        order.push('first out');
      });
    });
    await firstIn;
    const waitingLog = new WatchedLog();
    const second = captureOutput(() =>
      withRegistryLocks(request([ref('latest'), ref('r')], 10_000, waitingLog), () => {
        order.push('second in');
        return Promise.resolve();
      }),
    );
    await waitingLog.lineMatching(/^Waiting/);
    expect(waitingLog.lines).toEqual([`Waiting for another action on this agent that writes the tag ${ref('latest')} (up to 10 s)`]);
    letFirstGo();
    expect((await second).error).toBeUndefined();
    expect(order).toEqual(['first in', 'first out', 'second in']);
  });

  it('takes its locks in one fixed order, whatever order they are named in, so two actions never wait for each other', async () => {
    // Another action holds "b". Asked for ["b", "a"], the locks are taken as "a", then "b": "a" is held
    // while "b" is waited for. (Taken as named, "b" would be waited for first, "a" not yet held.)
    await fs.mkdir(registryLockPath(ref('b')));
    let aHeldWhileWaiting: boolean | undefined;
    const log = new WatchedLog((line) => {
      if (line.startsWith('Waiting')) aHeldWhileWaiting = existsSync(registryLockPath(ref('a')));
    });
    const { error } = await captureOutput(() => withRegistryLocks(request([ref('b'), ref('a')], 1000, log), () => Promise.resolve()));
    expect((error as Error).message).toBe(
      `Waited 1 s for another action on this agent to finish with ${ref('b')} (lock ${registryLockPath(ref('b'))}); try again when it has finished`,
    );
    expect(aHeldWhileWaiting).toBe(true);
    expect(existsSync(registryLockPath(ref('a')))).toBe(false); // released when the wait failed
  });

  it('takes over the lock of a holder that died (no longer refreshed)', async () => {
    const file = registryLockPath(ref('r'));
    await fs.mkdir(file);
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(file, old, old);
    const started = Date.now();
    const { result } = await captureOutput(() => withRegistryLocks(request([ref('r')], 5000), () => Promise.resolve('in')));
    expect(result).toBe('in');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(existsSync(file)).toBe(false);
  });

  it('releases every lock when the work fails', async () => {
    const { error } = await captureOutput(() => withRegistryLocks(request([ref('a'), ref('b')], 5000), () => Promise.reject(new Error('put failed'))));
    expect((error as Error).message).toBe('put failed');
    expect(existsSync(registryLockPath(ref('a')))).toBe(false);
    expect(existsSync(registryLockPath(ref('b')))).toBe(false);
  });

  it('is a lock of its own, apart from the engine lock of the same reference', () => {
    const reference = ref('r');
    expect(registryLockPath(reference)).not.toBe(engineLockPath(reference, reference));
    expect(registryLockPath(reference)).toMatch(/\/kaholo-ecr\.tag\.[0-9a-f]{32}\.lock$/);
  });
});
