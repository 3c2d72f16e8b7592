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
import { build, type BuildOptions, type ImportKind, type Metafile, type Plugin } from 'esbuild';
import execa from 'execa';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LAZY_BUNDLES } from '../src/agent/lazy-bundles';
import { checkSelfContained } from './lib/dist-graph';
import { noticesFromMetafile, NOTICES_FILE } from './lib/third-party-notices';

const ROOT = path.resolve(__dirname, '..');

/** Modules every bundle shares instead of holding its own copy: one PluginError class (so instanceof holds across bundles), one code cache. */
const SHARED_MODULES = ['errors', 'agent/code-cache'];

/**
 * The SDK's default credential chain is imported by the ECR client and the role code, but only an
 * action with no keys uses it: everywhere but in its own bundle, the import goes to a stand-in
 * (src/aws/default-credentials.ts) that loads that bundle when first asked for credentials.
 */
const lazyCredentialChain = (root: string): Plugin => ({
  name: 'lazy-credential-chain',
  setup(build) {
    build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, (args) =>
      args.importer === sourceFile(root, LAZY_BUNDLES.credentialChain) ? undefined : { path: sourceFile(root, 'aws/default-credentials') },
    );
  },
});

/**
 * Leaves an import of another part of dist/ as a require() of that part, with the path it has from
 * this bundle's own output file (dist/ mirrors src/): the shared modules always, and whatever `apart` says.
 */
const keepApart = (root: string, outModule: string, apart: (target: string, kind: ImportKind) => boolean): Plugin => ({
  name: 'keep-apart',
  setup(build) {
    build.onResolve({ filter: /^\./ }, (args) => {
      const target = path.relative(path.join(root, 'src'), path.resolve(args.resolveDir, args.path)).replace(/\.(ts|js)$/, '');
      if (target.startsWith('..') || (!SHARED_MODULES.includes(target) && !apart(target, args.kind))) return undefined;
      const specifier = path.relative(path.dirname(outModule), target).split(path.sep).join('/');
      return { path: specifier.startsWith('.') ? specifier : `./${specifier}`, external: true };
    });
  },
});

const sourceFile = (root: string, module: string): string => path.join(root, 'src', `${module}.ts`);

/**
 * The proxy libraries log through `debug`, which DEBUG=* on the agent would switch on, printing
 * their requests' headers (the proxy's login among them) past the plugin's redaction: in the
 * bundles it is a stand-in that prints nothing (src/aws/silent-debug.ts).
 */
const silentDebug = (root: string): Plugin => ({
  name: 'silent-debug',
  setup(build) {
    build.onResolve({ filter: /^debug$/ }, () => ({ path: sourceFile(root, 'aws/silent-debug') }));
  },
});

/**
 * The AWS SDK release the plugin pins (the last one for Node 18; DEVELOPMENT.md says why) warns on
 * Node 18 that it will stop supporting it: seven lines in the activity log of every action on the
 * Kaholo agent image's Node 18.17.0. Running on Node 18 is the point of the pin, so that one check
 * is left out of the bundles: its module is replaced by one that never warns. Nothing else about
 * warnings changes (no listener removed, no flag set on the process).
 */
const SDK_NODE_WARNING = /[\\/]@aws-sdk[\\/]core[\\/]dist-es[\\/]submodules[\\/]client[\\/]emitWarningIfUnsupportedVersion\.js$/;
const SDK_NODE_WARNING_TEXT = 'NodeDeprecationWarning';

const quietSdkNodeWarning: Plugin = {
  name: 'quiet-sdk-node-warning',
  setup(build) {
    build.onLoad({ filter: SDK_NODE_WARNING }, () => ({
      contents: 'export const state = { warningEmitted: true };\nexport const emitWarningIfUnsupportedVersion = () => undefined;\n',
      loader: 'js',
    }));
  },
};

/** Fails the build when a bundle could still print the SDK's Node version warning (an SDK that moved it, say). */
async function checkNoSdkNodeWarning(outDir: string): Promise<void> {
  for (const file of await fs.readdir(outDir, { recursive: true })) {
    if (!file.endsWith('.js')) continue;
    if ((await fs.readFile(path.join(outDir, file), 'utf8')).includes(SDK_NODE_WARNING_TEXT)) {
      throw new Error(`${file} can still print the AWS SDK's ${SDK_NODE_WARNING_TEXT}: the build no longer finds the module it replaces (${String(SDK_NODE_WARNING)})`);
    }
  }
}

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
  const bundles: string[] = Object.values(LAZY_BUNDLES);
  // Each lazily loaded module as a bundle of its own (one build each, so each knows where its output
  // lies); the other lazy bundles stay apart, loaded only by the actions that need them.
  const results = await Promise.all(
    bundles.map((bundle) =>
      build({
        ...BUNDLE_OPTIONS,
        absWorkingDir: root,
        entryPoints: [sourceFile(root, bundle)],
        outfile: path.join(outDir, `${bundle}.js`),
        allowOverwrite: true,
        metafile: true,
        plugins: [keepApart(root, bundle, (target) => target !== bundle && bundles.includes(target)), lazyCredentialChain(root), silentDebug(root), quietSdkNodeWarning],
      }),
    ),
  );
  // The entry and what it loads eagerly as one file: require() of main reads one module, not twenty.
  // What the methods load later (every dynamic import) stays outside it, so listRegions loads no SDK.
  await build({
    ...BUNDLE_OPTIONS,
    absWorkingDir: root,
    entryPoints: [sourceFile(root, 'app')],
    outfile: path.join(outDir, 'app.js'),
    allowOverwrite: true,
    minify: false,
    plugins: [keepApart(root, 'app', (target, kind) => kind === 'dynamic-import' || bundles.includes(target))],
  });
  // dist/ must run with no node_modules anywhere: every require() it can reach resolves inside it.
  await checkSelfContained(outDir, 'app.js');
  await checkNoSdkNodeWarning(outDir);
  await fs.writeFile(path.join(outDir, NOTICES_FILE), await noticesFromMetafile(mergeMetafiles(results.map((r) => r.metafile)), root));
}

/** The inputs and outputs of several builds as one metafile (the notices read which packages went in). */
function mergeMetafiles(metafiles: Metafile[]): Metafile {
  return metafiles.reduce((all, one) => ({ inputs: { ...all.inputs, ...one.inputs }, outputs: { ...all.outputs, ...one.outputs } }), { inputs: {}, outputs: {} });
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
