/**
 * The installable zip (scripts/lib/packaging.ts, `npm run package`), checked the way the Kaholo
 * agent uses it: unpacked into an empty directory outside this repository, with no npm install, no
 * node_modules anywhere above it and no registry to reach, `main` loaded with require() in a fresh
 * node process, and every method run from it against the local parts (the ECR API stand-in; for
 * push, pull, tagImage and copyImage also the Docker engine and a registry).
 */
import { createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import execa from 'execa';
import yauzl from 'yauzl';
import { followRequires } from '../../scripts/lib/dist-graph';
import { buildPackage, checkVersions, zipFileName, type PackageResult } from '../../scripts/lib/packaging';
import { NOTICES_FILE } from '../../scripts/lib/third-party-notices';
import { readManifest, REPO_ROOT } from '../../devkit/agent';
import { AGENT_NODE_VERSION, findAgentNode } from '../../devkit/agent-node';
import { runAgentAction, type AgentAction, type AgentOutcome } from '../../devkit/agent-process';
import { withoutAwsSettings } from '../../devkit/aws-env';
import { makeImage, removeImage } from '../../devkit/images';
import { LOCAL_KEYS, LOCAL_REGION, LOCAL_ROLES, startLocalEcr, type LocalEcr } from '../../devkit/local-ecr';
import { describeWithDocker, isCi } from '../support/e2e-environment';
import { PRIVATE_CONFIG_PREFIX } from '../../src/docker/docker-config';

const BUILD_TIMEOUT_MS = 120_000;
const ACTION_TIMEOUT_MS = 60_000;
/** Nothing listens on the discard port: an npm (or anything else) that tried a registry would fail. */
const NO_REGISTRY = 'http://127.0.0.1:9/';
/** Preloaded into one action: emits a warning of node's own once the action is done, which must still show. */
const OWN_WARNING = path.join(__dirname, '..', 'support', 'bin', 'own-warning.js');

/**
 * The methods run from the zip under this Node and under the Kaholo agent image's own, 18.17.0
 * (`npm run agent-node` fetches it; .ci/run does before `npm test`). Without it the run under it is
 * skipped with a line, and under CI=true the file fails.
 */
const agentNode = findAgentNode();
if (agentNode === undefined) {
  const missing = `the agent image's Node ${AGENT_NODE_VERSION} is not here (npm run agent-node fetches it; .ci/run does)`;
  if (isCi()) throw new Error(`package test: CI=true but ${missing}`);
  process.stderr.write(`package test: skipped the methods' runs under Node ${AGENT_NODE_VERSION}: ${missing}\n`);
}
const RUNTIMES = [
  { label: `this Node (${process.version})`, node: process.execPath, version: process.version },
  ...(agentNode !== undefined ? [{ label: `the agent image's Node ${AGENT_NODE_VERSION}`, node: agentNode, version: `v${AGENT_NODE_VERSION}` }] : []),
];

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

/** Every directory from `dir` up to the root. */
function ancestors(dir: string): string[] {
  const parent = path.dirname(dir);
  return parent === dir ? [dir] : [dir, ...ancestors(parent)];
}

/** The bundled packages the notices file lists, as "name version". */
function listedPackages(notices: string): string[] {
  return [...notices.matchAll(/^- (\S+) (\S+) \(/gm)].map((m) => `${m[1]} ${m[2]}`);
}

describe('the plugin zip', () => {
  let work: string;
  let built: PackageResult;
  /** The zip unpacked, as an agent installs it: outside this repository, nothing installed. */
  let plugin: string;
  /** The agent's temporary directory: the plugin's private docker configs go here and must be gone after. */
  let agentTmp: string;

  beforeAll(async () => {
    work = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'plugin-zip-test-')));
    built = await buildPackage({ outDir: path.join(work, 'out') });
    plugin = path.join(work, 'plugin');
    agentTmp = path.join(work, 'tmp');
    await fs.mkdir(plugin);
    await fs.mkdir(agentTmp);
    await unzip(built.file, plugin);
    if (process.env.KAHOLO_TEST_VERBOSE) process.stderr.write(`package test: ${path.basename(built.file)} is ${built.bytes} bytes\n`);
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  /** Only what an agent would have: no NODE_PATH, no npm, no registry, nothing of this project. */
  function agentEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...withoutAwsSettings({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: plugin, TMPDIR: agentTmp }),
      NODE_PATH: '',
      npm_config_registry: NO_REGISTRY,
      npm_config_offline: 'true',
      ...extra,
    };
  }

  /**
   * Runs an action from the unpacked zip in a fresh node (`node`: which binary); fails with its
   * output when it fails. Nothing it prints is a warning of node's, and everything it loads is in
   * the unpacked directory (the runner aside, and `probes`, the files preloaded with --require).
   */
  async function run(action: AgentAction, extra: Record<string, string>, node: string, probes: string[] = []): Promise<AgentOutcome> {
    const nodeArgs = probes.flatMap((probe) => ['--require', probe]);
    const outcome = await runAgentAction({ ...action, modules: true }, agentEnv(extra), { root: plugin, node, nodeArgs });
    if (outcome.exitCode !== 0) throw new Error(`${action.method ?? action.autocomplete} failed from the zip (exit ${outcome.exitCode}): ${outcome.error ?? ''}\n${outcome.output}`);
    const loaded = outcome.modules ?? [];
    expect(loaded.some((file) => file.startsWith(path.join(plugin, 'dist')))).toBe(true);
    expect(loaded.filter((file) => !file.startsWith(`${plugin}${path.sep}`) && !file.endsWith('agent-runner.js') && !probes.includes(file))).toEqual([]);
    expect(outcome.output).not.toContain(LOCAL_KEYS.secretAccessKey);
    if (probes.length === 0) expect(outcome.output).not.toMatch(/\(node:\d+\)|Warning/);
    return outcome;
  }

  test('is named after the version and is flat: run-time files only, no sources, tests or node_modules', async () => {
    const pkg = await readJson<PackageJson>(path.join(REPO_ROOT, 'package.json'));
    expect(path.basename(built.file)).toBe(zipFileName(pkg.version));
    expect(built.file).toBe(path.join(work, 'out', `kaholo-plugin-ecr-${pkg.version}.zip`));

    const names = await zipEntries(built.file);
    const rootFiles = ['CHANGELOG.md', 'LICENSE', 'README.md', NOTICES_FILE, 'config.json', 'logo.png', 'package.json'];
    expect(names.filter((name) => !name.startsWith('dist/')).sort()).toEqual(rootFiles.sort());
    expect(names).toContain('dist/app.js');
    expect(names).toEqual([...names].sort()); // stored in a fixed order
    for (const name of names) {
      expect(name).not.toMatch(/^(src|test|scripts|node_modules|\.ci|kaholo-plugin-ecr[^/]*)\/|\/node_modules\//);
      expect(name).not.toMatch(/\.ts$|\.map$/);
      if (name.startsWith('dist/')) expect(name).toMatch(/^dist\/(?:[a-z-]+\/)?[a-z-]+\.js$/); // the compiled code only, as src/ is laid out
    }
  });

  test('declares no dependencies: package.json is trimmed to what the agent reads', async () => {
    const original = await readJson<PackageJson>(path.join(REPO_ROOT, 'package.json'));
    const shipped = await readJson<PackageJson & Record<string, unknown>>(path.join(plugin, 'package.json'));
    expect(shipped.version).toBe(original.version);
    for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies', 'bundleDependencies', 'scripts']) {
      expect(shipped[field]).toBeUndefined();
    }
    const config = await readJson<{ main: string; version: string }>(path.join(plugin, 'config.json'));
    expect(config).toEqual(await readJson(path.join(REPO_ROOT, 'config.json')));
    expect(shipped.main).toBe(config.main);
    // The licence package.json names ships with the code, as the repository holds it.
    expect(shipped.license).toBe('MIT');
    const licence = await fs.readFile(path.join(plugin, 'LICENSE'), 'utf8');
    expect(licence).toMatch(/^MIT License\n/);
    expect(licence).toBe(await fs.readFile(path.join(REPO_ROOT, 'LICENSE'), 'utf8'));
  });

  test('dist/ reaches no code outside itself: every require() from the entry resolves to a file in dist/ or a Node.js built-in', async () => {
    const dist = path.join(plugin, 'dist');
    const { reached, outside } = await followRequires(dist, 'app.js');
    expect(outside).toEqual([]);
    // Every compiled file is reached (nothing dead ships), the SDK, docker (with the lock), role, proxy and credential chain bundles among them.
    const compiled = (await fs.readdir(dist, { recursive: true })).filter((file) => file.endsWith('.js')).map((file) => file.split(path.sep).join('/'));
    expect([...reached].sort()).toEqual(compiled.sort());
    expect([...reached]).toEqual(expect.arrayContaining(['aws/ecr-registry.js', 'aws/ecr-public-registry.js', 'docker/image-transfer.js', 'aws/assume-role.js', 'aws/proxy-agent.js', 'aws/credential-chain.js']));
    // Nothing above the unpacked directory could lend a module: no node_modules, and the repository's own is out of reach.
    expect(plugin.startsWith(`${REPO_ROOT}${path.sep}`)).toBe(false);
    for (const dir of ancestors(plugin)) await expect(fs.stat(path.join(dir, 'node_modules'))).rejects.toThrow();
    expect(() => require.resolve('@aws-sdk/client-ecr', { paths: [dist] })).toThrow();
    // Each module loads by itself in a fresh node with nothing to resolve packages from.
    const files = [...reached].map((file) => path.join(dist, file));
    const loaded = await execa(process.execPath, [path.join(__dirname, '..', 'support', 'bin', 'require-each.js'), ...files], {
      cwd: plugin,
      env: agentEnv(),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });
    expect(loaded.stderr).toBe('');
    expect(loaded.exitCode).toBe(0);
  });

  test('carries the licence notices of every package bundled in dist/, with their licence texts', async () => {
    const notices = await fs.readFile(path.join(plugin, NOTICES_FILE), 'utf8');
    const listed = listedPackages(notices);
    // What the agent's actions run: the SDK (ECR and ECR Public), the credential providers (roles), the proxy agents, the lock, execa.
    for (const name of ['@aws-sdk/client-ecr', '@aws-sdk/client-ecr-public', '@aws-sdk/credential-providers', '@smithy/node-http-handler', 'https-proxy-agent', 'http-proxy-agent', 'proper-lockfile', 'execa']) {
      const version = (await readJson<{ version: string }>(path.join(REPO_ROOT, 'node_modules', name, 'package.json'))).version;
      expect(listed).toContain(`${name} ${version}`);
    }
    // Each listed package has its own section, with its licence file's text where it ships one.
    for (const entry of listed) expect(notices).toContain(`\n${entry}\nLicense: `);
    expect(notices).toContain((await fs.readFile(path.join(REPO_ROOT, 'node_modules', 'execa', 'license'), 'utf8')).trimEnd());
    expect(notices).toMatch(/Apache License\s+Version 2\.0/);
    // A licence text shared word for word (the SDK's Apache licence) is given once; the later ones name where.
    const texts = notices.split(/\n--- [^\n]+ ---\n\n/).slice(1).map((block) => block.split(`\n\n${'='.repeat(78)}`)[0].trim());
    const full = texts.filter((text) => !text.startsWith('(Word for word the '));
    expect(new Set(full.map((text) => text.replace(/\s+/g, ' ').trim())).size).toBe(full.length);
    for (const reference of texts.filter((text) => text.startsWith('(Word for word the '))) {
      const [, file, owner] = /^\(Word for word the (\S+) of (.+), given above\.\)$/.exec(reference) ?? [];
      expect(listed).toContain(owner);
      expect(notices.indexOf(`\n${owner}\nLicense: `)).toBeLessThan(notices.indexOf(reference));
      expect(file).toMatch(/^(licen[cs]e|copying|notice)/i);
    }
    expect(texts.length - full.length).toBeGreaterThan(10);
    // Build tools and test libraries are not bundled, so not listed.
    expect(listed.some((entry) => /^(typescript|esbuild|jest|yazl|@types\/)/.test(entry))).toBe(false);
  });

  test('is the same bytes when built again', async () => {
    const again = await buildPackage({ outDir: path.join(work, 'again') });
    expect(again.sha256).toBe(built.sha256);
  }, BUILD_TIMEOUT_MS);

  describe.each(RUNTIMES)('run under $label', ({ node, version }) => {
    test(
      'runs listRegions, describeRepositories (also with a role), getEcrLogin and checkImageScan from the unpacked zip',
      async () => {
        expect((await execa(node, ['--version'], { stdin: 'ignore' })).stdout.trim()).toBe(version);
        const endpoint = await startLocalEcr();
        try {
          endpoint.endpoint.createRepositories(['zip/app', 'zip/worker']);
          const regions = await run({ autocomplete: 'listRegions', query: 'lon', params: {} }, endpoint.env, node);
          expect(regions.result).toEqual([{ id: 'eu-west-2', value: 'eu-west-2 (Europe, London)' }]);
          const settings = { ...LOCAL_KEYS, region: LOCAL_REGION };

          const agent = await run({ method: 'describeRepositories', params: {}, settings }, endpoint.env, node);
          const described = agent.result as { repositories: Array<{ repositoryName: string; registryId: string }> };
          expect(described.repositories.map((r) => r.repositoryName).sort()).toEqual(['zip/app', 'zip/worker']);
          expect(described.repositories.every((r) => r.registryId === endpoint.endpoint.defaultRegistryId)).toBe(true);
          expect(agent.output).toContain('Found 2 repositories'); // the activity log
          // With keys, the SDK's default credential chain is never loaded.
          const chain = path.join(plugin, 'dist', 'aws', 'credential-chain.js');
          expect(agent.modules).not.toContain(chain);

          // No keys at all: the default chain (its own bundle) finds them, here in the environment.
          const viaChain = await run(
            { method: 'describeRepositories', params: {}, settings: { region: LOCAL_REGION } },
            { ...endpoint.env, AWS_ACCESS_KEY_ID: LOCAL_KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_KEYS.secretAccessKey },
            node,
          );
          expect((viaChain.result as { repositories: unknown[] }).repositories).toHaveLength(2);
          expect(viaChain.modules).toContain(chain);

          // The role code (the SDK's credential providers, STS) runs from the bundle too.
          const viaRole = await run({ method: 'describeRepositories', params: { roleArn: LOCAL_ROLES.push }, settings }, endpoint.env, node);
          expect((viaRole.result as { repositories: unknown[] }).repositories).toHaveLength(2);
          expect(endpoint.endpoint.assumeRoleCalls).toHaveLength(1);

          const login = await run({ method: 'getEcrLogin', params: {}, settings }, endpoint.env, node);
          const data = (login.result as { authorizationData: Array<{ decodedToken: { user: string; password: string; host: string } }> }).authorizationData;
          expect(data).toHaveLength(1);
          expect(data[0]?.decodedToken).toMatchObject({ user: 'AWS', password: endpoint.passwords[0] });

          // checkImageScan loads the scan code (dist/scan/) when it runs.
          const digest = `sha256:${'5'.repeat(64)}`;
          endpoint.endpoint.scans.set({ repositoryName: 'zip/app', digest, tags: ['1.0.0'], scan: [{ status: 'COMPLETE', findings: [{ name: 'CVE-2024-1', severity: 'LOW' }] }] });
          const scanned = await run({ method: 'checkImageScan', params: { repoName: 'zip/app', imageName: '1.0.0' }, settings }, endpoint.env, node);
          expect(scanned.result).toMatchObject({ digest, status: 'COMPLETE', counts: { LOW: 1 }, passed: true });
          expect(scanned.modules).toEqual(expect.arrayContaining([path.join(plugin, 'dist', 'scan', 'scan-check.js'), path.join(plugin, 'dist', 'scan', 'scan-wait.js')]));

          // Node's own warnings still reach the log: only the SDK's Node-version warning is left out.
          const warned = await run({ method: 'describeRepositories', params: {}, settings }, endpoint.env, node, [OWN_WARNING]);
          expect(warned.output).toContain("AgentWarning: a warning of the agent's own");
          expect(warned.output).not.toContain('NodeDeprecationWarning');
        } finally {
          await endpoint.stop();
        }
      },
      ACTION_TIMEOUT_MS,
    );

    describeWithDocker('with a Docker engine and a registry', (e2e) => {
      let registryEndpoint: LocalEcr | undefined;
      let image: string | undefined;

      afterAll(async () => {
        if (image) await removeImage(e2e().env, image).catch(() => undefined);
        await registryEndpoint?.stop();
      });

      test(
        'runs pushImgaeToRepo, pullImage, tagImage and copyImage from the unpacked zip, and leaves nothing behind',
        async () => {
          registryEndpoint = await startLocalEcr({ startRegistry: (options) => e2e().startRegistry(options) });
          registryEndpoint.endpoint.createRepositories(['zip/app']);
          const env = { ...registryEndpoint.env, ...e2e().env };
          const tag = `1.0.0-${path.basename(node).replace(/\W/g, '')}-${RUNTIMES.findIndex((r) => r.node === node)}`;
          const name = `zip-app-${process.pid}:${tag}`;
          image = await makeImage(e2e().env, name, 64 * 1024);
          const settings = { ...LOCAL_KEYS, region: LOCAL_REGION };

          const pushed = await run({ method: 'pushImgaeToRepo', params: { repoName: 'zip/app', imageName: name }, settings }, env, node);
          const { digest, registry } = pushed.result as { digest: string; registry: string };
          expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
          expect(registry).toBe(registryEndpoint.registries[0]?.host);

          const pulled = await run({ method: 'pullImage', params: { repoName: 'zip/app', imageName: tag }, settings }, env, node);
          expect(pulled.result).toMatchObject({ digest });

          const tagged = await run({ method: 'tagImage', params: { repoName: 'zip/app', imageName: tag, tags: ['stable'] }, settings }, env, node);
          expect(tagged.result).toMatchObject({ digest });
          expect((tagged.result as { tags: string[] }).tags).toContain('stable');

          // copyImage runs from the zip too (its registry code and the lock's bundle): a promotion by mounts.
          const copied = await run({ method: 'copyImage', params: { repoName: 'zip/app', imageName: tag, targetRepoName: 'zip/prod', targetTags: 'stable', createRepository: true }, settings }, env, node);
          expect(copied.result).toMatchObject({ digest, tags: ['stable'], blobs: { copied: 0, skipped: 0, bytes: 0 } });

          // No private docker config (credentials) left in the agent's temporary directory.
          expect((await fs.readdir(agentTmp)).filter((entry) => entry.startsWith(PRIVATE_CONFIG_PREFIX))).toEqual([]);
          // The pulled name is the plugin's result, the user's to keep; the test removes it.
          await removeImage(e2e().env, `${registry}/zip/app:${tag}`).catch(() => undefined);
        },
        ACTION_TIMEOUT_MS,
      );
    });
  });

  test('every method of config.json, and its autocomplete function, is run above', () => {
    const exercised = ['describeRepositories', 'getEcrLogin', 'pushImgaeToRepo', 'pullImage', 'tagImage', 'checkImageScan', 'copyImage', 'listRegions'];
    const manifest = readManifest();
    const params = [...manifest.settings, ...manifest.methods.flatMap((m) => m.params)];
    const declared = [...manifest.methods.map((m) => m.name), ...params.flatMap((p) => (p.functionName ? [p.functionName] : []))];
    expect(new Set(exercised)).toEqual(new Set(declared));
  });
});
