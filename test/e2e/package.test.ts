/**
 * The installable zip (scripts/lib/packaging.ts, `npm run package`), checked the way the Kaholo
 * agent uses it: unpacked into an empty directory, its production dependencies installed with
 * npm, `main` loaded with require() in a fresh node process, and listRegions and
 * describeRepositories run against the local ECR API endpoint. Needs no Docker; needs the npm
 * registry (or a warm npm cache) for the install.
 */
import { createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import execa from 'execa';
import yauzl from 'yauzl';
import { buildPackage, checkVersions, zipFileName, type PackageResult } from '../../scripts/lib/packaging';
import { REPO_ROOT } from '../../devkit/agent';
import { runAgentAction } from '../../devkit/agent-process';
import { withoutAwsSettings } from '../../devkit/aws-env';
import { LOCAL_KEYS, LOCAL_REGION, startLocalEcr, type LocalEcr } from '../../devkit/local-ecr';

const BUILD_TIMEOUT_MS = 120_000;
const INSTALL_TIMEOUT_MS = 300_000;

interface PackageJson {
  name: string;
  version: string;
  main?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
  license?: string;
}

async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as T;
}

/** Entry names of a zip, in archive order. */
async function zipEntries(file: string): Promise<string[]> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true });
  const names: string[] = [];
  try {
    for await (const entry of zip.eachEntry()) names.push(entry.fileName);
  } finally {
    zip.close();
  }
  return names;
}

/** Unpacks a zip into `dir` (which must be empty); refuses entries that would land outside it. */
async function unzip(file: string, dir: string): Promise<void> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true });
  try {
    for await (const entry of zip.eachEntry()) {
      const target = path.resolve(dir, entry.fileName);
      if (!target.startsWith(`${dir}${path.sep}`)) throw new Error(`zip entry escapes the directory: ${entry.fileName}`);
      if (entry.fileName.endsWith('/')) {
        await fs.mkdir(target, { recursive: true });
        continue;
      }
      await fs.mkdir(path.dirname(target), { recursive: true });
      await pipeline(await zip.openReadStreamPromise(entry), createWriteStream(target));
    }
  } finally {
    zip.close();
  }
}

/** Files under `dir` as relative paths with forward slashes, sorted. */
async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await listFiles(path.join(dir, entry.name), relative)));
    else files.push(relative);
  }
  return files.sort();
}

/**
 * The environment for npm: the caller's (proxy, CA, HOME for the cache), minus what `npm run` or
 * `npm test` exported for this project (npm_config_local_prefix and friends would point npm here).
 */
function npmEnvironment(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_registry', 'npm_config_cache', 'npm_config_proxy', 'npm_config_https_proxy', 'npm_config_noproxy', 'npm_config_cafile', 'npm_config_strict_ssl']);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) && !keep.has(key.toLowerCase())) continue;
    if (key === 'INIT_CWD' || key === 'NODE_OPTIONS' || key === 'NODE_PATH') continue;
    env[key] = value;
  }
  return env;
}

test('config.json and package.json carry one version', async () => {
  const config = await readJson<{ version: string }>(path.join(REPO_ROOT, 'config.json'));
  const pkg = await readJson<PackageJson>(path.join(REPO_ROOT, 'package.json'));
  expect(config.version).toBe(pkg.version);
  await expect(checkVersions(REPO_ROOT)).resolves.toBe(pkg.version);
});

test('packaging refuses versions that disagree', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plugin-versions-test-'));
  try {
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ version: '2.0.1', main: 'dist/app.js' }));
    await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'x', version: '2.0.0' }));
    await expect(checkVersions(dir)).rejects.toThrow('config.json says version "2.0.1" but package.json says "2.0.0"');
    await expect(buildPackage({ root: dir, outDir: dir })).rejects.toThrow('must be one number');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

