/**
 * Builds the shipped plugin into an output directory (default dist/), the one
 * definition of the build that `npm run build` and the zip both use.
 *
 * tsc compiles src/ one file per module, so the entry stays small and
 * listRegions loads nothing heavy. esbuild then replaces the modules the
 * methods load lazily (the AWS SDK side, the docker side, and the role and
 * proxy code that only some actions need) with bundles:
 * taking the SDK's ES build lets esbuild drop what ECR does not use, which cuts
 * the cold start of every action (see BENCHMARKS.md for the figures).
 */
import { build, type BuildOptions } from 'esbuild';
import execa from 'execa';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const LAZY_MODULES = ['src/ecr-client.ts', 'src/docker-cli.ts', 'src/assume-role.ts', 'src/proxy-agent.ts'];

/** How esbuild bundles for the agent; the benchmark builds its comparison bundles the same way. */
export const BUNDLE_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  // The SDK's ES modules, not its CommonJS build: only they let esbuild leave out unused code.
  mainFields: ['module', 'main'],
  minify: true,
  // Class names as in the source: the SDK compares constructor names in places.
  keepNames: true,
  legalComments: 'none',
  // The SDK imports node:http with import(); as require() it also works where import() is not allowed (jest's vm).
  supported: { 'dynamic-import': false },
  logLevel: 'warning',
};

export async function buildPlugin(outDir: string, root = ROOT): Promise<void> {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  await execa(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: root, stdio: 'inherit' });
  await build({
    ...BUNDLE_OPTIONS,
    absWorkingDir: root,
    entryPoints: LAZY_MODULES,
    outdir: outDir,
    allowOverwrite: true,
    // One PluginError class for the whole plugin, so instanceof holds across modules; the role and
    // proxy bundles stay separate files, loaded only by the actions that need them.
    external: ['./errors', './assume-role', './proxy-agent'],
  });
}

if (require.main === module) {
  const outDir = path.resolve(process.argv[2] ?? path.join(ROOT, 'dist'));
  buildPlugin(outDir).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
