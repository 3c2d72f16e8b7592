/**
 * No proxy credential (user, password, the two together, or the base64 header that carries them)
 * in the activity log, the error or the result, whatever DEBUG and NODE_DEBUG say: the proxy
 * libraries log through `debug` (DEBUG=* would print their requests' headers) and Node prints a
 * new connection's agent options under NODE_DEBUG=http. Real actions, each in a node process of its
 * own as the agent runs them (devkit/agent-runner.js), through a real proxy that demands the login
 * (tinyproxy), over plain http and through CONNECT tunnels, on success and on failure, and through
 * the kit's fault proxy whose error page names the user.
 */
import { agentEnvironment, runAgentAction, type AgentOutcome } from '../../devkit/agent-process';
import { startFaultProxy, type FaultProxy } from '../../devkit/fault-proxy';
import { LOCAL_KEYS, LOCAL_ROLES, startLocalEcr, type LocalEcr } from '../../devkit/local-ecr';
import { startTinyproxy, type Tinyproxy } from '../../devkit/proxy';
import { startTlsFront, type TlsFront } from '../../devkit/tls-front';
import { describeWithTinyproxy } from '../support/e2e-environment';
import { leakedSecrets, visibleText, type Secret } from './support/secrets';

jest.setTimeout(60_000);

const USER = 'proxyuser7Qk2';
const PASSWORD = 'Pr0xySecret8Hq2';
/** For the fault proxy, which checks no login: a password that must be escaped in a URL. */
const ODD_PASSWORD = 'Pr0xy%Secret@8:Hq';
const PARAMS = { accessKeyId: LOCAL_KEYS.accessKeyId, secretAccessKey: LOCAL_KEYS.secretAccessKey, region: 'us-east-1' };
/** Everything that would print what it knows. */
const DEBUGGING = { DEBUG: '*', NODE_DEBUG: 'http,https,net,tls,stream' };

function credentials(user: string, password: string): Secret[] {
  return [
    { name: 'proxy user', value: user },
    { name: 'proxy password', value: password },
    { name: 'proxy password, escaped', value: encodeURIComponent(password) },
    { name: 'proxy user:password', value: `${user}:${password}` },
    { name: 'proxy login, base64 (Proxy-Authorization)', value: Buffer.from(`${user}:${password}`).toString('base64') },
  ];
}

describeWithTinyproxy('proxy credentials never show, whatever DEBUG or NODE_DEBUG say', () => {
  let ecr: LocalEcr;
  let proxy: Tinyproxy;
  let front: TlsFront;
  let faulty: FaultProxy;

  beforeAll(async () => {
    ecr = await startLocalEcr({ accounts: 1 });
    [proxy, front, faulty] = await Promise.all([startTinyproxy({ auth: { user: USER, password: PASSWORD } }), startTlsFront(new URL(ecr.endpoint.url)), startFaultProxy()]);
  });

  afterAll(async () => {
    await Promise.all([proxy?.dispose(), front?.close(), faulty?.close()]);
    await ecr?.stop();
  });

  afterEach(() => {
    faulty.setFault(undefined);
    faulty.users.length = 0;
  });

  const proxyUrl = (port: number, password = PASSWORD): string => `http://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;

  /** The action in its own process, with the debugging switches on; only the variables given name a proxy. */
  async function run(method: string, params: Record<string, unknown>, extra: Record<string, string>): Promise<AgentOutcome> {
    const env = agentEnvironment({ ...ecr.env, ...DEBUGGING, ...extra });
    const outcome = await runAgentAction({ method, params }, env);
    expect(outcome.reported).toBe(true);
    return outcome;
  }

  function expectNoCredentials(outcome: AgentOutcome, password = PASSWORD): void {
    expect(outcome.output).toMatch(/^HTTP \d+: /m); // NODE_DEBUG did print
    expect(leakedSecrets(visibleText(outcome), credentials(USER, password))).toEqual([]);
  }

  test('through the proxy over plain http, a role included: the call succeeds', async () => {
    const before = (await proxy.requests()).length;
    const outcome = await run('describeRepositories', { ...PARAMS, roleArn: LOCAL_ROLES.push }, { HTTP_PROXY: proxyUrl(proxy.port) });
    expect(outcome.error).toBeUndefined();
    expect((await proxy.requests()).length - before).toBe(2);
    expectNoCredentials(outcome);
  });

  test('through CONNECT tunnels to an https endpoint: the call succeeds', async () => {
    const outcome = await run('getEcrLogin', PARAMS, {
      HTTPS_PROXY: proxyUrl(proxy.port),
      AWS_ENDPOINT_URL_ECR: front.url,
      AWS_ENDPOINT_URL_STS: front.url,
      NODE_EXTRA_CA_CERTS: front.caFile,
    });
    expect(outcome.error).toBeUndefined();
    expectNoCredentials(outcome);
  });

  test('a wrong password: the proxy refuses, the error and the log name neither', async () => {
    const wrong = 'Wr0ngSecret5Jx';
    const outcome = await run('getEcrLogin', PARAMS, { HTTP_PROXY: proxyUrl(proxy.port, wrong) });
    expect(outcome.error).toMatch(/^ECR GetAuthorizationToken failed: the ECR endpoint \S+ through the proxy 127\.0\.0\.1:\d+ \(HTTP_PROXY\) answered HTTP 401 /);
    expectNoCredentials(outcome, wrong);
  });

  test.each([
    ['a CONNECT tunnel', 'HTTPS_PROXY'],
    ['a plain-http request', 'HTTP_PROXY'],
  ])('a proxy that answers %s with 407 and a page naming the user: neither the user nor the password shows', async (_what, variable) => {
    faulty.setFault({ mode: 'status', status: 407 });
    const outcome = await run('getEcrLogin', PARAMS, {
      [variable]: proxyUrl(faulty.port, ODD_PASSWORD),
      AWS_ENDPOINT_URL_ECR: variable === 'HTTPS_PROXY' ? front.url : ecr.endpoint.url,
      NODE_EXTRA_CA_CERTS: front.caFile,
    });
    expect(outcome.error).toMatch(new RegExp(`^ECR GetAuthorizationToken failed: the proxy 127\\.0\\.0\\.1:${faulty.port} \\(${variable}\\) `));
    expect(faulty.users).toEqual([USER]); // the login was sent, decoded from the URL
    expectNoCredentials(outcome, ODD_PASSWORD);
  });
});
