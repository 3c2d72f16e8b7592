/**
 * Builds the shipped plugin into an output directory (default dist/), the one
 * definition of the build that `npm run build` and the zip both use.
 *
 * tsc compiles src/ one file per module; esbuild then bundles the entry with
 * what it loads eagerly (one file to require; listRegions loads nothing
 * heavy), and replaces the modules the methods load lazily (the AWS SDK side,
 * the docker side, the role and proxy code and the SDK's default credential
 * chain that only some actions need, and the lock's proper-lockfile) with
 * bundles, so dist/ holds all the code it runs (no node_modules on the agent):
 * taking the SDK's ES build lets esbuild drop what ECR does not use, which cuts
 * the cold start of every action (BENCHMARKS.md has the figures).
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import execa from 'execa';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { checkSelfContained } from './lib/dist-graph';
import { noticesFromMetafile, NOTICES_FILE } from './lib/third-party-notices';

const ROOT = path.resolve(__dirname, '..');
/** The modules that use third-party code, each replaced by a bundle of it and what it imports. */
const BUNDLED_MODULES = [
  'src/ecr-client.ts',
  // The docker side of push and pull, all of it (execa, the lock's proper-lockfile): one file to load.
  'src/image-transfer.ts',
  'src/assume-role.ts',
  'src/proxy-agent.ts',
  'src/credential-chain.ts',
  // The lock and its proper-lockfile: shared by the docker side and copyImage's tags.
  'src/transfer-lock.ts',
];

/**
 * The SDK's default credential chain is imported by the ECR client and the role code, but only an
 * action with no keys uses it: everywhere but in its own bundle (credential-chain.js), the import
 * goes to a stand-in that loads that bundle when first asked for credentials.
 */
const lazyCredentialChain: Plugin = {
  name: 'lazy-credential-chain',
  setup(build) {
    build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, (args) =>
      args.importer.endsWith(path.join('src', 'credential-chain.ts')) ? undefined : { path: path.join(build.initialOptions.absWorkingDir ?? ROOT, 'src', 'default-credentials.ts') },
    );
  },
};

/**
 * The modules of src/ that stay files of their own at the top of dist/ (bundles, and what the
 * methods load lazily), each by its source path and its file there: a bundle requires them at run
 * time by that file, whichever folder of src/ the import is written in (an import from src/methods/
 * says '../errors', dist/app.js needs './errors').
 */
function keptApart(modules: Record<string, string>): Plugin {
  return {
    name: 'kept-apart',
    setup(build) {
      const src = path.join(build.initialOptions.absWorkingDir ?? ROOT, 'src');
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const module = path.relative(src, path.resolve(args.resolveDir, args.path)).split(path.sep).join('/').replace(/\.[jt]s$/, '');
        return modules[module] !== undefined ? { path: `./${modules[module]}`, external: true } : undefined;
      });
    },
  };
}

/** Modules kept apart under their own names. */
const flat = (modules: string[]): Record<string, string> => Object.fromEntries(modules.map((module) => [module, module]));

/** How esbuild bundles for the agent. */
const BUNDLE_OPTIONS: BuildOptions = {
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
  const { metafile } = await build({
    ...BUNDLE_OPTIONS,
    absWorkingDir: root,
    entryPoints: BUNDLED_MODULES,
    metafile: true,
    outdir: outDir,
    allowOverwrite: true,
    // One PluginError class for the whole plugin, so instanceof holds across modules; the role and
    // proxy bundles stay separate files, loaded only by the actions that need them; one code cache.
    external: ['./errors', './assume-role', './proxy-agent', './code-cache', './credential-chain', './transfer-lock'],
    plugins: [lazyCredentialChain],
  });
  // The entry and what it loads eagerly as one file: require() of main reads one module, not fifteen.
  // What the methods load later stays outside it (so listRegions loads no SDK), and so does errors.js.
  await build({
    ...BUNDLE_OPTIONS,
    absWorkingDir: root,
    entryPoints: ['src/app.ts'],
    outdir: outDir,
    allowOverwrite: true,
    minify: false,
    plugins: [keptApart({ ...flat(['errors', 'code-cache', 'ecr-client', 'image-transfer', 'repository-creation', 'image-tagging']), 'copy/copy-session': 'copy-session' })],
  });
  // copyImage's registry side (src/copy/, src/registry-http/) as one file at the top of dist/, loaded when a copy starts.
  await build({
    ...BUNDLE_OPTIONS,
    absWorkingDir: root,
    entryPoints: [{ in: 'src/copy/copy-session.ts', out: 'copy-session' }],
    outdir: outDir,
    allowOverwrite: true,
    plugins: [keptApart(flat(['errors', 'transfer-lock', 'proxy-agent', 'code-cache']))],
  });
  // dist/ must run with no node_modules anywhere: every require() it can reach resolves inside it.
  await checkSelfContained(outDir, 'app.js');
  await fs.writeFile(path.join(outDir, NOTICES_FILE), await noticesFromMetafile(metafile, root));
}

/** What the build reads: when any of it is newer than the built entry, the build is stale. */
const BUILD_INPUTS = ['src', 'config.json', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.ts'];

async function newestMtime(file: string): Promise<number> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  const entries = await fs.readdir(file);
  const times = await Promise.all(entries.map((entry) => newestMtime(path.join(file, entry))));
  return Math.max(stat.mtimeMs, ...times);
}

/** Builds dist/ when it is missing or older than what it is built from; says so when it does. */
export async function ensureBuilt(root = ROOT, say: (line: string) => void = () => undefined): Promise<void> {
  const built = await fs.stat(path.join(root, 'dist', 'app.js')).then((s) => s.mtimeMs, () => 0);
  const inputs = await Promise.all(BUILD_INPUTS.map((input) => newestMtime(path.join(root, input))));
  if (built > Math.max(...inputs)) return;
  say(built === 0 ? 'building dist/ (npm run build)…' : 'src/ changed since the last build: building dist/…');
  try {
    await buildPlugin(path.join(root, 'dist'), root);
  } catch (error) {
    await fs.rm(path.join(root, 'dist', 'app.js'), { force: true }); // so the next run builds again
    throw error;
  }
}

if (require.main === module) {
  const outDir = path.resolve(process.argv[2] ?? path.join(ROOT, 'dist'));
  buildPlugin(outDir).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
