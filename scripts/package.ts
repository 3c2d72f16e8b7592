/**
 * `npm run package`: writes kaholo-plugin-ecr-<version>.zip at the repository root, the archive
 * to upload to Kaholo. See scripts/lib/packaging.ts for what goes in.
 *
 *   npm run package                      # ./kaholo-plugin-ecr-<version>.zip
 *   npm run package -- --out-dir build   # somewhere else
 */
import path from 'node:path';
import { buildPackage } from './lib/packaging';

function parseArgs(argv: string[]): { outDir?: string } {
  const options: { outDir?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--out-dir' && argv[i + 1] !== undefined) options.outDir = argv[++i];
    else if (arg.startsWith('--out-dir=')) options.outDir = arg.slice('--out-dir='.length);
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: npm run package [-- --out-dir DIR]\nWrites kaholo-plugin-ecr-<version>.zip (default: at the repository root).');
      process.exit(0);
    } else throw new Error(`unknown argument ${JSON.stringify(arg)} (usage: npm run package [-- --out-dir DIR])`);
  }
  return options;
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
  console.log('Upload this zip to Kaholo as a plugin; the agent installs its production dependencies from package.json.');
}

main().catch((error: unknown) => {
  console.error(`package: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
