/**
 * The agent's proxy, proven with a real one: Debian's tinyproxy on 127.0.0.1, whose own log says
 * which requests went through it. The local ECR and STS endpoint is plain http, so HTTP_PROXY is
 * the variable that applies to it (HTTPS_PROXY is for https endpoints, as real AWS has); NO_PROXY
 * in each of its forms sends it straight to the endpoint; a proxy that demands basic auth takes the
 * credentials from the proxy URL, and those never show. Without any proxy variable, the plugin loads
 * no proxy code at all. Behind an https front (as real AWS is), HTTPS_PROXY tunnels with CONNECT.
 */
import path from 'node:path';
import { CONNECT_TIMEOUT_VARIABLE } from '../../src/aws/transport-settings';
import { REPO_ROOT } from '../../devkit/agent';
import { LOCAL_ROLES } from '../../devkit/local-ecr';
import { describeWithTinyproxy } from '../support/e2e-environment';
import { startTinyproxy, type Tinyproxy } from '../../devkit/proxy';
import { startFaultProxy, type FaultProxy } from '../../devkit/fault-proxy';
import { startTlsFront, type TlsFront } from '../../devkit/tls-front';
import { agentEnvironment, runAgentAction } from '../../devkit/agent-process';
import { E2E_TEST_TIMEOUT_MS, VAULT_KEYS, expectNoSecrets, failed, runAction, succeeded, useLocalStack } from './helpers';

jest.setTimeout(E2E_TEST_TIMEOUT_MS);

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];
const PARAMS = { ...VAULT_KEYS, region: 'us-east-1' };
const AUTH = { user: 'kaholo', password: 'proxy-Pa55word-4Tz9' };

/** Records whether the plugin's proxy module is ever required in this file (jest's module registry). */
const loaded = { proxy: 0 };
const PROXY_MODULE = path.join(REPO_ROOT, 'dist', 'aws', 'proxy-agent.js');
jest.doMock(PROXY_MODULE, () => {
  loaded.proxy += 1;
  return jest.requireActual<object>(PROXY_MODULE);
});

