/**
 * `npm run package`: writes kaholo-plugin-ecr-<version>.zip at the repository root, the archive
 * to upload to Kaholo. See scripts/lib/packaging.ts for what goes in.
 *
 *   npm run package                      # ./kaholo-plugin-ecr-<version>.zip
 *   npm run package -- --out-dir build   # somewhere else
 */
import path from 'node:path';
import { parseCommandLine, UsageError } from '../devkit/cli-args';
import { buildPackage } from './lib/packaging';

const USAGE = 'usage: npm run package [-- --out-dir DIR]\nWrites kaholo-plugin-ecr-<version>.zip (default: at the repository root).';

function parseArgs(argv: string[]): { outDir?: string } {
  const commandLine = parseCommandLine(argv, { 'out-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, USAGE);
  if (commandLine.has('help')) {
    console.log(USAGE);
    process.exit(0);
  }
  if (commandLine.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(commandLine.positionals[0])}; ${USAGE}`);
  return { outDir: commandLine.last('out-dir') };
}

/** The zip's path: relative when it is under the current directory. */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative === '' || relative.startsWith('..') ? file : relative;
}

function kib(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

async function main(): Promise<void> {
  const started = Date.now();
  const options = parseArgs(process.argv.slice(2));
  const result = await buildPackage({ outDir: options.outDir });
  const width = Math.max(...result.entries.map((e) => e.name.length));
  for (const entry of result.entries) console.log(`  ${entry.name.padEnd(width)}  ${kib(entry.size).padStart(10)}`);
  console.log(
    `\n${shown(result.file)}: version ${result.version}, ${result.entries.length} files, ` +
      `${kib(result.bytes)}, sha256 ${result.sha256} (${Date.now() - started} ms)`,
  );
  console.log('Upload this zip to Kaholo as a plugin; it needs nothing else: the agent installs it by unzipping (no npm install, nothing to download).');
}

main().catch((error: unknown) => {
  console.error(`package: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
