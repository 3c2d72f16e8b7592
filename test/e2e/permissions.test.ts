/**
 * The IAM policies the documentation gives (README's Permissions for private ECR, docs/public.md
 * for ECR Public) are exactly what each method needs: every method runs for real, in the variants
 * that use each action the documentation calls conditional and in its plain one, and what it did to
 * AWS is recorded: every API call the ECR, ECR Public and STS stand-ins answered, and every request
 * each registry got (docker's own included: the tokens point at fronts that record them). Each is
 * turned into the IAM actions AWS authorizes for it (test/support/iam-actions.ts, with its sources).
 * Per method and side: every action used is in its policy, every action its policy allows is used by
 * some variant, and an action the documentation calls conditional is used only in that case.
 *
 *   account A (123456789012): a front that records, and serves the referrers API
 *   account B (210987654321): a front that records (no referrers API: the tag schema)
 *   ECR Public (account A's, alias kaholo-kit): a front that records, before the token-auth registry
 */
import { ECRClient, ListTagsForResourceCommand } from '@aws-sdk/client-ecr';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { KIT_USER_AGENT } from '../../devkit/ecr/manifest-store';
import { makeImage, removeImage } from '../../devkit/images';
import { LOCAL_ACCOUNT_IDS, LOCAL_KEYS, LOCAL_PUBLIC_ALIAS, LOCAL_REGION, LOCAL_ROLES } from '../../devkit/local-ecr';
import { writeImage, writeReferrer, type RegistryAccess } from '../../devkit/oci-images';
import type { FrontRequest, RegistryFront } from '../../devkit/registry-front';
import { actionsOfCall, actionsOfRequest, type Api, type CallFacts } from '../support/iam-actions';
import { documentedPolicies, markdownSection, type DocumentedPolicy } from '../support/iam-policies';
import { describeWithDocker } from '../support/e2e-environment';
import { E2E_TEST_TIMEOUT_MS, SETTINGS, UNSET_CONNECTION, docker, runAction, succeeded, useLocalStack } from './helpers';

jest.setTimeout(E2E_TEST_TIMEOUT_MS);

const ROOT = path.join(__dirname, '..', '..');
const METHODS = (JSON.parse(readFileSync(path.join(ROOT, 'config.json'), 'utf8')) as { methods: Array<{ name: string }> }).methods.map((m) => m.name);
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const PUBLIC_DOC = readFileSync(path.join(ROOT, 'docs', 'public.md'), 'utf8');
const PERMISSIONS = markdownSection(README, 'Permissions');

const [A, B] = LOCAL_ACCOUNT_IDS;
const { push: PUSH_ROLE, partner: PARTNER_ROLE, partnerExternalId } = LOCAL_ROLES;
const PUBLIC = { registryType: 'public' };
/** What the Kaholo form sends for the repository settings when nobody touched them. */
const FORM_DEFAULTS = { imageTagMutability: 'MUTABLE', scanOnPush: true, encryptionType: 'AES256', kmsKey: '' };
const SCAN_POLL_MS = 100;

type RegistryName = 'A' | 'B' | 'public';
type RegistryType = 'private' | 'public';

/** Which documented policy: private ECR's (README) or ECR Public's (docs/public.md), of a method, of one side for copyImage. */
const policyKey = (type: RegistryType, method: string, side?: 'source' | 'target'): string => [type, method, side].filter(Boolean).join(' ');

/** One side of a variant: the calls it signs and the registry requests it makes, which one policy must allow. */
interface Side {
  policy: string;
  api: Api;
  /** Who signs its calls: a role's ARN, or 'base' for the action's own keys. */
  identity: string;
  registry?: RegistryName;
  /** Its repositories there, when another side uses the same registry. */
  repositories?: string[];
}

/** One run of a method. */
interface Variant {
  name: string;
  /** The cases it is in, as the documentation names them ("createRepository", "enhanced scanning"). */
  cases: string[];
  sides: Side[];
  /** Runs the action; its result (a failed action throws with its log). */
  run(): Promise<unknown>;
  /** What the outcome showed that decides authorizations beyond the operations (iam-actions.ts). */
  facts?(result: unknown): Promise<CallFacts> | CallFacts;
}