describeWithTinyproxy('AWS calls through the agent\'s proxy (real tinyproxy, local ECR and STS endpoint)', () => {
  const stack = useLocalStack({ accounts: 1 });
  let proxy: Tinyproxy;
  let authProxy: Tinyproxy;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    for (const name of PROXY_VARIABLES) saved[name] = process.env[name];
    [proxy, authProxy] = await Promise.all([startTinyproxy(), startTinyproxy({ auth: AUTH })]);
    stack().ecr.endpoint.createRepositories(['team/app']);
  });

  beforeEach(() => {
    for (const name of PROXY_VARIABLES) delete process.env[name];
  });

  afterAll(async () => {
    for (const name of PROXY_VARIABLES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await Promise.all([proxy?.dispose(), authProxy?.dispose()]);
  });

  const endpointUrl = (): string => stack().ecr.endpoint.url;
  /** What tinyproxy logs for one call to the local endpoint (both services answer POST /). */
  const throughProxy = (): string => `POST ${endpointUrl()}/ HTTP/1.1`;
  const newRequests = async (of: Tinyproxy, before: number): Promise<string[]> => (await of.requests()).slice(before);

  test('without proxy variables: straight to the endpoint, and no proxy code is loaded', async () => {
    const before = (await proxy.requests()).length;
    succeeded(await runAction(stack().plugin, 'describeRepositories', { ...PARAMS, roleArn: LOCAL_ROLES.push }));
    expect(await newRequests(proxy, before)).toEqual([]);
    expect(loaded.proxy).toBe(0);
  });

  test('HTTP_PROXY: every call of a plain-http endpoint goes through the proxy, STS for the role included', async () => {
    process.env.HTTP_PROXY = proxy.url;
    const before = (await proxy.requests()).length;
    const calls = stack().ecr.endpoint.calls.length;
    const assumed = stack().ecr.endpoint.assumeRoleCalls.length;
    const run = await runAction<{ repositories: unknown[] }>(stack().plugin, 'describeRepositories', { ...PARAMS, roleArn: LOCAL_ROLES.push });
    expect(succeeded(run).repositories).toHaveLength(1);
    const sent = stack().ecr.endpoint.calls.length - calls + (stack().ecr.endpoint.assumeRoleCalls.length - assumed);
    expect(sent).toBe(2); // AssumeRole, then DescribeRepositories
    expect(await newRequests(proxy, before)).toEqual([throughProxy(), throughProxy()]);
    expect(loaded.proxy).toBe(1);
  });

  test('lower-case http_proxy counts too; HTTPS_PROXY alone does not apply to a plain-http endpoint', async () => {
    process.env.http_proxy = proxy.url;
    let before = (await proxy.requests()).length;
    succeeded(await runAction(stack().plugin, 'getEcrLogin', PARAMS));
    expect(await newRequests(proxy, before)).toEqual([throughProxy()]);

    delete process.env.http_proxy;
    process.env.HTTPS_PROXY = proxy.url;
    before = (await proxy.requests()).length;
    succeeded(await runAction(stack().plugin, 'getEcrLogin', PARAMS));
    expect(await newRequests(proxy, before)).toEqual([]);
  });

  test.each([
    ['the host', () => '127.0.0.1'],
    ['host:port', () => new URL(endpointUrl()).host],
    ['a suffix', () => '.0.0.1'],
    ['a *.suffix', () => '*.0.1'],
    ['*', () => '*'],
    ['one entry of a list', () => `registry.example.com, 127.0.0.1 ,.internal`],
  ])('NO_PROXY with %s bypasses the proxy', async (_what, noProxy) => {
    process.env.HTTP_PROXY = proxy.url;
    process.env.NO_PROXY = noProxy();
    const before = (await proxy.requests()).length;
    succeeded(await runAction(stack().plugin, 'getEcrLogin', PARAMS));
    expect(await newRequests(proxy, before)).toEqual([]);
  });

  test('NO_PROXY entries that do not match (another port, another host) leave the proxy in use', async () => {
    process.env.HTTP_PROXY = proxy.url;
    process.env.no_proxy = `127.0.0.1:1,localhost,.amazonaws.com`;
    const before = (await proxy.requests()).length;
    succeeded(await runAction(stack().plugin, 'getEcrLogin', PARAMS));
    expect(await newRequests(proxy, before)).toEqual([throughProxy()]);
  });

  test('a proxy that demands basic auth: user:password in the URL works, and never shows', async () => {
    process.env.HTTP_PROXY = `http://${AUTH.user}:${AUTH.password}@127.0.0.1:${authProxy.port}`;
    const before = (await authProxy.requests()).length;
    const run = await runAction(stack().plugin, 'getEcrLogin', { ...PARAMS, roleArn: LOCAL_ROLES.push });
    succeeded(run);
    expect(await newRequests(authProxy, before)).toEqual([throughProxy(), throughProxy()]);
    expect(run.output).not.toContain(AUTH.password);
  });

  test('a proxy that refuses the credentials: one line with the status, the password never in it', async () => {
    const wrong = 'not-the-Pa55word-8Hq';
    process.env.HTTP_PROXY = `http://${AUTH.user}:${wrong}@127.0.0.1:${authProxy.port}`;
    const run = await runAction(stack().plugin, 'describeRepositories', PARAMS);
    const { message } = failed(run);
    // tinyproxy answers wrong credentials with 401 and its own HTML page (407 is for none at all).
    expect(message).toMatch(new RegExp(`^ECR DescribeRepositories failed: the ECR endpoint ${endpointUrl()} through the proxy 127\\.0\\.0\\.1:${authProxy.port} \\(HTTP_PROXY\\) answered HTTP 401 with something that is not an AWS answer: ".*"\\. Is a proxy or firewall in between\\?$`));
    expect(`${message}\n${run.output}`).not.toContain(wrong);
    expectNoSecrets(stack(), message, run.output);
  });

  test('a proxy variable that is not a proxy URL: an error naming the variable, without its password', async () => {
    process.env.HTTP_PROXY = `socks5://${AUTH.user}:${AUTH.password}@127.0.0.1:1080`;
    const { message } = failed(await runAction(stack().plugin, 'getEcrLogin', PARAMS));
    expect(message).toBe(
      'The agent\'s HTTP_PROXY is not a proxy URL; expected one such as "http://proxy.example.com:3128" (with "user:password@" if it needs a login)',
    );
  });
});

