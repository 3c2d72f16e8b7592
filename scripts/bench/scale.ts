/**
 * Scale: describeRepositories over N repositories against a bare SDK paginator loop over the same
 * endpoint. Both run in one fresh process per N, after warm-up, alternately (see SCALE_CHILD):
 * in-process, so that the constant cost of starting a process (measured in the cold-start
 * section) does not dilute the per-repository cost being compared.
 */
import { startLocalEcr } from '../../devkit/local-ecr';
import { marked, SCALE_CHILD, SCALE_MARK, type ScaleInput, type ScaleSamples } from './children';
import { childEnv, REPO_ROOT, timed, type Tools } from './tools';

const WARMUPS = 5;
const TIMEOUT_MS = 10 * 60 * 1000;

export interface ScaleResult extends ScaleSamples {
  repositories: number;
  pages: number;
}

/** `pairs` at 10,000 repositories and more; up to 5× as many for smaller counts. */
export function pairsFor(count: number, pairs: number): number {
  return Math.round(pairs * Math.min(5, Math.max(1, 10_000 / count)));
}

export async function runScale(
  tools: Tools,
  main: string,
  counts: number[],
  pairs: number,
  progress: (line: string) => void,
): Promise<ScaleResult[]> {
  const results: ScaleResult[] = [];
  for (const count of counts) {
    progress(`scale: ${count} repositories (${WARMUPS} warm-ups, ${pairsFor(count, pairs)} pairs)`);
    const ecr = await startLocalEcr({});
    try {
      ecr.endpoint.createRepositories(Array.from({ length: count }, (_, i) => `bench/scale-${String(i).padStart(6, '0')}`));
      const input: ScaleInput = {
        main,
        sdk: require.resolve('@aws-sdk/client-ecr', { paths: [REPO_ROOT] }),
        settings: { ...ecr.settings },
        expected: count,
        warmups: WARMUPS,
        // Small counts take milliseconds, where noise is relatively larger: more pairs, same time.
        pairs: pairsFor(count, pairs),
      };
      const child = await timed(tools.node, ['--expose-gc', '-e', SCALE_CHILD], {
        env: childEnv({ ...ecr.env, BENCH_INPUT: JSON.stringify(input) }),
        timeoutMs: TIMEOUT_MS,
      });
      const samples = marked<ScaleSamples>(child.stderr, SCALE_MARK);
      results.push({ repositories: count, pages: Math.max(1, Math.ceil(count / 1000)), ...samples });
    } finally {
      await ecr.stop();
    }
  }
  return results;
}