describe('the plugin zip', () => {
  let work: string;
  let built: PackageResult;
  let endpoint: LocalEcr | undefined;

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'plugin-zip-test-'));
    built = await buildPackage({ outDir: path.join(work, 'out') });
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await endpoint?.stop();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  test('is named after the version and is flat: run-time files only, no sources or tests', async () => {
    const pkg = await readJson<PackageJson>(path.join(REPO_ROOT, 'package.json'));
    expect(path.basename(built.file)).toBe(zipFileName(pkg.version));
    expect(built.file).toBe(path.join(work, 'out', `kaholo-plugin-ecr-${pkg.version}.zip`));

    const names = await zipEntries(built.file);
    const sources = (await listFiles(path.join(REPO_ROOT, 'src'))).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')); // declarations compile to nothing
    const rootFiles = ['CHANGELOG.md', 'LICENSE', 'README.md', 'config.json', 'logo.png', 'package.json'];
    const expected = [...rootFiles, ...sources.map((f) => `dist/${f.replace(/\.ts$/, '.js')}`)];
    expect([...names].sort()).toEqual(expected.sort());
    expect(names).toEqual([...names].sort()); // stored in a fixed order
    for (const name of names) {
      expect(name).not.toMatch(/^(src|test|scripts|node_modules|\.ci|kaholo-plugin-ecr[^/]*)\//);
      expect(name).not.toMatch(/\.ts$|\.map$/);
      // Flat: the manifest at the root, the only folder is the compiled code.
      expect(name.includes('/') ? name.startsWith('dist/') : true).toBe(true);
    }
  });

  test('holds package.json trimmed to what an install needs, with the dependencies', async () => {
    const dir = path.join(work, 'inspect');
    await fs.mkdir(dir);
    await unzip(built.file, dir);
    const original = await readJson<PackageJson>(path.join(REPO_ROOT, 'package.json'));
    const shipped = await readJson<PackageJson>(path.join(dir, 'package.json'));
    expect(shipped.version).toBe(original.version);
    expect(shipped.dependencies).toEqual(original.dependencies);
    expect(shipped.devDependencies).toBeUndefined();
    expect(shipped.scripts).toBeUndefined();
    const config = await readJson<{ main: string; version: string }>(path.join(dir, 'config.json'));
    expect(config).toEqual(await readJson(path.join(REPO_ROOT, 'config.json')));
    expect(shipped.main).toBe(config.main);
    // The code is what src/ compiles to today (the zip does not take whatever is in dist/).
    await expect(fs.stat(path.join(dir, config.main))).resolves.toBeTruthy();
    // The licence package.json names ships with the code, as the repository holds it.
    expect(shipped.license).toBe('MIT');
    const licence = await fs.readFile(path.join(dir, 'LICENSE'), 'utf8');
    expect(licence).toMatch(/^MIT License\n/);
    expect(licence).toBe(await fs.readFile(path.join(REPO_ROOT, 'LICENSE'), 'utf8'));
  });

  test('is the same bytes when built again', async () => {
    const again = await buildPackage({ outDir: path.join(work, 'again') });
    expect(again.sha256).toBe(built.sha256);
  }, BUILD_TIMEOUT_MS);

  test(
    'unpacked into an empty directory, installs, loads with require() in a fresh node and runs listRegions and describeRepositories',
    async () => {
      const dir = path.join(work, 'plugin');
      await fs.mkdir(dir);
      await unzip(built.file, dir);

      const started = Date.now();
      const install = await execa(
        'npm',
        // --prefer-offline: from npm's cache when it has the versions (11 s instead of 17 s here), else
        // from the registry, so a cold cache (CI) works too.
        ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--prefix', dir],
        { cwd: dir, env: npmEnvironment(), extendEnv: false, reject: false, stdin: 'ignore', timeout: INSTALL_TIMEOUT_MS - 30_000 },
      );
      if (install.exitCode !== 0) throw new Error(`npm install failed (exit ${install.exitCode}):\n${install.stderr}\n${install.stdout}`);
      if (process.env.KAHOLO_TEST_VERBOSE) process.stderr.write(`package test: npm install took ${Date.now() - started} ms\n`);
      for (const dependency of Object.keys((await readJson<PackageJson>(path.join(dir, 'package.json'))).dependencies ?? {})) {
        await expect(fs.stat(path.join(dir, 'node_modules', dependency, 'package.json'))).resolves.toBeTruthy();
      }
      await expect(fs.stat(path.join(dir, 'node_modules', 'typescript'))).rejects.toThrow(); // no dev dependencies

      endpoint = await startLocalEcr();
      endpoint.endpoint.createRepositories(['zip/app', 'zip/worker']);
      // Only what an agent would have, plus the local endpoint; nothing of this project's environment.
      const env = {
        ...withoutAwsSettings({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir }),
        AWS_ENDPOINT_URL_ECR: endpoint.env.AWS_ENDPOINT_URL_ECR,
      };
      const regions = await runAgentAction({ autocomplete: 'listRegions', query: 'lon', params: {} }, env, { root: dir });
      expect(regions).toMatchObject({ exitCode: 0, result: [{ id: 'eu-west-2', value: 'eu-west-2 (Europe, London)' }] });
      const settings = { ...LOCAL_KEYS, region: LOCAL_REGION };
      const agent = await runAgentAction({ method: 'describeRepositories', params: {}, settings, modules: true }, env, { root: dir });
      if (agent.exitCode !== 0) throw new Error(`the plugin failed in a fresh node (exit ${agent.exitCode}): ${agent.error ?? ''}\n${agent.output}`);
      const described = agent.result as { repositories: Array<{ repositoryName: string; registryId: string }> };
      expect(described.repositories.map((r) => r.repositoryName).sort()).toEqual(['zip/app', 'zip/worker']);
      expect(described.repositories.every((r) => r.registryId === endpoint?.endpoint.defaultRegistryId)).toBe(true);
      // The plugin and the SDK came from the unpacked directory (the runner itself aside).
      const loaded = agent.modules ?? [];
      expect(loaded.some((file) => file.startsWith(path.join(dir, 'dist')))).toBe(true);
      expect(loaded.filter((file) => !file.startsWith(`${dir}${path.sep}`) && !file.endsWith('agent-runner.js'))).toEqual([]);
      expect(agent.output).toContain('Found 2 repositories'); // the activity log
      expect(agent.output).not.toContain(LOCAL_KEYS.secretAccessKey);
    },
    INSTALL_TIMEOUT_MS,
  );
});