describeWithTinyproxy('https endpoints through HTTPS_PROXY: CONNECT tunnels (real tinyproxy, an https front for the local endpoint)', () => {
  const stack = useLocalStack({ accounts: 1 });
  let proxy: Tinyproxy;
  let front: TlsFront;

  beforeAll(async () => {
    [proxy, front] = await Promise.all([startTinyproxy(), startTlsFront(new URL(stack().ecr.endpoint.url))]);
  });

  afterAll(async () => {
    await Promise.all([proxy?.dispose(), front?.close()]);
  });

  const newRequests = async (before: number): Promise<string[]> => (await proxy.requests()).slice(before);

  /** The action in a node process of its own, as the agent runs it, trusting the front's certificate. */
  const runWith = (method: string, params: Record<string, unknown>, extra: Record<string, string>) => {
    const env = agentEnvironment({
      TMPDIR: stack().tmpDir,
      AWS_ENDPOINT_URL_ECR: front.url,
      AWS_ENDPOINT_URL_STS: front.url,
      NODE_EXTRA_CA_CERTS: front.caFile,
      ...extra,
    });
    for (const name of PROXY_VARIABLES) if (!(name in extra)) delete env[name];
    return runAgentAction({ method, params }, env);
  };

  test('ECR and STS calls go through the proxy as CONNECT tunnels to the https endpoint', async () => {
    const before = (await proxy.requests()).length;
    const outcome = await runWith('getEcrLogin', { ...PARAMS, roleArn: LOCAL_ROLES.push }, { HTTPS_PROXY: proxy.url });
    expect(outcome.error).toBeUndefined();
    const tunnels = await newRequests(before);
    // One tunnel for STS, one for ECR (each client has its own connections).
    expect(tunnels).toEqual([`CONNECT localhost:${front.port} HTTP/1.1`, `CONNECT localhost:${front.port} HTTP/1.1`]);
  });

  test('NO_PROXY sends an https endpoint straight there; HTTP_PROXY alone does not apply to it', async () => {
    const before = (await proxy.requests()).length;
    const bypassed = await runWith('getEcrLogin', PARAMS, { HTTPS_PROXY: proxy.url, NO_PROXY: `localhost:${front.port}` });
    expect(bypassed.error).toBeUndefined();
    const httpOnly = await runWith('getEcrLogin', PARAMS, { HTTP_PROXY: proxy.url });
    expect(httpOnly.error).toBeUndefined();
    expect(await newRequests(before)).toEqual([]);
  });

  test('NO_PROXY read as curl reads it: a name with a leading dot covers the name itself, in any case', async () => {
    const before = (await proxy.requests()).length;
    for (const noProxy of ['.localhost', 'LOCALHOST.', 'example.com localhost']) {
      const outcome = await runWith('getEcrLogin', PARAMS, { HTTPS_PROXY: proxy.url, NO_PROXY: noProxy });
      expect(outcome.error).toBeUndefined();
    }
    expect(await newRequests(before)).toEqual([]);
  });

  describe('proxies that fail (a small proxy of the kit that misbehaves on purpose: devkit/fault-proxy.ts)', () => {
    let faulty: FaultProxy;

    beforeAll(async () => {
      faulty = await startFaultProxy();
    });

    afterEach(() => {
      faulty.setFault(undefined);
      faulty.requests.length = 0;
      faulty.users.length = 0;
    });

    afterAll(async () => {
      await faulty?.close();
    });

    const connects = (): string[] => faulty.requests.filter((line) => line.startsWith('CONNECT '));
    const proxyName = (variable: string): string => `the proxy 127.0.0.1:${faulty.port} (${variable})`;

    test('no answer to CONNECT: each attempt ends at the connection timeout, retried, then one line naming the proxy, the endpoint and the timeout', async () => {
      // 2 s or more: the SDK then starts its own connection timer a second late, racing the tunnel's.
      faulty.setFault({ mode: 'silent' });
      const started = Date.now();
      const outcome = await runWith('describeRepositories', PARAMS, { HTTPS_PROXY: faulty.url, [CONNECT_TIMEOUT_VARIABLE]: '2000' });
      const elapsed = Date.now() - started;
      expect(outcome.error).toBe(
        `ECR DescribeRepositories failed: no connection to the ECR endpoint ${front.url} through ${proxyName('HTTPS_PROXY')} within 2 s (connection timeout), 3 attempts; ` +
          "check the proxy and the agent's network.",
      );
      expect(connects()).toHaveLength(3); // the SDK's three attempts
      expect(elapsed).toBeLessThan(15_000);
    });

    test('a proxy that closes the connection on CONNECT: retried, then one line naming it', async () => {
      faulty.setFault({ mode: 'close' });
      const outcome = await runWith('getEcrLogin', PARAMS, { HTTPS_PROXY: faulty.url });
      expect(outcome.error).toBe(
        `ECR GetAuthorizationToken failed: ${proxyName('HTTPS_PROXY')} closed the connection before it opened a tunnel to the ECR endpoint ${front.url}, 3 attempts; check the proxy.`,
      );
      expect(connects()).toHaveLength(3);
    });

    test('a proxy that answers CONNECT with a 502 once: retried, and the call succeeds through it', async () => {
      faulty.setFault({ mode: 'status', status: 502, times: 1 });
      const outcome = await runWith('getEcrLogin', PARAMS, { HTTPS_PROXY: faulty.url });
      expect(outcome.error).toBeUndefined();
      expect(connects()).toEqual([`CONNECT localhost:${front.port}`, `CONNECT localhost:${front.port}`]);
    });

    test('a proxy that answers CONNECT with 503 every time: three attempts, then the status, naming the proxy', async () => {
      faulty.setFault({ mode: 'status', status: 503 });
      const outcome = await runWith('describeRepositories', { ...PARAMS, roleArn: LOCAL_ROLES.push }, { HTTPS_PROXY: faulty.url });
      expect(outcome.error).toBe(
        `Parameter "roleArn": could not assume ${LOCAL_ROLES.push} (no external id was sent): STS AssumeRole failed: ` +
          `${proxyName('HTTPS_PROXY')} refused a tunnel to the STS endpoint ${front.url}: HTTP 503 Service Unavailable, 3 attempts; check the proxy and its rules.`,
      );
      expect(connects()).toHaveLength(3);
    });

    test('407 to CONNECT, with a page that names the user: not retried; neither the user nor the password anywhere', async () => {
      faulty.setFault({ mode: 'status', status: 407 });
      const outcome = await runWith('getEcrLogin', PARAMS, { HTTPS_PROXY: `http://${AUTH.user}:${AUTH.password}@127.0.0.1:${faulty.port}` });
      expect(outcome.error).toBe(
        `ECR GetAuthorizationToken failed: ${proxyName('HTTPS_PROXY')} refused a tunnel to the ECR endpoint ${front.url}: HTTP 407 Proxy Authentication Required; ` +
          'check the user and password in HTTPS_PROXY.',
      );
      expect(faulty.users).toEqual([AUTH.user]); // the login was sent
      expect(connects()).toHaveLength(1);
      for (const secret of [AUTH.user, AUTH.password]) expect(`${outcome.error}\n${outcome.output}`).not.toContain(secret);
    });

    test('a proxy for a plain-http endpoint that hangs up: retried, then the connection said closed, naming the proxy', async () => {
      faulty.setFault({ mode: 'close' });
      const outcome = await runWith('describeRepositories', PARAMS, { HTTP_PROXY: faulty.url, AWS_ENDPOINT_URL_ECR: stack().ecr.endpoint.url });
      expect(outcome.error).toBe(
        `ECR DescribeRepositories failed: the connection to the ECR endpoint ${stack().ecr.endpoint.url} through ${proxyName('HTTP_PROXY')} ` +
          "was closed before an answer (socket hang up), 3 attempts; check the proxy and the agent's network.",
      );
      expect(faulty.requests).toEqual(Array(3).fill(`POST ${stack().ecr.endpoint.url}/`));
    });

    test('a proxy for a plain-http endpoint that answers 407 with a page naming the user: the proxy named, the user not', async () => {
      faulty.setFault({ mode: 'status', status: 407 });
      const outcome = await runWith('getEcrLogin', PARAMS, { HTTP_PROXY: `http://${AUTH.user}:${AUTH.password}@127.0.0.1:${faulty.port}`, AWS_ENDPOINT_URL_ECR: stack().ecr.endpoint.url });
      expect(outcome.error).toBe(
        `ECR GetAuthorizationToken failed: ${proxyName('HTTP_PROXY')} asks for a login (HTTP 407) on the way to the ECR endpoint ${stack().ecr.endpoint.url}: ` +
          '"Access denied for [REDACTED]."; check the user and password in HTTP_PROXY.',
      );
      for (const secret of [AUTH.user, AUTH.password]) expect(`${outcome.error}\n${outcome.output}`).not.toContain(secret);
    });

    test('a short proxy user ("ops") named by the proxy\'s 407 page: hidden too, while the words around it stay', async () => {
      faulty.setFault({ mode: 'status', status: 407 });
      const outcome = await runWith('getEcrLogin', PARAMS, { HTTP_PROXY: `http://ops:${AUTH.password}@127.0.0.1:${faulty.port}`, AWS_ENDPOINT_URL_ECR: stack().ecr.endpoint.url });
      expect(faulty.users).toEqual(['ops']);
      expect(outcome.error).toBe(
        `ECR GetAuthorizationToken failed: ${proxyName('HTTP_PROXY')} asks for a login (HTTP 407) on the way to the ECR endpoint ${stack().ecr.endpoint.url}: ` +
          '"Access denied for [REDACTED]."; check the user and password in HTTP_PROXY.',
      );
      expect(`${outcome.error}\n${outcome.output}`).not.toMatch(/\bops\b/);
    });

    test.each([
      ['a "%" in the password', `http://${AUTH.user}:50%off@127.0.0.1:3128`],
      ['a "%" in the user', 'http://us%er:pw@127.0.0.1:3128'],
    ])('%s: an error naming the variable, never its value', async (_what, value) => {
      const outcome = await runWith('getEcrLogin', PARAMS, { https_proxy: value });
      expect(outcome.error).toBe(
        'The agent\'s https_proxy has a user or password that cannot be decoded: write "%" in it as "%25" (and "@", ":", "/" as "%40", "%3A", "%2F")',
      );
    });
  });
});
