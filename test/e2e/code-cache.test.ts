/**
 * The V8 code cache of the big bundles (src/agent/code-cache.ts), on a copy of the built dist/ in fresh
 * node processes: the first load compiles and leaves a private cache, the next loads from it, and a
 * cache that is unsafe (writable by others), damaged (also where V8 does not look: its payload) or
 * another bundle's is never used, and is written again; the bundle works every time.
 */
import { createHash } from 'node:crypto';
import execa from 'execa';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../devkit/agent';

/** Loads the ECR bundle through the cache in a fresh node; says how, and that the module works. */
const LOADER = path.join(__dirname, '..', 'support', 'bin', 'load-ecr-bundle.js');

describe('the code cache of the SDK bundle', () => {
  let dir: string;
  let dist: string;
  let cacheDir: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'code-cache-test-'));
    dist = path.join(dir, 'dist');
    cacheDir = path.join(dist, '.code-cache');
    for (const file of ['agent/code-cache.js', 'aws/ecr-registry.js', 'errors.js', 'aws/assume-role.js', 'aws/proxy-agent.js', 'aws/credential-chain.js']) {
      await fs.mkdir(path.dirname(path.join(dist, file)), { recursive: true });
      await fs.copyFile(path.join(REPO_ROOT, 'dist', file), path.join(dist, file));
    }
  });
  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const load = async (from = dist, env: Record<string, string> = {}): Promise<string> => {
    const { stdout, stderr } = await execa(process.execPath, [LOADER, from], { stdin: 'ignore', timeout: 30_000, env });
    expect(stderr).toBe('');
    return stdout.trim();
  };
  /** The cache file a bundle's source gets, as src/agent/code-cache.ts names it. */
  const cacheNameOf = (source: string): string =>
    `aws-ecr-registry-${createHash('sha256').update(source).digest('hex').slice(0, 20)}-${process.version}-${process.arch}.bin`;
  const cacheFiles = async (): Promise<string[]> => (await fs.readdir(cacheDir).catch(() => [] as string[])).map((f) => path.join(cacheDir, f));

  test('compiles once, leaves a cache only its user may read, and loads from it next time', async () => {
    expect(await load()).toBe('compiled function');
    const [cache, ...others] = await cacheFiles();
    expect(others).toEqual([]); // one file, no partial one left
    expect(path.basename(cache)).toMatch(new RegExp(`^aws-ecr-registry-[0-9a-f]{20}-${process.version.replace(/\./g, '\\.')}-${process.arch}\\.bin$`));
    expect((await fs.stat(cacheDir)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(cache)).mode & 0o777).toBe(0o600);
    expect(await load()).toBe('cached function');
  });

  test('never uses a cache others may write, nor a damaged one, and the bundle still works', async () => {
    const [cache] = await cacheFiles();
    await fs.chmod(cache, 0o666);
    expect(await load()).toBe('compiled function');
    // Written again, privately, by that load.
    expect((await fs.stat(cache)).mode & 0o777).toBe(0o600);
    expect(await load()).toBe('cached function');

    const bytes = await fs.readFile(cache);
    await fs.writeFile(cache, bytes.subarray(0, 64)); // V8 refuses a cache that is not whole
    expect(await load()).toBe('compiled function');
    expect(await load()).toBe('cached function');
  });

  test('where no cache can be kept (the cache directory is a file), the bundle loads and the process ends well', async () => {
    const saved = `${cacheDir}.saved`;
    await fs.rename(cacheDir, saved);
    try {
      await fs.writeFile(cacheDir, '');
      expect(await load()).toBe('compiled function'); // load() also checks stderr is empty, execa the exit code
      expect(await load()).toBe('compiled function');
    } finally {
      await fs.rm(cacheDir, { force: true });
      await fs.rename(saved, cacheDir);
    }
  });

  test('a cache damaged in its payload, its length and headers intact, is refused before V8 sees it, removed and written again', async () => {
    expect(await load()).toMatch(/^(cached|compiled) function$/);
    const [cache] = await cacheFiles();
    const good = await fs.readFile(cache);
    // Past every header, in the middle of the compiled code: what release builds of V8 never check.
    const damaged = Buffer.from(good);
    const from = Math.floor(damaged.length / 2);
    for (let i = from; i < from + 4096; i++) damaged[i] ^= 0xa5;
    await fs.writeFile(cache, damaged);
    expect((await fs.stat(cache)).size).toBe(good.length);

    // Refused and removed (the directory is empty once the bundle is loaded), and it ended well: execa checks the exit code, load() stderr.
    expect(await load(dist, { SHOW_CACHE_FILES: '1' })).toBe('compiled function files:0');
    const rewritten = await fs.readFile(cache);
    expect(rewritten.equals(damaged)).toBe(false);
    expect(await load()).toBe('cached function');
  });

  test("another bundle's cache put in place of this one's (same length, so V8 itself takes it) is refused, removed and written again", async () => {
    const source = await fs.readFile(path.join(REPO_ROOT, 'dist', 'aws', 'ecr-registry.js'), 'utf8');
    const ours = `${source}\n// bundle A\n`;
    const theirs = `${source}\n// bundle B\n`;
    expect(theirs.length).toBe(ours.length);
    const other = path.join(dir, 'other-dist');
    for (const file of ['agent/code-cache.js', 'errors.js']) {
      await fs.mkdir(path.dirname(path.join(other, file)), { recursive: true });
      await fs.copyFile(path.join(dist, file), path.join(other, file));
    }
    await fs.mkdir(path.join(other, 'aws'));
    await fs.writeFile(path.join(other, 'aws', 'ecr-registry.js'), theirs);
    expect(await load(other)).toBe('compiled function'); // leaves the other bundle's cache

    await fs.writeFile(path.join(dist, 'aws', 'ecr-registry.js'), ours);
    const foreign = await fs.readFile(path.join(other, '.code-cache', cacheNameOf(theirs)));
    const before = await cacheFiles();
    const ourCache = path.join(cacheDir, cacheNameOf(ours));
    await fs.writeFile(ourCache, foreign, { mode: 0o600 });

    expect(await load(dist, { SHOW_CACHE_FILES: '1' })).toBe(`compiled function files:${before.length}`);
    expect((await fs.readFile(ourCache)).equals(foreign)).toBe(false);
    expect(await load()).toBe('cached function');
    await fs.writeFile(path.join(dist, 'aws', 'ecr-registry.js'), source);
  });

  test('a changed bundle gets a cache of its own', async () => {
    const before = await cacheFiles();
    await fs.appendFile(path.join(dist, 'aws', 'ecr-registry.js'), '\n// changed\n');
    expect(await load()).toBe('compiled function');
    expect((await cacheFiles()).length).toBe(before.length + 1);
  });
});
