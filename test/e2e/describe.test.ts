/**
 * describeRepositories end to end: the compiled plugin, loaded as the agent loads it, calls the
 * local ECR API endpoint over HTTP with the real AWS SDK (SigV4-checked, paginated like ECR).
 * Needs no Docker engine, so it runs everywhere.
 */
import type { Repository } from '@aws-sdk/client-ecr';
import { E2E_TEST_TIMEOUT_MS, SETTINGS, UNSET_CONNECTION, VAULT_KEYS, expectNoOpenConnections, runAction, succeeded, useLocalStack } from './helpers';
import { LOCAL_ACCOUNT_IDS, LOCAL_KEYS, LOCAL_REGION } from '../../devkit/local-ecr';

jest.setTimeout(E2E_TEST_TIMEOUT_MS);

type Described = { repositories: Repository[] };

/** More than two of the plugin's pages (1000) and far more than ECR's default page (100). */
const REPOSITORY_COUNT = 2345;
const NAMES = Array.from({ length: REPOSITORY_COUNT }, (_, i) => `svc/app-${String(i).padStart(4, '0')}`);
const OTHER_ACCOUNT_NAMES = ['other/alpha', 'other/beta', 'other/gamma'];

describe('describeRepositories (local ECR API endpoint)', () => {
  const stack = useLocalStack({ accounts: 2 });

  beforeAll(() => {
    stack().ecr.endpoint.createRepositories(NAMES);
    stack().ecr.endpoint.createRepositories(OTHER_ACCOUNT_NAMES, LOCAL_ACCOUNT_IDS[1]);
  });

  const describeCalls = () => stack().ecr.endpoint.calls.filter((c) => c.operation === 'DescribeRepositories');

  test('returns every repository across several pages, with keys and region from the settings only', async () => {
    const callsBefore = describeCalls().length;
    const run = await runAction<Described>(
      stack().plugin,
      'describeRepositories',
      { ...UNSET_CONNECTION, registryId: '', repositoryNames: '' },
      SETTINGS,
    );
    const { repositories } = succeeded(run);

    const names = repositories.map((r) => r.repositoryName);
    expect(names).toHaveLength(REPOSITORY_COUNT);
    expect(new Set(names).size).toBe(REPOSITORY_COUNT);
    expect([...names].sort()).toEqual(NAMES);
    const calls = describeCalls().slice(callsBefore);
    expect(calls.length).toBeGreaterThanOrEqual(Math.ceil(REPOSITORY_COUNT / 1000));
    // The keys and the region of the settings are what reached the wire.
    for (const call of calls) expect(call).toMatchObject({ accessKeyId: LOCAL_KEYS.accessKeyId, region: LOCAL_REGION });
    // What ECR returns, as the action's result (JSON for the next actions).
    const first = repositories.find((r) => r.repositoryName === 'svc/app-0000');
    expect(first).toMatchObject({
      registryId: LOCAL_ACCOUNT_IDS[0],
      repositoryArn: `arn:aws:ecr:${LOCAL_REGION}:${LOCAL_ACCOUNT_IDS[0]}:repository/svc/app-0000`,
    });
    expect(first?.repositoryUri).toMatch(/\/svc\/app-0000$/);
    expect(JSON.parse(JSON.stringify(run.result))).toHaveProperty('repositories.length', REPOSITORY_COUNT);
    expect(run.output).toContain(`Found ${REPOSITORY_COUNT} repositories`);
    // The SDK client kept its connection alive across the pages; the action closed it at the end.
    await expectNoOpenConnections(stack());
  });

  test('with vault keys in the params and the region as an autocomplete item, those are used over the settings', async () => {
    const [region] = await stack().plugin.autocomplete('listRegions', 'london');
    expect(region).toEqual({ id: 'eu-west-2', value: expect.stringContaining('London') as unknown });
    const callsBefore = describeCalls().length;
    const wrongSettings = { accessKeyId: 'AKIASETTINGSNOTUSED0', secretAccessKey: 'settings-secret-not-used', region: 'ap-south-1' };

    const run = await runAction<Described>(
      stack().plugin,
      'describeRepositories',
      { ...VAULT_KEYS, sessionToken: '', region, registryId: LOCAL_ACCOUNT_IDS[1], repositoryNames: '' },
      wrongSettings,
    );

    const { repositories } = succeeded(run);
    expect(repositories.map((r) => r.repositoryName).sort()).toEqual(OTHER_ACCOUNT_NAMES);
    expect(repositories.every((r) => r.registryId === LOCAL_ACCOUNT_IDS[1])).toBe(true);
    const calls = describeCalls().slice(callsBefore);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ accessKeyId: LOCAL_KEYS.accessKeyId, region: 'eu-west-2' });
  });

  test('a repositoryNames filter (one per line) returns exactly those repositories', async () => {
    const run = await runAction<Described>(
      stack().plugin,
      'describeRepositories',
      { ...UNSET_CONNECTION, registryId: LOCAL_ACCOUNT_IDS[0], repositoryNames: 'svc/app-2344\nsvc/app-0007\n\n  svc/app-1500  \n' },
      SETTINGS,
    );
    const { repositories } = succeeded(run);
    expect(repositories.map((r) => r.repositoryName).sort()).toEqual(['svc/app-0007', 'svc/app-1500', 'svc/app-2344']);
  });

  test('a filter of 150 names as an array (beyond ECR\'s 100 names per call) returns all 150', async () => {
    const wanted = NAMES.filter((_, i) => i % 15 === 0).slice(0, 150);
    expect(wanted).toHaveLength(150);
    const callsBefore = describeCalls().length;
    const run = await runAction<Described>(
      stack().plugin,
      'describeRepositories',
      { ...UNSET_CONNECTION, repositoryNames: wanted },
      SETTINGS,
    );
    const { repositories } = succeeded(run);
    expect(repositories.map((r) => r.repositoryName).sort()).toEqual(wanted);
    // The endpoint refuses more than 100 names in one call, as ECR does: the plugin split them.
    expect(describeCalls().length - callsBefore).toBeGreaterThanOrEqual(2);
  });
});
