/**
 * Cold start: a fresh process that loads the plugin and runs describeRepositories for one page,
 * against a bare `node -e 0` in the same rounds; peak RSS; and where the time goes.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LOCAL_KEYS, LOCAL_REGION, startLocalEcr } from '../../devkit/local-ecr';
import type { Variant } from './bundle';
import {
  ACTION_CHILD,
  BARE_PHASE_CHILD,
  marked,
  PHASE_CHILD,
  PHASES_MARK,
  RESULT_MARK,
  RSS_MARK,
  SDK_CHILD,
  type ActionInput,
  type Phases,
  type SdkInput,
} from './children';
import { childEnv, peakRssKiB, REPO_ROOT, timed, type Tools } from './tools';

export const COLD_REPOSITORIES = 10;
const TIMEOUT_MS = 60_000;

export interface ColdOptions {
  rounds: number;
  phaseRuns: number;
  rssRuns: number;
  cpuProfDir?: string;
  progress(line: string): void;
}

export interface VariantColdResult {
  variant: Variant;
  /** Wall time (ms) of describeRepositories in a fresh process, one per round. */
  describe: number[];
  /** Wall time (ms) of the listRegions autocomplete in a fresh process, one per round. */
  listRegions: number[];
  /** Peak RSS (KiB) of describeRepositories: from GNU time when installed, else as the child reports it. */
  rssKiB: number[];
  rssSource: 'GNU time %M' | 'process.resourceUsage().maxRSS';
  phases: Phases[];
  /** Wall time of each instrumented run, to split off process spawn and exit. */
  phaseWalls: number[];
}

export interface ColdResult {
  repositories: number;
  baseline: { wall: number[]; rssKiB: number[]; phases: Phases[]; phaseWalls: number[] };
  sdk: { wall: number[]; phases: Phases[]; phaseWalls: number[] };
  variants: VariantColdResult[];
}

