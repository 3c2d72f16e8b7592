import execa from 'execa';
import { currentProcess, isRunning } from '../../src/agent/process-identity';

describe('process identity', () => {
  it('tells a running process from one that ended, and from a reused pid', async () => {
    const self = currentProcess();
    expect(isRunning(self)).toBe(true);
    if (process.platform !== 'linux') return;
    expect(self.start).toMatch(/^\d+$/);
    expect(isRunning({ ...self, start: String(Number(self.start) + 1) })).toBe(false); // same pid, another process
    const child = execa(process.execPath, ['-e', '']);
    const identity = { pid: child.pid ?? 0, start: '0' };
    await child;
    expect(isRunning(identity)).toBe(false);
  });
});
