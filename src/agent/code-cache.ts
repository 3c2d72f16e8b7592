import { createHash } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import type { LazyBundle } from './lazy-bundles';

/**
 * Loads a big bundle of dist/ (the SDK side) with a V8 code cache, so that a
 * fresh process does not compile it again: about half its load time. Never
 * needed for correctness: without a usable cache (none yet, another Node.js,
 * a directory the agent may not write, anything unexpected) the bundle is
 * compiled as require() would, and the cache is written for the next action.
 *
 * The cache lives beside the code, in `<dist>/.code-cache` (mode 0700), so it
 * is exactly as trusted as the code it stands for; a file there that is not
 * this user's own is ignored. A cache is named after the bundle's content
 * hash and the Node.js version, and written whole, then renamed into place.
 * Works alike on Node.js 18, 20 and later (vm.Script's cachedData).
 *
 * V8 checks a cache's header (its version, flags and the source's length)
 * but, in release builds, not its payload: a payload damaged on disk, or the
 * cache of another bundle of the same length, would be run as compiled code
 * and crash the process (SIGSEGV) in every action until the file went. So
 * each file starts with a header of its own, the sha256 of the bundle it
 * belongs to and of the payload, checked before V8 sees the payload; a file
 * that fails it is removed, and written again when the process exits.
 */
const CACHE_DIR = '.code-cache';
const MAGIC = Buffer.from('KECC0001', 'latin1');
const HASH_BYTES = 32;
const HEADER_BYTES = MAGIC.length + 2 * HASH_BYTES;

interface NodeModule {
  filename: string;
  paths: string[];
  loaded: boolean;
  exports: unknown;
}
type ModuleInternals = typeof Module & {
  new (id: string, parent?: unknown): NodeModule;
  _cache: Record<string, NodeModule | undefined>;
  _nodeModulePaths(dir: string): string[];
  wrap(source: string): string;
};
const Loader = Module as ModuleInternals;

/** Bundles whose cache this process writes when it exits (what ran by then is in it too), with the hash of each bundle. */
const pending = new Map<string, { script: vm.Script; bundleHash: Buffer }>();

/** How a bundle was loaded: from its code cache, compiled (a cache follows at exit), or not here (already loaded, or no bundle). */
export type CodeCacheUse = 'cached' | 'compiled' | 'skipped';

/**
 * Puts the compiled bundle (e.g. "aws/ecr-client") of the dist/ directory
 * `root` into require()'s cache, compiled with its code cache when one is
 * usable; a later require of it then finds it there. Does nothing when the
 * bundle is not there (the sources run under ts-jest) or is already loaded.
 */
export function preloadWithCodeCache(bundle: LazyBundle, root = path.dirname(__dirname)): CodeCacheUse {
  const file = path.join(root, `${bundle}.js`);
  const dir = path.dirname(file);
  const name = bundle.replace(/\//g, '-');
  if (Loader._cache[file] !== undefined) return 'skipped';
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return 'skipped'; // not a built bundle: require() loads what there is
  }
  const bundleHash = sha256(source);
  const cacheFile = path.join(root, CACHE_DIR, `${name}-${bundleHash.toString('hex').slice(0, 20)}-${process.version}-${process.arch}.bin`);
  const cachedData = checkedPayload(readOwnFile(cacheFile), bundleHash, cacheFile);
  const script = new vm.Script(Loader.wrap(source), { filename: file, cachedData });
  const loaded = new Loader(file, module);
  loaded.filename = file;
  loaded.paths = Loader._nodeModulePaths(dir);
  Loader._cache[file] = loaded;
  try {
    const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => void;
    wrapper.call(loaded.exports, loaded.exports, Module.createRequire(file), loaded, file, dir);
    loaded.loaded = true;
  } catch (error) {
    delete Loader._cache[file];
    throw error;
  }
  if (cachedData !== undefined && script.cachedDataRejected !== true) return 'cached';
  if (pending.size === 0) process.once('exit', writePendingCaches);
  pending.set(cacheFile, { script, bundleHash });
  return 'compiled';
}

function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/**
 * The V8 payload of a cache file whose header says it belongs to this very
 * bundle and whose payload is what was written; undefined otherwise. A file
 * that fails the check is removed (rewritten at exit).
 */
function checkedPayload(file: Buffer | undefined, bundleHash: Buffer, cacheFile: string): Buffer | undefined {
  if (file === undefined) return undefined;
  const payload = file.subarray(HEADER_BYTES);
  const sound =
    file.length > HEADER_BYTES &&
    file.subarray(0, MAGIC.length).equals(MAGIC) &&
    file.subarray(MAGIC.length, MAGIC.length + HASH_BYTES).equals(bundleHash) &&
    file.subarray(MAGIC.length + HASH_BYTES, HEADER_BYTES).equals(sha256(payload));
  if (sound) return payload;
  removeQuietly(cacheFile);
  return undefined;
}

/** A file of this user's that only they may write, or undefined. */
function readOwnFile(file: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const stat = fstatSync(fd);
    const own = process.getuid === undefined || stat.uid === process.getuid();
    if (!stat.isFile() || !own || (stat.mode & 0o022) !== 0) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** At exit, synchronously: the caches of the bundles loaded without one. Failures only mean no cache. */
function writePendingCaches(): void {
  for (const [file, { script, bundleHash }] of pending) {
    const partial = `${file}.${process.pid}.partial`;
    try {
      const payload = script.createCachedData();
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(partial, Buffer.concat([MAGIC, bundleHash, sha256(payload), payload]), { mode: 0o600 });
      renameSync(partial, file);
    } catch {
      // a read-only or foreign directory, or no directory at all: the next action compiles again
      removeQuietly(partial);
    }
  }
  pending.clear();
}

function removeQuietly(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // nothing there to remove
  }
}
