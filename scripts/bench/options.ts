/** Command-line flags (and BENCH_* environment variables) of `npm run bench`. */

export type Section = 'push' | 'cold' | 'scale';
export const SECTIONS: readonly Section[] = ['push', 'cold', 'scale'];

export interface BenchOptions {
  /** Alternating A/B pairs per push comparison. */
  pairs: number;
  /** Rounds of the cold-start comparison (each: node -e 0 and every plugin variant once). */
  coldPairs: number;
  /** Instrumented cold runs per variant, for the phase breakdown. */
  phaseRuns: number;
  /** Untimed runs under /usr/bin/time per process kind, for peak RSS. */
  rssRuns: number;
  /** Alternating pairs at 10,000 repositories (after warm-up); smaller counts get up to 5× as many. */
  scalePairs: number;
  /** Push image sizes in MiB. */
  sizesMiB: number[];
  /** Repository counts for the scale section. */
  scaleCounts: number[];
  sections: Section[];
  /** Also build the proposed esbuild bundle and measure it beside config.json's main. */
  bundle: boolean;
  /** Raw samples as JSON, when set. */
  jsonFile?: string;
  /** Write V8 CPU profiles of the instrumented cold runs here, when set. */
  cpuProfDir?: string;
  /** Hard bound for the whole run; it stops itself after this. */
  maxMinutes: number;
  /** Another build to measure instead of config.json's main (e.g. an experiment). */
  main?: string;
  /** More builds to measure beside it, in the same rounds (cold start; push against raw docker). */
  also: string[];
  /** Print the report of a run saved with --json, and measure nothing. */
  render?: string;
}

const USAGE = `usage: npm run bench [-- options]
  --pairs N          alternating A/B pairs per push comparison (default 5; env BENCH_PAIRS)
  --cold-pairs N     cold-start rounds (default 20; env BENCH_COLD_PAIRS)
  --phase-runs N     instrumented cold runs per variant for the breakdown (default 5)
  --rss-runs N       runs under /usr/bin/time for peak RSS (default 3)
  --scale-pairs N    pairs at 10,000 repositories, up to 5x more for fewer (default 21; env BENCH_SCALE_PAIRS)
  --sizes A,B        push image sizes in MiB (default 1,100; env BENCH_SIZES)
  --scale A,B,C      repository counts (default 100,1000,10000; env BENCH_SCALE)
  --only S,S         sections to run: push, cold, scale (default all; env BENCH_ONLY)
  --quick            1 MiB push only, 10 cold rounds, scale 100,1000 (pairs stay as given)
  --no-bundle        do not build and measure the proposed esbuild bundle
  --json FILE        also write every sample as JSON
  --cpu-prof DIR     write V8 CPU profiles of the instrumented cold runs to DIR
  --max-minutes N    stop (and clean up) after N minutes (default 25)
  --main FILE        measure this module instead of config.json's main (default: config.json)
  --also FILE        also measure this build beside it, in the same rounds (repeatable)
  --render FILE      print the report of a run saved with --json (measures nothing)`;

function positiveInteger(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new Error(`${name} expects a whole number from 1 to 10000, got ${JSON.stringify(value)}`);
  return n;
}

function list(name: string, value: string | undefined, max: number): number[] {
  const items = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new Error(`${name} expects a comma-separated list of numbers`);
  return items.map((item) => {
    const n = Number(item);
    if (!Number.isFinite(n) || n <= 0 || n > max) throw new Error(`${name}: ${JSON.stringify(item)} is not a number in (0, ${max}]`);
    return n;
  });
}

function sections(value: string | undefined): Section[] {
  const names = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of names) {
    if (!SECTIONS.includes(name as Section)) throw new Error(`--only: unknown section ${JSON.stringify(name)} (push, cold, scale)`);
  }
  return names as Section[];
}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const options: BenchOptions = {
    pairs: env.BENCH_PAIRS ? positiveInteger('BENCH_PAIRS', env.BENCH_PAIRS) : 5,
    coldPairs: env.BENCH_COLD_PAIRS ? positiveInteger('BENCH_COLD_PAIRS', env.BENCH_COLD_PAIRS) : 20,
    phaseRuns: 5,
    rssRuns: 3,
    scalePairs: env.BENCH_SCALE_PAIRS ? positiveInteger('BENCH_SCALE_PAIRS', env.BENCH_SCALE_PAIRS) : 21,
    sizesMiB: env.BENCH_SIZES ? list('BENCH_SIZES', env.BENCH_SIZES, 2048) : [1, 100],
    scaleCounts: env.BENCH_SCALE ? list('BENCH_SCALE', env.BENCH_SCALE, 100_000) : [100, 1_000, 10_000],
    sections: env.BENCH_ONLY ? sections(env.BENCH_ONLY) : [...SECTIONS],
    bundle: true,
    maxMinutes: 25,
    also: [],
  };
  const explicit = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} expects a value\n${USAGE}`);
      return next;
    };
    explicit.add(arg);
    switch (arg) {
      case '--pairs': options.pairs = positiveInteger(arg, value()); break;
      case '--cold-pairs': options.coldPairs = positiveInteger(arg, value()); break;
      case '--phase-runs': options.phaseRuns = positiveInteger(arg, value()); break;
      case '--rss-runs': options.rssRuns = positiveInteger(arg, value()); break;
      case '--scale-pairs': options.scalePairs = positiveInteger(arg, value()); break;
      case '--sizes': options.sizesMiB = list(arg, value(), 2048); break;
      case '--scale': options.scaleCounts = list(arg, value(), 100_000).map(Math.round); break;
      case '--only': options.sections = sections(value()); break;
      case '--quick': break;
      case '--no-bundle': options.bundle = false; break;
      case '--json': options.jsonFile = value(); break;
      case '--cpu-prof': options.cpuProfDir = value(); break;
      case '--max-minutes': options.maxMinutes = positiveInteger(arg, value()); break;
      case '--main': options.main = value(); break;
      case '--also': options.also.push(value()); break;
      case '--render': options.render = value(); break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    }
  }
  if (explicit.has('--quick')) {
    if (!explicit.has('--sizes')) options.sizesMiB = [1];
    if (!explicit.has('--cold-pairs')) options.coldPairs = 10;
    if (!explicit.has('--scale')) options.scaleCounts = [100, 1_000];
  }
  if (options.sections.length === 0) throw new Error('--only: name at least one section');
  return options;
}
