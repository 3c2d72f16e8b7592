/**
 * The agent's proxy for what came after the first methods: Copy Image's registry requests (both
 * sides, through the registry's HTTP API), Check Image Scan's calls and ECR Public's. Proven with a
 * real proxy (Debian's tinyproxy), whose own log says which requests went through it, and real
 * registries behind the ECR stand-in; NO_PROXY naming a registry's host sends its requests straight
 * there while the AWS calls still go through the proxy. Each action is a node process of its own, as
 * the agent runs it.
 */
import { agentEnvironment, runAgentAction, type AgentOutcome } from '../../devkit/agent-process';
import { LOCAL_KEYS, startLocalEcr, type LocalEcr } from '../../devkit/local-ecr';
import { LOCAL_SCAN_FINDINGS } from '../../devkit/local-stack';
import { writeImage } from '../../devkit/oci-images';
import { startTinyproxy, type Tinyproxy } from '../../devkit/proxy';
import { describeWithDocker, describeWithTinyproxy } from '../support/e2e-environment';

jest.setTimeout(60_000);

const [A, B] = ['123456789012', '210987654321'];
const KEYS = { accessKeyId: LOCAL_KEYS.accessKeyId, secretAccessKey: LOCAL_KEYS.secretAccessKey, region: 'us-east-1' };
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

describeWithTinyproxy('the proxy for Copy Image, Check Image Scan and ECR Public (real tinyproxy)', () => {
  describeWithDocker('through tinyproxy to the ECR stand-in and real registries', (e2e) => {
    let ecr: LocalEcr;
    let proxy: Tinyproxy;

    beforeAll(async () => {
      [ecr, proxy] = await Promise.all([startLocalEcr({ accounts: 2, startRegistry: (options) => e2e().startRegistry(options), publicRegistry: true }), startTinyproxy()]);
      ecr.endpoint.createRepositories(['team/app'], A);
      ecr.endpoint.createRepositories(['prod/app', 'direct/app'], B);
      const source = ecr.place(A);
      const image = await writeImage({ url: source.url, user: 'AWS', password: source.password }, 'team/app', '1.0', [256 * 1024]);
      ecr.endpoint.scans.set({ repositoryName: 'team/app', digest: image.digest, tags: ['1.0'], scan: [{ status: 'COMPLETE', scanType: 'BASIC', findings: LOCAL_SCAN_FINDINGS }] });
    });

    afterAll(async () => {
      await Promise.all([proxy?.dispose(), ecr?.stop()]);
    });

    /** The action in its own process; only the variables given name a proxy. */
    async function run(method: string, params: Record<string, unknown>, proxyEnv: Record<string, string>): Promise<{ outcome: AgentOutcome; proxied: string[] }> {
      const env = agentEnvironment({ ...ecr.env, ...proxyEnv });
      for (const name of PROXY_VARIABLES) if (!(name in proxyEnv)) delete env[name];
      const before = (await proxy.requests()).length;
      const outcome = await runAgentAction({ method, params }, env);
      expect(outcome.error).toBeUndefined();
      return { outcome, proxied: (await proxy.requests()).slice(before) };
    }
    const awsCalls = (lines: string[]): string[] => lines.filter((line) => line === `POST ${ecr.endpoint.url}/ HTTP/1.1`);
    const registryRequests = (lines: string[], host: string): string[] => lines.filter((line) => line.includes(` http://${host}/v2/`));
    const copyParams = (targetRepoName: string) => ({ ...KEYS, repoName: 'team/app', imageName: '1.0', targetRegistryId: B, targetRepoName });

    test('copyImage: every AWS call and every registry request of both sides goes through HTTP_PROXY', async () => {
      const calls = ecr.endpoint.calls.length;
      const { proxied, outcome } = await run('copyImage', copyParams('prod/app'), { HTTP_PROXY: proxy.url });
      // tinyproxy closes a client's connection after each answer without saying so: no request may meet a connection it closed.
      expect(outcome.output).not.toMatch(/retrying/);
      expect(awsCalls(proxied)).toHaveLength(ecr.endpoint.calls.length - calls);
      const [source, target] = [ecr.place(A).host, ecr.place(B).host];
      expect(registryRequests(proxied, source)).toContain(`GET http://${source}/v2/team/app/manifests/1.0 HTTP/1.1`);
      expect(registryRequests(proxied, target)).toContain(`PUT http://${target}/v2/prod/app/manifests/1.0 HTTP/1.1`);
      // Nothing else: each line is an AWS call or a request to one of the two registries.
      expect(proxied.length).toBe(awsCalls(proxied).length + registryRequests(proxied, source).length + registryRequests(proxied, target).length);
    });

    test('copyImage: NO_PROXY naming the registries (host and port) sends their requests straight there; the AWS calls still go through the proxy', async () => {
      const [source, target] = [ecr.place(A).host, ecr.place(B).host];
      const calls = ecr.endpoint.calls.length;
      const { proxied } = await run('copyImage', copyParams('direct/app'), { HTTP_PROXY: proxy.url, NO_PROXY: `${source}, ${target}` });
      expect(registryRequests(proxied, source)).toEqual([]);
      expect(registryRequests(proxied, target)).toEqual([]);
      expect(awsCalls(proxied)).toHaveLength(ecr.endpoint.calls.length - calls);
      expect(awsCalls(proxied).length).toBeGreaterThan(0);
    });

    test('checkImageScan and registryType public: their calls go through the proxy', async () => {
      const before = ecr.endpoint.calls.length + ecr.endpoint.publicCalls.length;
      const scan = await run('checkImageScan', { ...KEYS, repoName: 'team/app', imageName: '1.0' }, { HTTP_PROXY: proxy.url });
      const described = await run('describeRepositories', { ...KEYS, registryType: 'public' }, { HTTP_PROXY: proxy.url });
      const made = ecr.endpoint.calls.length + ecr.endpoint.publicCalls.length - before;
      expect(ecr.endpoint.calls.some((c) => c.operation === 'DescribeImageScanFindings')).toBe(true);
      expect(ecr.endpoint.publicCalls.length).toBeGreaterThan(0);
      expect(awsCalls(scan.proxied).length + awsCalls(described.proxied).length).toBe(made);
      expect(made).toBeGreaterThanOrEqual(2);
    });
  });
});