export async function runColdStart(tools: Tools, variants: Variant[], options: ColdOptions): Promise<ColdResult> {
  const ecr = await startLocalEcr({});
  try {
    ecr.endpoint.createRepositories(Array.from({ length: COLD_REPOSITORIES }, (_, i) => `bench/cold-${String(i).padStart(2, '0')}`));
    const baseEnv = childEnv(ecr.env);
    const inputFor = (variant: Variant, kind: 'describe' | 'listRegions'): ActionInput =>
      kind === 'describe'
        ? { main: variant.main, kind: 'method', name: 'describeRepositories', params: {}, settings: { ...ecr.settings } }
        : { main: variant.main, kind: 'autocomplete', name: 'listRegions', params: {}, settings: {} };
    const sdkInput: SdkInput = {
      sdk: require.resolve('@aws-sdk/client-ecr', { paths: [REPO_ROOT] }),
      region: LOCAL_REGION,
      credentials: { ...LOCAL_KEYS },
    };

    const runAction = async (variant: Variant, kind: 'describe' | 'listRegions'): Promise<{ ms: number; rss: number }> => {
      const result = await timed(tools.node, ['-e', ACTION_CHILD], {
        env: { ...baseEnv, BENCH_INPUT: JSON.stringify(inputFor(variant, kind)) },
        timeoutMs: TIMEOUT_MS,
      });
      const value = marked<unknown>(result.stdout, RESULT_MARK);
      if (kind === 'describe') {
        const count = (value as { repositories?: unknown[] }).repositories?.length;
        if (count !== COLD_REPOSITORIES) throw new Error(`${variant.label}: describeRepositories returned ${String(count)} repositories, expected ${COLD_REPOSITORIES}`);
      } else if (!Array.isArray(value) || value.length < 10) {
        throw new Error(`${variant.label}: listRegions returned ${JSON.stringify(value).slice(0, 80)}`);
      }
      return { ms: result.ms, rss: marked<number>(result.stderr, RSS_MARK) };
    };
    const runBaseline = async (): Promise<number> => (await timed(tools.node, ['-e', '0'], { env: baseEnv, timeoutMs: TIMEOUT_MS })).ms;
    const runSdk = async (): Promise<number> => {
      const result = await timed(tools.node, ['-e', SDK_CHILD], { env: { ...baseEnv, BENCH_INPUT: JSON.stringify(sdkInput) }, timeoutMs: TIMEOUT_MS });
      const { count } = marked<{ count: number }>(result.stdout, RESULT_MARK);
      if (count !== COLD_REPOSITORIES) throw new Error(`bare SDK saw ${count} repositories, expected ${COLD_REPOSITORIES}`);
      return result.ms;
    };

    // Each step checks its result, so a variant that does not work fails here, before any timing.
    options.progress(`cold start: checking ${variants.length} variant(s) and warming the file cache`);
    const childRss = new Map<Variant, number[]>(variants.map((v) => [v, []]));
    for (const variant of variants) {
      await runAction(variant, 'describe');
      await runAction(variant, 'listRegions');
    }
    await runBaseline();
    await runSdk();

    const result: ColdResult = {
      repositories: COLD_REPOSITORIES,
      baseline: { wall: [], rssKiB: [], phases: [], phaseWalls: [] },
      sdk: { wall: [], phases: [], phaseWalls: [] },
      variants: variants.map((variant) => ({
        variant,
        describe: [],
        listRegions: [],
        rssKiB: [],
        rssSource: tools.gnuTime ? 'GNU time %M' : 'process.resourceUsage().maxRSS',
        phases: [],
        phaseWalls: [],
      })),
    };

    // Rounds: node -e 0, then every variant (describe, listRegions), then the bare SDK; the
    // starting point rotates each round so no process always runs first.
    type Step = () => Promise<void>;
    const steps: Step[] = [
      async () => void result.baseline.wall.push(await runBaseline()),
      ...result.variants.flatMap((entry): Step[] => [
        async () => {
          const { ms, rss } = await runAction(entry.variant, 'describe');
          entry.describe.push(ms);
          childRss.get(entry.variant)?.push(rss);
        },
        async () => void entry.listRegions.push((await runAction(entry.variant, 'listRegions')).ms),
      ]),
      async () => void result.sdk.wall.push(await runSdk()),
    ];
    for (let round = 0; round < options.rounds; round++) {
      options.progress(`cold start: round ${round + 1}/${options.rounds}`);
      for (let i = 0; i < steps.length; i++) await steps[(round + i) % steps.length]();
    }

    // Peak RSS: whole-process figures from GNU time, for node -e 0 and each variant alike.
    options.progress('cold start: peak RSS');
    for (let run = 0; run < options.rssRuns; run++) {
      if (tools.gnuTime) {
        result.baseline.rssKiB.push(await peakRssKiB(tools.gnuTime, tools.node, ['-e', '0'], { env: baseEnv, timeoutMs: TIMEOUT_MS }));
        for (const entry of result.variants) {
          const env = { ...baseEnv, BENCH_INPUT: JSON.stringify(inputFor(entry.variant, 'describe')) };
          entry.rssKiB.push(await peakRssKiB(tools.gnuTime, tools.node, ['-e', ACTION_CHILD], { env, timeoutMs: TIMEOUT_MS }));
        }
      } else {
        const probe = `process.on('exit',()=>process.stderr.write('\\n${RSS_MARK}'+process.resourceUsage().maxRSS+'\\n'))`;
        const run0 = await timed(tools.node, ['-e', probe], { env: baseEnv, timeoutMs: TIMEOUT_MS });
        result.baseline.rssKiB.push(marked<number>(run0.stderr, RSS_MARK));
      }
    }
    if (!tools.gnuTime) for (const entry of result.variants) entry.rssKiB = childRss.get(entry.variant) ?? [];

    // The breakdown, from separate instrumented runs (the timed runs above carry no probes).
    options.progress(`cold start: ${options.phaseRuns} instrumented runs per variant for the breakdown`);
    if (options.cpuProfDir) await fs.mkdir(options.cpuProfDir, { recursive: true });
    const profArgs = (name: string): string[] =>
      options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(options.cpuProfDir), '--cpu-prof-name', `${name}-${Date.now()}.cpuprofile`] : [];
    for (let run = 0; run < options.phaseRuns; run++) {
      const bare = await timed(tools.node, ['-e', BARE_PHASE_CHILD], { env: baseEnv, timeoutMs: TIMEOUT_MS });
      result.baseline.phases.push(marked<Phases>(bare.stderr, PHASES_MARK));
      result.baseline.phaseWalls.push(bare.ms);
      for (const [index, entry] of result.variants.entries()) {
        const input = inputFor(entry.variant, 'describe');
        const child = await timed(tools.node, [...profArgs(`variant${index}`), '-e', PHASE_CHILD], {
          env: { ...baseEnv, BENCH_INPUT: JSON.stringify(input) },
          timeoutMs: TIMEOUT_MS,
        });
        entry.phases.push(marked<Phases>(child.stderr, PHASES_MARK));
        entry.phaseWalls.push(child.ms);
      }
      const sdkChild = await timed(tools.node, [...profArgs('sdk'), '-e', SDK_CHILD], {
        env: { ...baseEnv, BENCH_INPUT: JSON.stringify(sdkInput) },
        timeoutMs: TIMEOUT_MS,
      });
      result.sdk.phases.push(marked<Phases>(sdkChild.stderr, PHASES_MARK));
      result.sdk.phaseWalls.push(sdkChild.ms);
    }
    return result;
  } finally {
    await ecr.stop();
  }
}
