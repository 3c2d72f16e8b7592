/**
 * `npm run bench` (issue 6): the plugin measured against what users would use instead, side by
 * side in one run, on this machine, against the local stand-ins for AWS (test/support): the local
 * ECR API endpoint, a real registry behind its tokens, and a Docker engine (the running one, or a
 * private dockerd started here and stopped at the end).
 *
 *   push   one pushImgaeToRepo action in a fresh node process vs the raw docker CLI sequence
 *          (token in hand), and vs the AWS CLI pipeline (`aws ecr get-login-password | docker
 *          login ...`); ~1 MiB and ~100 MiB images of random bytes, a fresh image every run
 *   cold   a fresh process running describeRepositories for one page vs `node -e 0`: wall time,
 *          peak RSS, and where the time goes; also the proposed esbuild bundle beside the build
 *   scale  describeRepositories over 100, 1,000 and 10,000 repositories vs a bare SDK paginator
 *
 * Not part of `npm test`. Medians over alternating pairs (A B A B ...); a markdown report on
 * stdout, progress on stderr. Every process is started with an argument array (no shell); secrets
 * travel through the environment or stdin, never argv; everything listens on 127.0.0.1; the run
 * is bounded (--max-minutes) and removes what it made. See BENCHMARKS.md for a recorded run.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDockerEngine, type DockerEngine } from '../devkit/docker-engine';
import { startLocalEcr, type LocalEcr } from '../devkit/local-ecr';
import { registryAvailability, startRegistry } from '../devkit/registry';
import { buildBundles, givenVariant, shippedVariant, type Bundles, type Variant } from './bench/bundle';
import { runColdStart } from './bench/cold';
import { parseOptions, type BenchOptions } from './bench/options';
import { runPush, type Opponent } from './bench/push';
import { render, type Results } from './bench/report';
import { runScale } from './bench/scale';
import { findTools, manifestMain, usePrivateTmpdir, versions } from './bench/tools';

const started = Date.now();
function progress(line: string): void {
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
}

/** What has to be stopped or removed, whichever way the run ends. */
const cleanups: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => progress(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`));
    }
  })();
  return cleaning;
}

/** The report of a run saved with --json, printed again (by the current renderer). */
async function renderSaved(file: string): Promise<void> {
  // Dates were written as ISO strings.
  const saved = JSON.parse(await fs.readFile(file, 'utf8')) as Results;
  saved.meta.startedAt = new Date(saved.meta.startedAt);
  if (saved.meta.finishedAt !== undefined) saved.meta.finishedAt = new Date(saved.meta.finishedAt);
  process.stdout.write(`${render(saved)}\n`);
}

async function main(argv: string[]): Promise<void> {
  const options: BenchOptions = parseOptions(argv);
  if (options.render !== undefined) return renderSaved(options.render);
  const deadline = setTimeout(() => {
    progress(`stopping: the run exceeded --max-minutes ${options.maxMinutes}`);
    void cleanUp().finally(() => process.exit(2));
  }, options.maxMinutes * 60_000);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      progress(`${signal}: cleaning up`);
      void cleanUp().finally(() => process.exit(130));
    });
  }

  try {
    const tmp = await usePrivateTmpdir();
    cleanups.push(() => tmp.remove());
    const tools = await findTools();
    const mainModule = manifestMain(options.main);
    const shipped = await shippedVariant(mainModule);
    const notes: string[] = [];
    const results: Results = {
      meta: {
        startedAt: new Date(),
        command: `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
        cores: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown CPU',
        loadAtStart: os.loadavg(),
        versions: await versions(tools, undefined),
        variants: [shipped],
        pairs: options.pairs,
        notes,
      },
    };
    if (options.pairs < 5) notes.push(`--pairs ${options.pairs}: fewer than the 5 pairs issue 6 asks for`);
    progress(`plugin main: ${mainModule.relative}; sections: ${options.sections.join(', ')}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

    let bundles: Bundles | undefined;
    if (options.bundle && options.sections.some((s) => s === 'cold' || s === 'push')) {
      progress('building the proposed esbuild bundle(s) in a temporary directory');
      bundles = await buildBundles(['tsc', 'single']);
      const built = bundles;
      cleanups.push(() => built.remove());
      results.meta.variants.push(...bundles.variants);
    }
    for (const file of options.also) {
      const absolute = path.resolve(file);
      results.meta.variants.push(await givenVariant(`--also ${path.relative(process.cwd(), absolute)}`, absolute));
    }
    const variants: Variant[] = results.meta.variants;

    // Cold start first, while no engine is running yet.
    if (options.sections.includes('cold')) {
      results.cold = await runColdStart(tools, variants, {
        rounds: options.coldPairs,
        phaseRuns: options.phaseRuns,
        rssRuns: options.rssRuns,
        cpuProfDir: options.cpuProfDir,
        progress,
      });
    }
    if (options.sections.includes('scale')) {
      results.scale = await runScale(tools, shipped.main, options.scaleCounts, options.scalePairs, progress);
    }
    if (options.sections.includes('push')) {
      const registry = await registryAvailability();
      if (!registry.ok) throw new Error(`push needs a registry: ${registry.reason}`);
      progress('push: Docker engine (the running one, else a private dockerd)');
      const engine: DockerEngine = await ensureDockerEngine();
      cleanups.push(() => engine.stop());
      notes.push(engine.started ? 'Docker engine: a private dockerd (vfs storage driver) started by the bench' : `Docker engine: the running one at ${engine.env.DOCKER_HOST}`);
      results.meta.versions = await versions(tools, engine.env.DOCKER_HOST);
      progress('push: local ECR endpoint and registry');
      const ecr: LocalEcr = await startLocalEcr({ accounts: 1, startRegistry });
      cleanups.push(() => ecr.stop());
      const opponents: Opponent[] = ['docker'];
      if (tools.aws) opponents.push('aws');
      else notes.push('the AWS CLI is not installed (apt-get install awscli): its comparison was skipped');
      const push = await runPush(tools, variants, ecr, engine.env.DOCKER_HOST, {
        pairs: options.pairs,
        sizesMiB: options.sizesMiB,
        opponents,
        phaseRuns: options.phaseRuns,
        progress,
      });
      results.push = push.comparisons;
      results.pushBreakdown = push.breakdown;
    }

    results.meta.finishedAt = new Date();
    results.meta.loadAtEnd = os.loadavg();
    if (options.jsonFile) await fs.writeFile(options.jsonFile, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`${render(results)}\n`);
  } finally {
    clearTimeout(deadline);
    progress('cleaning up');
    await cleanUp();
  }
}

main(process.argv.slice(2)).then(
  () => progress('done'),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