/** One action a variant was seen to need, and whose it is: a policy's, the base identity's to assume a role, or nobody's (a failure). */
interface Use {
  action: string;
  policy: string;
  variant: Variant;
  evidence: string;
}
const ASSUME = 'the base identity, to assume a role';
const UNATTRIBUTED = 'no side of the variant';

describeWithDocker('IAM policies in the documentation, against what each method does on the local kit', (e2e) => {
  const stack = useLocalStack({ accounts: 2, e2e, front: (account) => (account === A ? { referrers: true } : {}), publicRegistry: true, publicFront: {} });
  const policies: Array<DocumentedPolicy & { key: string }> = [
    ...documentedPolicies(PERMISSIONS, 'README.md', METHODS).map((p) => ({ ...p, key: policyKey('private', p.method, p.side) })),
    ...documentedPolicies(markdownSection(PUBLIC_DOC, 'IAM permissions'), 'docs/public.md', METHODS).map((p) => ({ ...p, key: policyKey('public', p.method, p.side) })),
  ];
  const images: string[] = [];
  let savedPoll: string | undefined;

  const place = (account: string) => stack().ecr.place(account);
  const access = (account: string): RegistryAccess => ({ url: place(account).url, user: 'AWS', password: place(account).password });
  const publicRegistry = () => {
    const registry = stack().ecr.publicRegistry;
    if (!registry?.front) throw new Error('no public registry with a front in the stack');
    return { ...registry, front: registry.front };
  };
  const fronts = (): Record<RegistryName, RegistryFront> => {
    const front = (account: string): RegistryFront => {
      const found = place(account).front;
      if (!found) throw new Error(`no front for account ${account}`);
      return found;
    };
    return { A: front(A), B: front(B), public: publicRegistry().front };
  };

  /** A new local image for a push (layers of its own, so docker mounts nothing from elsewhere), removed when the file ends. */
  const localImage = async (name: string): Promise<string> => {
    images.push(name);
    await makeImage(stack().dockerEnv(), name, 256 * 1024);
    return name;
  };

  beforeAll(async () => {
    stack().ecr.endpoint.createRepositories(['team/app', 'prod/app', 'from-public/app'], A);
    const { state } = publicRegistry();
    for (const name of ['team/app', 'mirror/app']) state.add(name);
    savedPoll = process.env.KAHOLO_ECR_SCAN_POLL_MS;
    process.env.KAHOLO_ECR_SCAN_POLL_MS = String(SCAN_POLL_MS);
    // An image in the public registry, pushed by docker with the registry's own login (not the plugin's).
    const seed = await localImage('kaholo-perm-public-seed:1');
    const host = state.host;
    const reference = `${host}/${LOCAL_PUBLIC_ALIAS}/team/app:seed`;
    const config = await fs.mkdtemp(path.join(stack().tmpDir, 'seed-'));
    const env = { ...stack().dockerEnv(), DOCKER_CONFIG: config };
    try {
      await docker(['tag', seed, reference], env);
      await docker(['login', '--username', 'AWS', '--password-stdin', host], env, state.currentPassword());
      await docker(['push', reference], env);
      await docker(['logout', host], env);
    } finally {
      await removeImage(env, reference);
      await fs.rm(config, { recursive: true, force: true });
    }
  });

  afterAll(async () => {
    if (savedPoll === undefined) delete process.env.KAHOLO_ECR_SCAN_POLL_MS;
    else process.env.KAHOLO_ECR_SCAN_POLL_MS = savedPoll;
    for (const image of images) await removeImage(stack().dockerEnv(), image);
  });

  /** Runs a variant and returns what it was seen to need, each use attributed to a side. */
  const observe = async (variant: Variant): Promise<Use[]> => {
    const { endpoint } = stack().ecr;
    const marks = { calls: endpoint.calls.length, publicCalls: endpoint.publicCalls.length, assumed: endpoint.assumeRoleCalls.length };
    const requestMarks = Object.fromEntries(Object.entries(fronts()).map(([name, front]) => [name, front.requests.length])) as Record<RegistryName, number>;
    const result = await variant.run();
    const calls = [
      ...endpoint.calls.slice(marks.calls).map((call) => ({ api: 'ecr' as const, call })),
      ...endpoint.publicCalls.slice(marks.publicCalls).map((call) => ({ api: 'ecr-public' as const, call })),
    ];
    const assumed = endpoint.assumeRoleCalls.slice(marks.assumed);
    const requests = (Object.entries(fronts()) as Array<[RegistryName, RegistryFront]>).flatMap(([registry, front]) =>
      front.requests.slice(requestMarks[registry]).filter((r) => r.host === 'registry' && r.userAgent !== KIT_USER_AGENT).map((request) => ({ registry, request })),
    );
    const facts = (await variant.facts?.(result)) ?? {};

    const uses: Use[] = [];
    const use = (action: string, side: Side | undefined, evidence: string): void => void uses.push({ action, policy: side?.policy ?? UNATTRIBUTED, variant, evidence });
    for (const { api, call } of calls) {
      const identity = call.role ?? 'base';
      const side = variant.sides.find((s) => s.api === api && s.identity === identity);
      for (const action of actionsOfCall(api, call.operation, facts)) use(action, side, `${api} ${call.operation} signed by ${identity}`);
    }
    for (const call of assumed) {
      uses.push({ action: 'sts:AssumeRole', policy: call.accessKeyId === LOCAL_KEYS.accessKeyId ? ASSUME : UNATTRIBUTED, variant, evidence: `AssumeRole ${call.roleArn ?? ''}` });
    }
    for (const { registry, request } of requests) {
      const api: Api = registry === 'public' ? 'ecr-public' : 'ecr';
      for (const needed of actionsOfRequest(api, request, LOCAL_PUBLIC_ALIAS)) {
        const sides = variant.sides.filter((s) => s.registry === registry && (s.repositories === undefined || (needed.repository !== undefined && s.repositories.includes(needed.repository))));
        use(needed.action, sides.length === 1 ? sides[0] : undefined, `${describeRequest(request)} on registry ${registry}`);
      }
    }
    return uses;
  };

  /**
   * Runs every variant of `method`, then holds each of its documented policies to what they used:
   * nothing missing, nothing unused, conditional actions only in their case. Every use has a side
   * (so with a role, the base identity made no call but AssumeRole, which the Permissions section
   * names).
   */
  const expectPoliciesExact = async (method: string, variants: Variant[]): Promise<void> => {
    const uses: Use[] = [];
    for (const variant of variants) uses.push(...(await observe(variant)));
    expect(uses.filter((u) => u.policy === UNATTRIBUTED).map((u) => `${u.action} (${u.variant.name}: ${u.evidence})`)).toEqual([]);
    if (uses.some((u) => u.policy === ASSUME)) expect(PERMISSIONS.replace(/\s+/g, ' ')).toContain('the base identity `sts:AssumeRole` on the role');

    const documented = policies.filter((p) => p.method === method);
    const usedKeys = new Set(uses.filter((u) => u.policy !== ASSUME).map((u) => u.policy));
    expect([...usedKeys].filter((key) => !documented.some((p) => p.key === key))).toEqual([]); // every side used has its policy
    const reports = documented.map((policy) => {
      const mine = uses.filter((u) => u.policy === policy.key);
      const used = new Map<string, Use>();
      for (const u of mine) if (!used.has(u.action)) used.set(u.action, u);
      const missing = [...used.values()].filter((u) => !policy.actions.includes(u.action)).map((u) => `${u.action} (${u.variant.name}: ${u.evidence})`);
      const unused = policy.actions.filter((action) => !used.has(action));
      const outOfCase = mine
        .filter((u) => policy.onlyWhen.has(u.action) && !u.variant.cases.includes(policy.onlyWhen.get(u.action) ?? ''))
        .map((u) => `${u.action} is documented as only with ${policy.onlyWhen.get(u.action) ?? ''}, but ${u.variant.name} used it (${u.evidence})`);
      return { policy: policy.where, missing, unused, outOfCase: [...new Set(outOfCase)] };
    });
    expect(reports).toEqual(reports.map(({ policy }) => ({ policy, missing: [], unused: [], outOfCase: [] })));
  };

  /** The method's result; keys and region come from the plugin settings (none at all with `settings` {}). */
  const run = async <T = Record<string, unknown>>(method: string, params: Record<string, unknown>, settings: Record<string, unknown> = SETTINGS): Promise<T> =>
    succeeded(await runAction<T>(stack().plugin, method, { ...UNSET_CONNECTION, ...params }, settings));
  const side = (type: RegistryType, method: string, extra: Partial<Side> = {}, copySide?: 'source' | 'target'): Side => ({
    policy: policyKey(type, method, copySide),
    api: type === 'public' ? 'ecr-public' : 'ecr',
    identity: 'base',
    registry: type === 'public' ? 'public' : 'A',
    ...extra,
  });

  /** Whether the plugin's CreateRepository left resource tags on the repository (so the tags came with the create). */
  const privateTagged = async (account: string, name: string): Promise<boolean> => {
    const client = new ECRClient({ region: LOCAL_REGION, credentials: LOCAL_KEYS });
    try {
      const { tags } = await client.send(new ListTagsForResourceCommand({ resourceArn: `arn:aws:ecr:${LOCAL_REGION}:${account}:repository/${name}` }));
      return (tags ?? []).length > 0;
    } finally {
      client.destroy();
    }
  };
  const publicTagged = (name: string): boolean => {
    const { state } = publicRegistry();
    return (state.resourceTags.get(state.repositories.get(name)?.repositoryArn ?? '') ?? []).length > 0;
  };

  test('the documentation gives a policy for every method, per registry type, Copy Image one per side', () => {
    const keys = policies.map((p) => p.key).sort();
    const expected = (type: RegistryType, methods: string[]) => methods.flatMap((m) => (m === 'copyImage' ? [policyKey(type, m, 'source'), policyKey(type, m, 'target')] : [policyKey(type, m)]));
    expect(keys).toEqual([...expected('private', METHODS), ...expected('public', METHODS.filter((m) => m !== 'checkImageScan'))].sort()); // ECR Public scans nothing
    // What the README says of ECR Public's permissions in passing is in its policies.
    const publicActions = new Set(policies.filter((p) => p.key.startsWith('public')).flatMap((p) => p.actions));
    const named = [...markdownSection(README, 'Public registries').matchAll(/`([a-z0-9-]+:[A-Za-z]+)`/g)].map((m) => m[1]);
    expect(named.filter((action) => !publicActions.has(action))).toEqual([]);
  });

  test('describeRepositories: with the action\'s keys, through a role (the base identity only assumes it), and public', async () => {
    await expectPoliciesExact('describeRepositories', [
      { name: 'describe', cases: [], sides: [side('private', 'describeRepositories')], run: () => run('describeRepositories', {}) },
      { name: 'describe through a role', cases: [], sides: [side('private', 'describeRepositories', { identity: PUSH_ROLE })], run: () => run('describeRepositories', { roleArn: PUSH_ROLE }) },
      { name: 'describe public', cases: [], sides: [side('public', 'describeRepositories')], run: () => run('describeRepositories', PUBLIC) },
    ]);
  });

  test('getEcrLogin: private and public', async () => {
    await expectPoliciesExact('getEcrLogin', [
      { name: 'login', cases: [], sides: [side('private', 'getEcrLogin')], run: () => run('getEcrLogin', {}) },
      { name: 'login public', cases: [], sides: [side('public', 'getEcrLogin')], run: () => run('getEcrLogin', PUBLIC) },
    ]);
  });

  test('pushImgaeToRepo: plain, and with createRepository, repositoryTags and additionalTags; private and public (docker\'s own requests recorded)', async () => {
    type Pushed = { tags: string[] };
    await expectPoliciesExact('pushImgaeToRepo', [
      {
        name: 'push',
        cases: [],
        sides: [side('private', 'pushImgaeToRepo')],
        run: async () => run('pushImgaeToRepo', { repoName: 'team/app', imageName: await localImage('kaholo-perm-app:1') }),
      },
      {
        name: 'push with createRepository, repositoryTags and additionalTags',
        cases: ['createRepository', 'repositoryTags', 'additionalTags'],
        sides: [side('private', 'pushImgaeToRepo')],
        run: async () => {
          const pushed = await run<Pushed>('pushImgaeToRepo', { repoName: 'made/app', imageName: await localImage('kaholo-perm-app:2'), createRepository: true, ...FORM_DEFAULTS, repositoryTags: 'team=app', additionalTags: 'latest' });
          expect(pushed.tags).toEqual(['2', 'latest']);
          return pushed;
        },
        facts: async () => ({ createdWithTags: await privateTagged(A, 'made/app') }),
      },
      {
        name: 'push public',
        cases: [],
        sides: [side('public', 'pushImgaeToRepo')],
        run: async () => run('pushImgaeToRepo', { ...PUBLIC, repoName: 'team/app', imageName: await localImage('kaholo-perm-public:1') }),
      },
      {
        name: 'push public with createRepository, repositoryTags, catalog data and additionalTags',
        cases: ['createRepository', 'repositoryTags', 'additionalTags'],
        sides: [side('public', 'pushImgaeToRepo')],
        run: async () => {
          const pushed = await run<Pushed>('pushImgaeToRepo', {
            ...PUBLIC,
            repoName: 'made/app',
            imageName: await localImage('kaholo-perm-public:2'),
            createRepository: true,
            ...FORM_DEFAULTS,
            repositoryTags: 'team=app',
            catalogDescription: 'For everyone',
            additionalTags: 'latest',
          });
          expect(pushed.tags).toEqual(['2', 'latest']);
          return pushed;
        },
        facts: () => ({ createdWithTags: publicTagged('made/app') }),
      },
    ]);
  });

  test('pullImage: private, public with credentials, and public anonymously (nothing needed)', async () => {
    const pulled: string[] = [];
    const pull = async (params: Record<string, unknown>, settings?: Record<string, unknown>): Promise<{ image: string }> => {
      const result = await run<{ image: string }>('pullImage', params, settings);
      pulled.push(result.image);
      return result;
    };
    await writeImage(access(A), 'team/app', 'pulled', [128 * 1024]);
    try {
      await expectPoliciesExact('pullImage', [
        { name: 'pull', cases: [], sides: [side('private', 'pullImage')], run: () => pull({ repoName: 'team/app', imageName: 'pulled' }) },
        { name: 'pull public', cases: [], sides: [side('public', 'pullImage')], run: () => pull({ ...PUBLIC, repoName: 'team/app', imageName: 'seed' }) },
        {
          name: 'pull public anonymously',
          cases: [],
          sides: [],
          run: async () => {
            const reference = `${publicRegistry().state.host}/${LOCAL_PUBLIC_ALIAS}/team/app:seed`;
            await removeImage(stack().dockerEnv(), reference);
            return pull({ ...PUBLIC, repoName: 'team/app', imageName: reference }, {});
          },
        },
      ]);
    } finally {
      for (const image of pulled) await removeImage(stack().dockerEnv(), image);
    }
  });

  test('tagImage: private and public', async () => {
    await writeImage(access(A), 'team/app', 'to-tag', [64 * 1024]);
    await expectPoliciesExact('tagImage', [
      { name: 'tag', cases: [], sides: [side('private', 'tagImage')], run: () => run('tagImage', { repoName: 'team/app', imageName: 'to-tag', tags: 'stable' }) },
      { name: 'tag public', cases: [], sides: [side('public', 'tagImage')], run: () => run('tagImage', { ...PUBLIC, repoName: 'team/app', imageName: 'seed', tags: 'stable' }) },
    ]);
  });

  test('checkImageScan: a basic scan, startScan on an image with none, and enhanced scanning', async () => {
    const scans = stack().ecr.endpoint.scans;
    const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
    const findings = [{ name: 'CVE-2024-0001', severity: 'HIGH', package: 'openssl', version: '3.0.1' }];
    scans.set({ repositoryName: 'team/app', digest: digest(1), tags: ['scanned'], scan: [{ status: 'COMPLETE', findings }] });
    scans.set({ repositoryName: 'team/app', digest: digest(2), tags: ['unscanned'], scan: [] });
    scans.set({ repositoryName: 'team/app', digest: digest(3), tags: ['enhanced'], scan: [{ status: 'ACTIVE', scanType: 'ENHANCED', findings }] });
    const check = (params: Record<string, unknown>) => run<{ scanType: string }>('checkImageScan', { repoName: 'team/app', failOnSeverity: 'NONE', ...params });
    const scanned = (name: string, cases: string[], params: Record<string, unknown>): Variant => ({
      name,
      cases,
      sides: [side('private', 'checkImageScan')],
      run: () => check(params),
      facts: (result) => ({ enhancedScan: (result as { scanType: string }).scanType === 'ENHANCED' }),
    });
    await expectPoliciesExact('checkImageScan', [
      scanned('check a basic scan', [], { imageName: 'scanned' }),
      scanned('check with startScan', ['startScan'], { imageName: 'unscanned', startScan: true }),
      scanned('check an enhanced scan', ['enhanced scanning'], { imageName: 'enhanced' }),
    ]);
  });

  test('copyImage, per side: across accounts with a role per side and createRepository; within a registry (mounts); to, from and within ECR Public', async () => {
    type Copied = { referrers: number; blobs: { copied: number; mounted: number } };
    const image = await writeImage(access(A), 'team/app', 'x-1', [128 * 1024]);
    await writeReferrer(access(A), 'team/app', image, 'application/vnd.dev.cosign.artifact.sig.v1+json', Buffer.from('signature'));
    await writeImage(access(A), 'team/app', 'm-1', [128 * 1024]);
    const copy = (params: Record<string, unknown>) => run<Copied>('copyImage', params);
    await expectPoliciesExact('copyImage', [
      {
        name: 'copy across accounts, a role per side, createRepository with repositoryTags, a referrer',
        cases: ['createRepository', 'repositoryTags'],
        sides: [side('private', 'copyImage', { identity: PUSH_ROLE }, 'source'), side('private', 'copyImage', { identity: PARTNER_ROLE, registry: 'B' }, 'target')],
        run: async () => {
          const copied = await copy({
            repoName: 'team/app',
            imageName: 'x-1',
            roleArn: PUSH_ROLE,
            targetRoleArn: PARTNER_ROLE,
            targetRoleExternalId: partnerExternalId,
            targetRepoName: 'promoted/app',
            createRepository: true,
            ...FORM_DEFAULTS,
            repositoryTags: 'team=app',
          });
          expect(copied).toMatchObject({ referrers: 1, blobs: { mounted: 0 } });
          return copied;
        },
        facts: async () => ({ createdWithTags: await privateTagged(B, 'promoted/app') }),
      },
      {
        name: 'copy within one registry, the target through a role (blobs mounted)',
        cases: [],
        sides: [
          side('private', 'copyImage', { repositories: ['team/app'] }, 'source'),
          side('private', 'copyImage', { identity: PUSH_ROLE, repositories: ['prod/app'] }, 'target'),
        ],
        run: async () => {
          const copied = await copy({ repoName: 'team/app', imageName: 'm-1', targetRepoName: 'prod/app', targetRoleArn: PUSH_ROLE });
          expect(copied.blobs).toMatchObject({ copied: 0, mounted: 2 });
          return copied;
        },
      },
      {
        name: 'copy from private to a public repository it creates, with repositoryTags',
        cases: ['createRepository', 'repositoryTags'],
        sides: [side('private', 'copyImage', {}, 'source'), side('public', 'copyImage', {}, 'target')],
        run: () => copy({ repoName: 'team/app', imageName: 'm-1', targetRegistryType: 'public', targetRepoName: 'copied/app', createRepository: true, ...FORM_DEFAULTS, repositoryTags: 'team=app', catalogDescription: 'Copied' }),
        facts: () => ({ createdWithTags: publicTagged('copied/app') }),
      },
      {
        name: 'copy from public to private',
        cases: [],
        sides: [side('public', 'copyImage', {}, 'source'), side('private', 'copyImage', {}, 'target')],
        run: () => copy({ ...PUBLIC, repoName: 'team/app', imageName: 'seed', targetRegistryType: 'private', targetRepoName: 'from-public/app' }),
      },
      {
        name: 'copy within ECR Public, the target through a role (blobs mounted)',
        cases: [],
        sides: [
          side('public', 'copyImage', { repositories: ['team/app'] }, 'source'),
          side('public', 'copyImage', { identity: PUSH_ROLE, repositories: ['mirror/app'] }, 'target'),
        ],
        run: async () => {
          const copied = await copy({ ...PUBLIC, repoName: 'team/app', imageName: 'seed', targetRepoName: 'mirror/app', targetRoleArn: PUSH_ROLE });
          expect(copied.blobs.mounted).toBeGreaterThan(0);
          return copied;
        },
      },
    ]);
  });
});

function describeRequest(request: FrontRequest): string {
  const who = request.userAgent?.startsWith('docker/') ? 'docker' : request.userAgent === 'kaholo-plugin-ecr' ? 'the plugin' : (request.userAgent ?? 'no user agent');
  const path = request.path.replace(/(\/blobs\/uploads\/)[^/]+$/, '$1<upload>');
  return `${request.method} ${path}${request.query?.includes('mount=') ? `?${request.query}` : ''} by ${who}`;
}
