/**
 * Endpoints that misbehave, on the real SDK over HTTP: one that accepts the connection and never
 * answers (ECR, or STS for a role), and one that answers with an HTML page (a proxy's 403, a load
 * balancer's 502). Each ends the action with one line that names the endpoint, in bounded time.
 *
 * The request timeout is shortened through the agent environment variable the plugin documents,
 * so the test takes seconds; that the default timeouts bound an unanswered call under 90 s is
 * proven by the unit test of the computed bound (test/unit/aws-http.test.ts).
 */
import { REQUEST_TIMEOUT_VARIABLE } from '../../src/aws/transport-settings';
import { LOCAL_ROLES } from '../../devkit/local-ecr';
import { startFaultFront, type FaultFront } from '../../devkit/fault-front';
import { agentEnvironment, runAgentAction } from '../../devkit/agent-process';
import { E2E_TEST_TIMEOUT_MS, VAULT_KEYS, failed, runAction, useLocalStack } from './helpers';

jest.setTimeout(E2E_TEST_TIMEOUT_MS);

const PARAMS = { ...VAULT_KEYS, region: 'us-east-1' };
const REQUEST_TIMEOUT_MS = 1_500;
/** More names than one DescribeRepositories call takes (100). */
const NAMES = Array.from({ length: 101 }, (_, i) => `team/app-${i}`);
// eslint-disable-next-line no-control-regex -- control characters are what this finds
const CONTROL = /[\u0000-\u001f\u007f]/;

