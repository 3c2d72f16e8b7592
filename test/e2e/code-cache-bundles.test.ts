/**
 * The code cache for the bundles that came with Copy Image and ECR Public (copy/copy-session,
 * aws/ecr-public-registry): a real action compiles each once and leaves its cache, and the next
 * action loads it from there (a bundle compiled again would have its cache written again at exit,
 * a new file renamed into place). On a copy of the built plugin, each action a node process of its
 * own as the agent runs it. The cache's own checks are proven in code-cache.test.ts.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { agentEnvironment, runAgentAction } from '../../devkit/agent-process';
import { REPO_ROOT } from '../../devkit/agent';
import { LOCAL_KEYS, startLocalEcr, type LocalEcr } from '../../devkit/local-ecr';
import { writeImage } from '../../devkit/oci-images';
import { describeWithDocker } from '../support/e2e-environment';

jest.setTimeout(60_000);

const PARAMS = { accessKeyId: LOCAL_KEYS.accessKeyId, secretAccessKey: LOCAL_KEYS.secretAccessKey, region: 'us-east-1' };

describeWithDocker('the code cache of the copy and ECR Public bundles, in real actions', (e2e) => {
  let ecr: LocalEcr;
  let root: string;

  beforeAll(async () => {
    ecr = await startLocalEcr({ startRegistry: (options) => e2e().startRegistry(options), publicRegistry: true });
    ecr.endpoint.createRepositories(['team/app', 'prod/app']);
    const place = ecr.place(ecr.accountIds[0] ?? '');
    await writeImage({ url: place.url, user: 'AWS', password: place.password }, 'team/app', '1.0', [4096]);
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'code-cache-bundles-'));
    for (const file of ['config.json', 'package.json']) await fs.copyFile(path.join(REPO_ROOT, file), path.join(root, file));
    await fs.cp(path.join(REPO_ROOT, 'dist'), path.join(root, 'dist'), { recursive: true, filter: (source) => path.basename(source) !== '.code-cache' });
  });

  afterAll(async () => {
    await ecr?.stop();
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  const runBoth = async (): Promise<void> => {
    const env = agentEnvironment({ ...ecr.env });
    const copy = await runAgentAction({ method: 'copyImage', params: { ...PARAMS, repoName: 'team/app', imageName: '1.0', targetRepoName: 'prod/app' } }, env, { root });
    expect(copy.error).toBeUndefined();
    const described = await runAgentAction({ method: 'describeRepositories', params: { ...PARAMS, registryType: 'public' } }, env, { root });
    expect(described.error).toBeUndefined();
  };
  /** Each cache file of the two bundles, with what tells a file from one written again in its place. */
  const caches = async (): Promise<Record<string, string>> => {
    const dir = path.join(root, 'dist', '.code-cache');
    const files = (await fs.readdir(dir).catch(() => [] as string[])).filter((f) => /^(copy-copy-session|aws-ecr-public-registry)-/.test(f));
    const entries = await Promise.all(files.map(async (f) => [f.replace(/-[0-9a-f]{20}-.*$/, ''), `${(await fs.stat(path.join(dir, f))).ino}:${(await fs.stat(path.join(dir, f))).mtimeMs}`] as const));
    return Object.fromEntries(entries);
  };

  test('the first actions leave a cache for each bundle, and the next ones load from it', async () => {
    await runBoth();
    const first = await caches();
    expect(Object.keys(first).sort()).toEqual(['aws-ecr-public-registry', 'copy-copy-session']);
    await runBoth();
    expect(await caches()).toEqual(first);
  });
});
