/**
 * `npm run bench`: the plugin against what users would use instead, on the kit's local stand-ins:
 * push vs the raw docker CLI and the AWS CLI pipeline, tagImage vs docker and the AWS CLI, copyImage
 * vs docker and skopeo, cold start with its breakdown, and scale. Medians; markdown on stdout,
 * progress on stderr. Not part of `npm test`. Bounded by --max-minutes; what it starts and makes is
 * removed at the end. BENCHMARKS.md holds the latest run.
 */
import { existsSync, promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../devkit/agent';
import { parseCommandLine, UsageError } from '../devkit/cli-args';
import { dockerServerVersion } from '../devkit/docker-engine';
import { startLocalStack, type LocalStack } from '../devkit/local-stack';
import { coldStart } from './bench/cold';
import { copy } from './bench/copy';
import { push } from './bench/push';
import { scale } from './bench/scale';
import { tag } from './bench/tag';
import { ensureBuilt } from './build';

const USAGE = `usage: npm run bench [-- options]
  --only push,tag,copy,cold,scale  sections to run (default: all; cold and scale need no Docker)
  --pairs N                alternating pairs per push size, rounds of copy (default 5)
  --sizes 1,100            push image sizes in MiB (default 1,100)
  --tag-mib N              size of the image tagImage tags (default 100)
  --copy-mib 25,100        layer sizes of the 4-layer image copyImage copies, a table each (default 25,100)
  --quick                  3 pairs, 1 MiB only, 10 cold rounds, scale up to 1,000, tag 10 MiB, copy 25 MiB layers
  --max-minutes N          stop after N minutes (default 25)`;

const started = Date.now();
const progress = (line: string): void => void process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

function numbers(text: string | undefined, fallback: number[], what: string): number[] {
  const values = text?.split(',').map(Number) ?? fallback;
  if (values.some((n) => !Number.isInteger(n) || n <= 0)) throw new UsageError(`${what} expects positive whole numbers, comma-separated`);
  return values;
}

function options(argv: string[]) {
  const flags = { only: { type: 'string' }, pairs: { type: 'string' }, sizes: { type: 'string' }, 'tag-mib': { type: 'string' }, 'copy-mib': { type: 'string' }, 'max-minutes': { type: 'string' } } as const;
  const commandLine = parseCommandLine(argv, { ...flags, quick: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, 'npm run bench -- --help');
  if (commandLine.has('help')) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = commandLine.has('quick');
  const sections = ['push', 'tag', 'copy', 'cold', 'scale'];
  const only = commandLine.last('only')?.split(',') ?? sections;
  if (only.some((s) => !sections.includes(s))) throw new UsageError(`--only takes ${sections.join(', ')}`);
  return {
    only,
    pairs: numbers(commandLine.last('pairs'), [quick ? 3 : 5], '--pairs')[0],
    sizesMiB: numbers(commandLine.last('sizes'), quick ? [1] : [1, 100], '--sizes'),
    tagMiB: numbers(commandLine.last('tag-mib'), [quick ? 10 : 100], '--tag-mib')[0],
    copyLayerMiB: numbers(commandLine.last('copy-mib'), quick ? [25] : [25, 100], '--copy-mib'),
    coldRounds: quick ? 10 : 20,
    scaleCounts: quick ? [100, 1000] : [100, 1000, 10_000],
    maxMinutes: numbers(commandLine.last('max-minutes'), [25], '--max-minutes')[0],
  };
}

async function main(): Promise<void> {
  const chosen = options(process.argv.slice(2));
  await ensureBuilt(REPO_ROOT, progress);
  const cleanups: Array<() => Promise<void>> = [];
  let cleaning: Promise<void> | undefined; // one clean-up, however many ask for it
  const cleanUp = (): Promise<void> =>
    (cleaning ??= (async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((e: unknown) => progress(`cleanup: ${String(e)}`));
    })());
  const deadline = setTimeout(() => {
    progress(`stopping: over --max-minutes ${chosen.maxMinutes}`);
    void cleanUp().finally(() => process.exit(2));
  }, chosen.maxMinutes * 60_000);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void cleanUp().finally(() => process.exit(130))); // on: Ctrl-C may come twice

  try {
    // TMPDIR of the run's own: the plugin's private docker configs land there, out of others' way.
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kbench-'));
    process.once('exit', () => rmSync(tmp, { recursive: true, force: true })); // also when an interrupt ends the run early
    process.env.TMPDIR = tmp;
    const sections: string[] = [];
    // Cold start and scale first, before an engine runs beside them.
    if (chosen.only.includes('cold')) sections.push(`### Cold start\n\n${await coldStart(chosen.coldRounds, progress)}`);
    if (chosen.only.includes('scale')) sections.push(`### Scale\n\n${await scale(chosen.scaleCounts, 5, progress)}`);
    let stack: LocalStack | undefined;
    if (['push', 'tag', 'copy'].some((section) => chosen.only.includes(section))) {
      progress('Docker engine (the running one, else a private dockerd), ECR endpoint and a registry per account');
      const started = await startLocalStack({ docker: true, accounts: 2 });
      stack = started;
      cleanups.push(() => started.stop());
      const aws = process.env.BENCH_AWS ?? (existsSync('/usr/bin/aws') ? '/usr/bin/aws' : undefined);
      if (chosen.only.includes('push')) {
        sections.push(`### Push\n\n${await push(started, { pairs: chosen.pairs, sizesMiB: chosen.sizesMiB, aws, progress })}`);
      }
      if (chosen.only.includes('tag')) {
        sections.push(`### tagImage\n\n${await tag(started, { rounds: chosen.pairs, sizeMiB: chosen.tagMiB, aws, progress })}`);
      }
      if (chosen.only.includes('copy')) sections.push(`### copyImage\n\n${await copy(started, { rounds: chosen.pairs, layerMiB: chosen.copyLayerMiB, progress })}`);
    }

    const engine = stack?.engine ? `; Docker engine ${(await dockerServerVersion(stack.engine.env.DOCKER_HOST)) ?? '?'}${stack.engine.started ? ' (a private dockerd, vfs)' : ''}` : '';
    const header = [
      `Run of ${new Date().toISOString()} (${((Date.now() - started) / 60_000).toFixed(1)} min): \`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\``,
      `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at the end; node ${process.version}${engine}.`,
      'Medians, with (min–max).',
    ].join('\n');
    process.stdout.write(`${[header, ...sections].join('\n\n')}\n`);
  } finally {
    clearTimeout(deadline);
    await cleanUp();
  }
}

main().then(
  () => progress('done'),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
