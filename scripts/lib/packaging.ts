/**
 * Builds the installable plugin zip, `kaholo-plugin-ecr-<version>.zip`: a flat archive (files at
 * the zip's root) holding what the Kaholo agent needs at run time and nothing else:
 *
 *   config.json   the manifest, as is
 *   package.json  trimmed to what the agent reads (name, version, main, engines, …): no dependencies
 *   dist/**       the plugin built afresh from src/ (so no stale file of an old build ships), with
 *                 every third-party module it runs bundled in: to install is to unzip
 *   THIRD-PARTY-NOTICES.txt  the licences of what dist/ bundles (from the build's metafile)
 *   README.md, CHANGELOG.md, LICENSE, logo.png
 *
 * The archive is deterministic: entries sorted by name, one fixed timestamp, fixed modes, so the
 * same sources give the same bytes (and the same sha256).
 */
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { buildPlugin } from '../build';
import { NOTICES_FILE } from './third-party-notices';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Files copied from the repository root as they are; a missing one fails the packaging. */
const REQUIRED_ROOT_FILES = ['config.json', 'README.md', 'CHANGELOG.md', 'LICENSE', 'logo.png'];
/**
 * The package.json fields the installed plugin keeps. No dependencies of any kind: dist/ bundles
 * all the code it runs, so nothing is installed on the agent (scripts and devDependencies are for
 * building it).
 */
const PACKAGE_FIELDS = ['name', 'version', 'description', 'main', 'license', 'private', 'engines'];

/**
 * One timestamp for every entry. Built from local-time fields on purpose: zip (DOS) timestamps are
 * local time, so this gives the same bytes in every time zone; `forceDosTimestamp` leaves out the
 * UTC "extended timestamp" field that would differ.
 */
const FIXED_MTIME = new Date(2000, 0, 1, 0, 0, 0);
const FILE_MODE = 0o100644;

export interface PackageOptions {
  /** The project to package; default: this repository. */
  root?: string;
  /** Where the zip goes; default: `root`. */
  outDir?: string;
}

export interface PackageEntry {
  name: string;
  size: number;
}

export interface PackageResult {
  /** Absolute path of the zip. */
  file: string;
  version: string;
  entries: PackageEntry[];
  bytes: number;
  sha256: string;
}

interface PackageJson {
  name?: string;
  version?: string;
  main?: string;
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}

interface ConfigJson {
  version?: string;
  main?: string;
  imgUrl?: string;
}

async function readJson<T>(file: string): Promise<T> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new Error(`${path.basename(file)} is missing (looked for ${file})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** The one version of the plugin; fails when config.json and package.json disagree. */
export async function checkVersions(root = REPO_ROOT): Promise<string> {
  const config = await readJson<ConfigJson>(path.join(root, 'config.json'));
  const pkg = await readJson<PackageJson>(path.join(root, 'package.json'));
  if (typeof config.version !== 'string' || config.version === '') throw new Error('config.json has no "version"');
  if (config.version !== pkg.version) {
    throw new Error(
      `config.json says version ${JSON.stringify(config.version)} but package.json says ${JSON.stringify(pkg.version)}: ` +
        'they must be one number (Kaholo shows config.json\'s, npm uses package.json\'s)',
    );
  }
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(config.version)) {
    throw new Error(`version ${JSON.stringify(config.version)} is not a semantic version such as 2.0.0`);
  }
  return config.version;
}

/** package.json as the installed plugin needs it: no scripts, no dependencies of any kind. */
export function trimPackageJson(pkg: PackageJson): PackageJson {
  const trimmed: PackageJson = {};
  for (const field of PACKAGE_FIELDS) {
    if (pkg[field] !== undefined) trimmed[field] = pkg[field];
  }
  return trimmed;
}

export function zipFileName(version: string): string {
  return `kaholo-plugin-ecr-${version}.zip`;
}

/** Compiles src/ with the build configuration into a fresh directory; returns it. */
async function compileFresh(root: string): Promise<string> {
  const outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'plugin-package-build-'));
  try {
    await buildPlugin(outDir, root);
  } catch (error) {
    await fs.rm(outDir, { recursive: true, force: true });
    throw new Error(`building the plugin failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return outDir;
}

/** Files under `dir`, as sorted relative paths with forward slashes. */
async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await listFiles(path.join(dir, entry.name), relative)));
    else if (entry.isFile()) files.push(relative);
  }
  return files.sort();
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then((s) => s.isFile()).catch(() => false);
}

/** Writes the zip and returns what it holds. */
export async function buildPackage(options: PackageOptions = {}): Promise<PackageResult> {
  const root = path.resolve(options.root ?? REPO_ROOT);
  const outDir = path.resolve(options.outDir ?? root);
  const version = await checkVersions(root);
  const config = await readJson<ConfigJson>(path.join(root, 'config.json'));
  const pkg = await readJson<PackageJson>(path.join(root, 'package.json'));
  if (!config.main) throw new Error('config.json has no "main"');
  if (pkg.main !== undefined && pkg.main !== config.main) {
    throw new Error(`config.json's main (${config.main}) and package.json's main (${pkg.main}) differ`);
  }
  const main = path.posix.normalize(config.main);
  if (!main.startsWith('dist/')) throw new Error(`config.json's main (${config.main}) must be under dist/, where the build goes`);
  if (config.imgUrl !== undefined && !REQUIRED_ROOT_FILES.includes(config.imgUrl)) {
    throw new Error(`config.json's imgUrl (${config.imgUrl}) is not one of the files packaged (${REQUIRED_ROOT_FILES.join(', ')})`);
  }

  const contents = new Map<string, Buffer>();
  for (const name of REQUIRED_ROOT_FILES) {
    const file = path.join(root, name);
    if (!(await exists(file))) throw new Error(`${name} is missing at ${root}: the plugin package needs it`);
    contents.set(name, await fs.readFile(file));
  }
  contents.set('package.json', Buffer.from(`${JSON.stringify(trimPackageJson(pkg), null, 2)}\n`));

  const compiled = await compileFresh(root);
  try {
    for (const relative of await listFiles(compiled)) {
      // The notices go at the root, beside LICENSE, where a reader of the zip looks for them.
      contents.set(relative === NOTICES_FILE ? NOTICES_FILE : `dist/${relative}`, await fs.readFile(path.join(compiled, relative)));
    }
  } finally {
    await fs.rm(compiled, { recursive: true, force: true });
  }
  if (!contents.has(main)) throw new Error(`the build produced no ${main} (config.json's main)`);

  const names = [...contents.keys()].sort();
  const zip = new yazl.ZipFile();
  for (const name of names) {
    zip.addBuffer(contents.get(name) as Buffer, name, { mtime: FIXED_MTIME, mode: FILE_MODE, forceDosTimestamp: true, compress: true });
  }
  zip.end();

  await fs.mkdir(outDir, { recursive: true });
  const file = path.join(outDir, zipFileName(version));
  // Written beside the target and renamed: a reader never sees half a zip.
  const partial = `${file}.${process.pid}.partial`;
  try {
    await pipeline(zip.outputStream, createWriteStream(partial));
    await fs.rename(partial, file);
  } catch (error) {
    await fs.rm(partial, { force: true });
    throw error;
  }
  const bytes = await fs.readFile(file);
  return {
    file,
    version,
    entries: names.map((name) => ({ name, size: (contents.get(name) as Buffer).length })),
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}
