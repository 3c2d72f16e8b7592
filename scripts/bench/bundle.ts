/**
 * Candidate builds of the shipped entry, made by the benchmark itself in a temporary directory
 * (outside the repository, so a bundle that still needs node_modules fails loudly) and measured
 * beside config.json's main. Nothing here touches dist/ or package.json.
 */
import { build, type BuildOptions } from 'esbuild';
import execa from 'execa';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BUNDLE_OPTIONS } from '../build';
import { REPO_ROOT } from './tools';

export type BundleKind = 'single' | 'tsc';
export const BUNDLE_KINDS: readonly BundleKind[] = ['single', 'tsc'];

export interface Variant {
  /** Short label used in the tables. */
  label: string;
  /** Absolute path of the module the agent would require. */
  main: string;
  /** How it was made, as a command line a person can run. */
  command: string;
  files: number;
  bytes: number;
  /** Problems found in the build (e.g. a module of src/ copied into two bundles). */
  warnings: string[];
}

const COMMON: BuildOptions = { ...BUNDLE_OPTIONS, metafile: true };

/** A dynamic import() left in an output needs the ESM loader at run time and fails under jest or vm. */
async function dynamicImports(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await fs.readdir(dir)) {
    if (name.endsWith('.js') && /\bimport\(/.test(await fs.readFile(path.join(dir, name), 'utf8'))) found.push(name);
  }
  return found.length > 0 ? [`dynamic import() left in ${found.join(', ')}`] : [];
}

async function filesIn(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.js')) continue;
    files++;
    bytes += (await fs.stat(path.join(dir, entry.name))).size;
  }
  return { files, bytes };
}

/** One file: src/app.ts with everything, the SDK and execa included; lazy import()s become lazy inits. */
async function buildSingle(dir: string): Promise<Variant> {
  const outfile = path.join(dir, 'app.js');
  await build({ ...COMMON, absWorkingDir: REPO_ROOT, entryPoints: ['src/app.ts'], outfile });
  return {
    label: 'esbuild single file',
    main: outfile,
    command:
      'esbuild src/app.ts --bundle --platform=node --target=node18 --format=cjs --main-fields=module,main --minify --keep-names --legal-comments=none --supported:dynamic-import=false --outfile=dist/app.js',
    ...(await filesIn(dir)),
    warnings: [],
  };
}

/**
 * The build before bundling, for comparison with the shipped one: tsc's per-file output alone,
 * the AWS SDK and execa loaded from node_modules.
 */
async function buildTscOnly(dir: string): Promise<Variant> {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [REPO_ROOT] });
  await execa(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', dir], {
    cwd: REPO_ROOT,
    stdin: 'ignore',
    timeout: 180_000,
  });
  return {
    label: 'tsc only (no bundles)',
    main: path.join(dir, 'app.js'),
    command: 'tsc -p tsconfig.build.json',
    ...(await filesIn(dir)),
    warnings: [],
  };
}

export interface Bundles {
  variants: Variant[];
  remove(): Promise<void>;
}

export async function buildBundles(kinds: readonly BundleKind[]): Promise<Bundles> {
  // Inside the repository, so that the unbundled build finds the SDK in its node_modules.
  await fs.mkdir(path.join(REPO_ROOT, '.tmp'), { recursive: true });
  const root = await fs.mkdtemp(path.join(REPO_ROOT, '.tmp', 'kbench-bundle-'));
  const remove = (): Promise<void> => fs.rm(root, { recursive: true, force: true });
  try {
    const variants: Variant[] = [];
    for (const kind of kinds) {
      const dir = path.join(root, kind);
      await fs.mkdir(dir);
      const variant = kind === 'single' ? await buildSingle(dir) : await buildTscOnly(dir);
      variant.warnings.push(...(await dynamicImports(dir)));
      variants.push(variant);
    }
    return { variants, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** Any other build given on the command line, described the same way. */
export async function givenVariant(label: string, main: string): Promise<Variant> {
  return { label, main, command: 'given on the command line', ...(await filesIn(path.dirname(main))), warnings: await dynamicImports(path.dirname(main)) };
}

/** config.json's main as built by `npm run build`, described the same way. */
export async function shippedVariant(main: { relative: string; absolute: string; fromManifest: boolean }): Promise<Variant> {
  return {
    label: main.fromManifest ? `config.json main (${main.relative})` : `--main ${main.relative}`,
    main: main.absolute,
    command: main.fromManifest ? 'npm run build' : 'given with --main',
    ...(await filesIn(path.dirname(main.absolute))),
    warnings: [],
  };
}
