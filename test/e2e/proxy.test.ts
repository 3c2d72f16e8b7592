/**
 * The agent's proxy, proven with a real one: Debian's tinyproxy on 127.0.0.1, whose own log says
 * which requests went through it. The local ECR and STS endpoint is plain http, so HTTP_PROXY is
 * the variable that applies to it (HTTPS_PROXY is for https endpoints, as real AWS has); NO_PROXY
 * in each of its forms sends it straight to the endpoint; a proxy that demands basic auth takes the
 * credentials from the proxy URL, and those never show. Without any proxy variable, the plugin loads
 * no proxy code at all. Behind an https front (as real AWS is), HTTPS_PROXY tunnels with CONNECT.
 */
import * as net from 'node:net';
import path from 'node:path';
import { CONNECT_TIMEOUT_VARIABLE } from '../../src/aws/aws-http';
import { REPO_ROOT } from '../../devkit/agent';
import { LOCAL_ROLES } from '../../devkit/local-ecr';
import { describeWithTinyproxy } from '../support/e2e-environment';
import { startTinyproxy, type Tinyproxy } from '../../devkit/proxy';
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
    expect(message).toMatch(new RegExp(`^ECR DescribeRepositories failed: the ECR endpoint ${endpointUrl()} answered HTTP 401 with something that is not an AWS answer: ".*"\\. Is a proxy or firewall in between\\?$`));
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

  test('a proxy that accepts and never answers CONNECT: the connection timeout ends each attempt, retried, then one line', async () => {
    // A "proxy" that takes connections and says nothing, counting them.
    const sockets = new Set<net.Socket>();
    let accepted = 0;
    const silent = net.createServer((socket) => {
      accepted += 1;
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const started = Date.now();
      const outcome = await runWith('describeRepositories', PARAMS, { HTTPS_PROXY: `http://127.0.0.1:${port}`, [CONNECT_TIMEOUT_VARIABLE]: '500' });
      const elapsed = Date.now() - started;
      expect(outcome.error).toBe(
        `ECR DescribeRepositories failed: the ECR endpoint ${front.url} did not accept a connection within 0.5 s (connection timeout); ` +
          "check the agent's network, proxy and firewall.",
      );
      expect(accepted).toBe(3); // the SDK's three attempts
      expect(elapsed).toBeLessThan(10_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
