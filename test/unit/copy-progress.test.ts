import { ActivityLog } from '../../src/kaholo/activity-log';
import { CopyProgress } from '../../src/copy/copy-progress';
import { Redactor } from '../../src/kaholo/redactor';
import { captureOutput } from '../support/capture-output';

const MiB = 1024 * 1024;

describe('the activity log of a copy', () => {
  it('says each blob once when done, and a long one every few seconds, then the totals', async () => {
    let now = 0;
    const { output } = await captureOutput(() => {
      const progress = new CopyProgress(new ActivityLog(new Redactor()), () => now, 5_000);
      const blob = { digest: `sha256:${'a'.repeat(64)}`, size: 100 * MiB };
      const bytes = progress.copying(blob);
      // 100 chunks of 1 MiB, one every 200 ms: 20 s in all.
      for (let i = 0; i < 100; i++) {
        now += 200;
        bytes(MiB);
      }
      progress.done(blob, 'copied', '', 0);
      progress.done({ digest: `sha256:${'b'.repeat(64)}`, size: 2 * MiB }, 'skipped', 'already in prod/app', now);
      progress.done({ digest: `sha256:${'c'.repeat(64)}`, size: 3 * MiB }, 'mounted', 'from team/app', now);
      now += 1_000;
      return Promise.resolve(progress.summary());
    });
    expect(output.split('\n').filter(Boolean)).toEqual([
      `  sha256:aaaaaaaaaaaa… 25.0 MiB of 100.0 MiB`,
      `  sha256:aaaaaaaaaaaa… 50.0 MiB of 100.0 MiB`,
      `  sha256:aaaaaaaaaaaa… 75.0 MiB of 100.0 MiB`,
      `Copied sha256:aaaaaaaaaaaa… (100.0 MiB) in 20 s`,
      `Skipped sha256:bbbbbbbbbbbb… (2.0 MiB) already in prod/app`,
      `Mounted sha256:cccccccccccc… (3.0 MiB) from team/app`,
    ]);
  });

  it('totals count blobs by outcome and bytes only for those copied', () => {
    const progress = new CopyProgress(new ActivityLog(new Redactor()), () => 0);
    void captureOutput(() => {
      progress.done({ digest: 'sha256:1', size: 10 }, 'copied', '', 0);
      progress.done({ digest: 'sha256:2', size: 20 }, 'mounted', '', 0);
      progress.done({ digest: 'sha256:3', size: 30 }, 'skipped', '', 0);
      return Promise.resolve();
    });
    expect(progress.totals).toEqual({ copied: 1, mounted: 1, skipped: 1, bytes: 10 });
    expect(progress.summary()).toBe('Blobs: 1 copied (10 B), 1 mounted, 1 already there, in 0 s');
  });
});