describe('endpoints that never answer or answer HTML (local ECR and STS endpoint)', () => {
  const stack = useLocalStack({ accounts: 1 });
  let saved: string | undefined;

  beforeAll(() => {
    saved = process.env[REQUEST_TIMEOUT_VARIABLE];
    process.env[REQUEST_TIMEOUT_VARIABLE] = String(REQUEST_TIMEOUT_MS);
  });

  afterEach(() => {
    stack().ecr.endpoint.setFault(undefined);
    stack().ecr.endpoint.faulted.length = 0;
  });

  afterAll(() => {
    if (saved === undefined) delete process.env[REQUEST_TIMEOUT_VARIABLE];
    else process.env[REQUEST_TIMEOUT_VARIABLE] = saved;
  });

  const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

  test('ECR accepts and never answers: one line naming the endpoint, after one request timeout, not retried', async () => {
    stack().ecr.endpoint.setFault({ mode: 'hang' }, 'ecr');
    const started = Date.now();
    const { message } = failed(await runAction(stack().plugin, 'describeRepositories', PARAMS));
    const elapsed = Date.now() - started;
    expect(message).toBe(
      `ECR DescribeRepositories failed: the ECR endpoint ${stack().ecr.endpoint.url} did not answer within 1.5 s (request timeout); ` +
        'it accepted the connection but sent no answer: check the endpoint, proxy or VPC endpoint in between.',
    );
    expect(elapsed).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(REQUEST_TIMEOUT_MS + 3_000);
    expect(stack().ecr.endpoint.faulted).toEqual(['ecr']);
  });

  test('STS never answers for a role: roleArn named, the STS endpoint named, bounded', async () => {
    stack().ecr.endpoint.setFault({ mode: 'hang' }, 'sts');
    const started = Date.now();
    const { message } = failed(await runAction(stack().plugin, 'getEcrLogin', { ...PARAMS, roleArn: LOCAL_ROLES.push }));
    expect(Date.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS + 3_000);
    expect(message).toMatch(
      new RegExp(
        `^Parameter "roleArn": could not assume ${escaped(LOCAL_ROLES.push)} \\(no external id was sent\\): ` +
          `STS AssumeRole failed: the STS endpoint ${escaped(stack().ecr.endpoint.url)} did not answer within 1\\.5 s \\(request timeout\\)`,
      ),
    );
    expect(stack().ecr.endpoint.faulted).toEqual(['sts']);
  });

  test('an HTML 403 instead of ECR\'s JSON: the status and a short, escaped excerpt on one line; not retried', async () => {
    stack().ecr.endpoint.setFault({ mode: 'html', status: 403 }, 'ecr');
    const { message } = failed(await runAction(stack().plugin, 'getEcrLogin', PARAMS));
    expect(message).toMatch(
      new RegExp(
        `^ECR GetAuthorizationToken failed: the ECR endpoint ${escaped(stack().ecr.endpoint.url)} answered HTTP 403 with something that is not an AWS answer: ` +
          '"403 Forbidden 403 Forbidden Blocked\\\\u0000 by the network policy of this site\\. [^"]*… \\(\\d+ characters\\)"\\. ' +
          'Is a proxy or firewall in between\\?$',
      ),
    );
    expect(message).not.toMatch(CONTROL);
    expect(message).not.toMatch(/hidden field|\$response|Deserialization/);
    expect(stack().ecr.endpoint.faulted).toEqual(['ecr']);
  });

  test('an HTML 502: retried as the SDK retries a 502, then the status and excerpt', async () => {
    stack().ecr.endpoint.setFault({ mode: 'html', status: 502 }, 'ecr');
    const { message } = failed(await runAction(stack().plugin, 'describeRepositories', PARAMS));
    expect(message).toMatch(/^ECR DescribeRepositories failed: the ECR endpoint \S+ answered HTTP 502 with something that is not an AWS answer: "502 Bad Gateway 502 Bad Gateway /);
    expect(message.length).toBeLessThan(300);
    expect(stack().ecr.endpoint.faulted).toEqual(['ecr', 'ecr', 'ecr']);
  });

  test.each([
    ['ECR', 'ecr', 'describeRepositories', PARAMS, /^ECR DescribeRepositories failed: the ECR endpoint \S+ answered HTTP 200 with something that is not an AWS answer: "200 OK 200 OK Blocked/],
    [
      'STS, for a role, with keys set',
      'sts',
      'getEcrLogin',
      { ...PARAMS, roleArn: LOCAL_ROLES.push },
      /^Parameter "roleArn": could not assume \S+ \(no external id was sent\): STS AssumeRole failed: the STS endpoint \S+ answered HTTP 200 with something that is not an AWS answer: "200 OK 200 OK Blocked/,
    ],
  ] as const)('%s answers 200 with an HTML page: said as such, never as missing credentials', async (_what, service, method, params, expected) => {
    stack().ecr.endpoint.setFault({ mode: 'html', status: 200 }, service);
    const { message } = failed(await runAction(stack().plugin, method, params));
    expect(message).toMatch(expected);
    expect(message).not.toMatch(/credentials/);
    expect(stack().ecr.endpoint.faulted).toEqual([service]);
  });

  test.each([
    ['ECR, a page labelled as XML', 'ecr', 'application/xml', 'describeRepositories', PARAMS, /^ECR DescribeRepositories failed: the ECR endpoint \S+ answered HTTP 403 with something that is not an AWS answer: "403 Forbidden/],
    [
      'STS, a page labelled as JSON',
      'sts',
      'application/json',
      'getEcrLogin',
      { ...PARAMS, roleArn: LOCAL_ROLES.push },
      /^Parameter "roleArn": could not assume \S+ \(no external id was sent\): STS AssumeRole failed: the STS endpoint \S+ answered HTTP 403 with something that is not an AWS answer: "403 Forbidden/,
    ],
  ] as const)('%s (the other protocol\'s type): said as not an AWS answer', async (_what, service, contentType, method, params, expected) => {
    stack().ecr.endpoint.setFault({ mode: 'html', status: 403, contentType }, service);
    const { message } = failed(await runAction(stack().plugin, method, params));
    expect(message).toMatch(expected);
  });

  test('an HTML page from STS: roleArn named, with the status', async () => {
    stack().ecr.endpoint.setFault({ mode: 'html', status: 403 }, 'sts');
    const { message } = failed(await runAction(stack().plugin, 'describeRepositories', { ...PARAMS, roleArn: LOCAL_ROLES.push }));
    expect(message).toMatch(/^Parameter "roleArn": could not assume \S+ \(no external id was sent\): STS AssumeRole failed: the STS endpoint \S+ answered HTTP 403 with something that is not an AWS answer: "403 Forbidden/);
    expect(message).not.toMatch(CONTROL);
  });
});

/**
 * Connections that break (the real SDK over HTTP, through a front that resets, hangs up or forgets
 * connections; devkit/fault-front.ts): retried on every AWS call like a refused connection, and
 * named for what they are when they persist, never as a timeout. Each action runs in a node process
 * of its own, as the agent runs it (in jest's sandbox the SDK cannot tell Node's errors for Errors,
 * and wraps them).
 */
describe('connections reset, closed or forgotten on the way to ECR and STS', () => {
  const stack = useLocalStack({ accounts: 1 });
  let front: FaultFront;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    front = await startFaultFront(new URL(stack().ecr.endpoint.url));
    for (const name of ['AWS_ENDPOINT_URL_ECR', 'AWS_ENDPOINT_URL_STS']) {
      saved[name] = process.env[name];
      process.env[name] = front.url;
    }
    stack().ecr.endpoint.createRepositories(NAMES);
  });

  afterEach(() => {
    front.setFault(undefined);
    front.faulted.length = 0;
    front.passed.length = 0;
  });

  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) process.env[name] = value;
    await front?.close();
  });

  /** The action in a fresh node process with the front as its ECR and STS endpoint; its error as the agent shows it. */
  const run = async (method: string, params: Record<string, unknown>): Promise<{ result?: unknown; error?: string; output: string }> => {
    const env = agentEnvironment({ TMPDIR: stack().tmpDir, AWS_ENDPOINT_URL_ECR: front.url, AWS_ENDPOINT_URL_STS: front.url, [REQUEST_TIMEOUT_VARIABLE]: String(REQUEST_TIMEOUT_MS) });
    const outcome = await runAgentAction({ method, params }, env);
    expect(outcome.reported).toBe(true);
    return outcome;
  };

  test('ECR resets the connection once: retried, and the call succeeds', async () => {
    front.setFault({ mode: 'reset', times: 1 });
    const outcome = await run('describeRepositories', PARAMS);
    expect(outcome.error).toBeUndefined();
    expect((outcome.result as { repositories: unknown[] }).repositories).toHaveLength(NAMES.length);
    expect(front.faulted).toEqual(['ecr']);
    expect(front.passed).toEqual(['ecr']);
  });

  test('STS resets the connection once for a role: retried, and the role is assumed', async () => {
    front.setFault({ mode: 'reset', times: 1, service: 'sts' });
    expect((await run('getEcrLogin', { ...PARAMS, roleArn: LOCAL_ROLES.push })).error).toBeUndefined();
    expect(front.faulted).toEqual(['sts']);
    expect(front.passed).toEqual(['sts', 'ecr']);
  });

  test('ECR always resets: three attempts, then one line that says reset, fast, never a timeout', async () => {
    front.setFault({ mode: 'reset' });
    const started = Date.now();
    const { error: message } = await run('describeRepositories', PARAMS);
    expect(Date.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS + 1_000); // a node process starts, then three quick attempts
    expect(message).toBe(
      `ECR DescribeRepositories failed: the connection to the ECR endpoint ${front.url} was reset before an answer (read ECONNRESET), 3 attempts; ` +
        "check the agent's network, proxy and firewall.",
    );
    expect(message).not.toMatch(/timeout|did not answer/i);
    expect(front.faulted).toEqual(['ecr', 'ecr', 'ecr']);
  });

  test('STS always hangs up for a role: roleArn named, the connection said closed, three attempts', async () => {
    front.setFault({ mode: 'hang-up', service: 'sts' });
    const { error: message } = await run('describeRepositories', { ...PARAMS, roleArn: LOCAL_ROLES.push });
    expect(message).toBe(
      `Parameter "roleArn": could not assume ${LOCAL_ROLES.push} (no external id was sent): STS AssumeRole failed: ` +
        `the connection to the STS endpoint ${front.url} was closed before an answer (socket hang up), 3 attempts; check the agent's network, proxy and firewall.`,
    );
    expect(front.faulted).toEqual(['sts', 'sts', 'sts']);
  });

  test('an idle keep-alive connection forgotten between two calls of one client: the second call succeeds', async () => {
    // Over 100 names take two DescribeRepositories calls of one client, the second on the kept connection.
    front.setFault({ mode: 'forget-idle' });
    const connections = front.connections();
    const outcome = await run('describeRepositories', { ...PARAMS, repositoryNames: NAMES });
    expect(outcome.error).toBeUndefined();
    expect((outcome.result as { repositories: unknown[] }).repositories).toHaveLength(NAMES.length);
    expect(front.passed).toEqual(['ecr', 'ecr']);
    expect(front.faulted).toEqual(['ecr']); // the second call, on the forgotten connection
    expect(front.connections() - connections).toBe(2);
  });
});
