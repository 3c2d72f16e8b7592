/**
 * Faults are survived or reported clearly, with nothing left behind (no private
 * docker config, no change to the agent's docker config, no docker process):
 * throttling and 5xx from the ECR API (a few absorbed by the SDK's retries, more give an error with
 * the exception's name), the ECR API unreachable, the docker CLI missing, the registry down or
 * refusing the password, the Docker engine down, a push of an image that is not there, a pull of a
 * tag that is not there, and an action killed with SIGTERM while its docker push runs (held there by
 * the kit's stand-in docker).
 *
 * Every action runs as the agent runs it, in a node process of its own, with TMPDIR and
 * DOCKER_CONFIG of the test's own, and the leftover check is scoped to that TMPDIR
 * (test/support/leftovers.ts).
 *
 * That a timeout bounds every docker command is proven in test/unit/docker-cli.test.ts ("stops a
 * command that outlives its timeout"); every call site must pass one (DockerRunOptions.timeoutMs is
 * required), and the interrupt path below is the same stop.
 */
import execa from 'execa';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWithDocker } from '../support/e2e-environment';
import { makeImage, removeImage } from '../../devkit/images';
import { leftoversSince, takeSnapshot } from '../support/leftovers';
import { LOCAL_KEYS, LOCAL_REGION, startLocalEcr, type LocalEcr } from '../../devkit/local-ecr';
import { buildStandIns, makeGate } from '../../devkit/stand-ins';
import { agentEnvironment, runAgentAction, startAgentAction, type AgentAction, type AgentOutcome } from '../../devkit/agent-process';

jest.setTimeout(90_000);

const KEYS = { ...LOCAL_KEYS, region: LOCAL_REGION };

/** The test's own TMPDIR and agent docker config, and a runner that checks nothing was left behind. */
async function agentSandbox(): Promise<{ tmp: string; agentConfig: string; run: (action: AgentAction, env: Record<string, string>) => Promise<AgentOutcome> }> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sec-faults-'));
  const agentDir = path.join(tmp, 'agent-docker');
  await fs.mkdir(agentDir, { mode: 0o700 });
  const agentConfig = path.join(agentDir, 'config.json');
  await fs.writeFile(agentConfig, '{"psFormat":"table {{.ID}}"}\n');
  return {
    tmp,
    agentConfig,
    async run(action, env) {
      const before = await takeSnapshot({ tmpDir: tmp, agentConfigFile: agentConfig });
      const outcome = await runAgentAction(action, agentEnvironment({ TMPDIR: tmp, DOCKER_CONFIG: agentDir, ...env }));
      expect(await leftoversSince(before)).toEqual([]);
      expect(outcome.reported).toBe(true);
      return outcome;
    },
  };
}

describe('faults of the ECR API and the agent (no Docker engine needed)', () => {
  let ecr: LocalEcr;
  let sandbox: Awaited<ReturnType<typeof agentSandbox>>;
  let emptyBin: string;
  const callsOf = (operation: string): number => ecr.endpoint.calls.filter((c) => c.operation === operation).length;
  const run = (method: string, params: Record<string, unknown>, env: Record<string, string> = {}): Promise<AgentOutcome> =>
    sandbox.run({ method, params }, { ...ecr.env, ...env });

  beforeAll(async () => {
    ecr = await startLocalEcr({ accounts: 1 });
    ecr.endpoint.createRepositories(['team/app']);
    sandbox = await agentSandbox();
    emptyBin = path.join(sandbox.tmp, 'empty-bin');
    await fs.mkdir(emptyBin);
  });

  afterEach(() => ecr.endpoint.failNext(0, 'server-error'));

  afterAll(async () => {
    await ecr.stop();
    await fs.rm(sandbox.tmp, { recursive: true, force: true });
  });

  it('two throttling answers are absorbed by the SDK retries', async () => {
    const before = callsOf('GetAuthorizationToken');
    ecr.endpoint.failNext(2, 'throttling');
    const { result, error } = await run('getEcrLogin', KEYS);
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ authorizationData: [expect.objectContaining({ proxyEndpoint: expect.any(String) as string }) as object] });
    expect(callsOf('GetAuthorizationToken') - before).toBe(3);
  });

  it('two 5xx answers are absorbed by the SDK retries', async () => {
    const before = callsOf('DescribeRepositories');
    ecr.endpoint.failNext(2, 'server-error');
    const { result, error } = await run('describeRepositories', KEYS);
    expect(error).toBeUndefined();
    expect(result).toEqual({ repositories: [expect.objectContaining({ repositoryName: 'team/app' }) as object] });
    expect(callsOf('DescribeRepositories') - before).toBe(3);
  });

  it('throttling beyond the retries: a clear error with the exception name and request id', async () => {
    ecr.endpoint.failNext(10, 'throttling');
    const { error } = await run('pushImgaeToRepo', { ...KEYS, repoName: 'team/app', imageName: 'app:1.0' });
    expect(error).toMatch(/^ECR GetAuthorizationToken failed: ThrottlingException: Rate exceeded \(request id: [0-9a-f-]{36}\)$/);
  });

  it('5xx beyond the retries: a clear error with the exception name and request id', async () => {
    ecr.endpoint.failNext(10, 'server-error');
    const { error } = await run('describeRepositories', KEYS);
    expect(error).toMatch(/^ECR DescribeRepositories failed: ServerException: .+ \(request id: [0-9a-f-]{36}\)$/);
  });

  it('the ECR API unreachable', async () => {
    const { error } = await run('pullImage', { ...KEYS, repoName: 'team/app', imageName: '1.0' }, { AWS_ENDPOINT_URL_ECR: 'http://127.0.0.1:9' });
    expect(error).toBe(
      'ECR GetAuthorizationToken failed: the ECR endpoint http://127.0.0.1:9 refused the connection (connect ECONNREFUSED 127.0.0.1:9), 3 attempts; it could not be reached from the agent.',
    );
  });

  it.each(['pushImgaeToRepo', 'pullImage'])('%s without the docker CLI on PATH', async (method) => {
    const { error } = await run(method, { ...KEYS, repoName: 'team/app', imageName: 'app:1.0' }, { PATH: emptyBin });
    expect(error).toBe(
      'The docker CLI was not found on the agent (looked for "docker" on PATH). Push and pull need Docker installed where the Kaholo agent runs.',
    );
  });
});

describeWithDocker('faults of the registry, the engine, the images and the action (real engine and registry)', (e2e) => {
  let ecr: LocalEcr;
  let sandbox: Awaited<ReturnType<typeof agentSandbox>>;
  const tag = `f${process.pid}`;
  const smallImage = `sec-faults/small:${tag}`;
  const repoName = 'sec/faults';
  let host: string;
  const run = (method: string, params: Record<string, unknown>, env: Record<string, string> = {}): Promise<AgentOutcome> =>
    sandbox.run({ method, params: { ...KEYS, repoName, ...params } }, { ...e2e().env, ...ecr.env, ...env });

  beforeAll(async () => {
    ecr = await startLocalEcr({ accounts: 1, startRegistry: (options) => e2e().startRegistry(options) });
    host = ecr.registries[0].host;
    sandbox = await agentSandbox();
    await makeImage(e2e().env, smallImage, 256 * 1024);
  });

  afterAll(async () => {
    for (const image of [smallImage, `${host}/${repoName}:${tag}`]) await removeImage(e2e().env, image);
    await ecr.stop();
    await fs.rm(sandbox.tmp, { recursive: true, force: true });
  });

  it('the registry down: docker login fails clearly', async () => {
    await ecr.registries[0].stop();
    try {
      const { error } = await run('pushImgaeToRepo', { imageName: smallImage });
      expect(error).toMatch(
        new RegExp(`^The registry ${host.replace(/\./g, '\\.')} cannot be reached from the agent: docker login failed: .*connection refused`),
      );
    } finally {
      await ecr.registries[0].start();
    }
  });

  it('the registry refusing the password: docker login fails clearly', async () => {
    await ecr.registries[0].setPassword(`not-what-ecr-hands-out-${tag}`);
    try {
      const { error } = await run('pullImage', { imageName: tag });
      expect(error).toMatch(/^The registry \S+ refused the login ECR authorized: docker login failed: .*(401 Unauthorized|unauthorized)/i);
    } finally {
      // Both sides agree again, on a password we now know.
      const password = `agreed-again-${tag}`;
      ecr.endpoint.setPassword(ecr.accountIds[0], password);
      await ecr.registries[0].setPassword(password);
    }
  });

  it('the Docker engine down (DOCKER_HOST at a dead socket)', async () => {
    const dead = `unix://${path.join(sandbox.tmp, 'dead.sock')}`;
    const { error } = await run('pushImgaeToRepo', { imageName: smallImage }, { DOCKER_HOST: dead });
    expect(error).toMatch(new RegExp(`^The Docker engine does not answer at ${dead}: is the daemon running, and may the agent's user reach it\\? \\(.+\\)$`));
  });

  it('a push of an image that does not exist locally', async () => {
    const { error, output } = await run('pushImgaeToRepo', { imageName: 'sec-faults/nothing:1' });
    expect(error).toBe('Parameter "imageName": no such local image on the agent (looked for "sec-faults/nothing:1"); build or pull it first');
    expect(output).toContain(`Logged out of ${host}`);
  });

  it('a pull of a tag that does not exist', async () => {
    const { error, output } = await run('pullImage', { imageName: 'no-such-tag' });
    expect(error).toMatch(new RegExp(`^${host}/${repoName}:no-such-tag is not in the registry: check "repoName" and "imageName" \\(docker pull failed: .+\\)$`));
    expect(output).toContain(`Logged out of ${host}`);
  });

  it('an action killed with SIGTERM while its docker push runs: logout and cleanup run, then it ends by the signal', async () => {
    // The stand-in docker holds the push at a gate, so the signal lands while it runs, every time.
    const bin = await buildStandIns({ docker: true });
    const gate = await makeGate(['push']);
    try {
      const target = `${host}/${repoName}:${tag}`;
      const before = await takeSnapshot({ tmpDir: sandbox.tmp, agentConfigFile: sandbox.agentConfig });
      const env = agentEnvironment({
        ...e2e().env,
        ...ecr.env,
        ...gate.env,
        TMPDIR: sandbox.tmp,
        DOCKER_CONFIG: path.dirname(sandbox.agentConfig),
        PATH: `${bin.dir}${path.delimiter}${process.env.PATH ?? ''}`,
      });

      const agent = startAgentAction({ method: 'pushImgaeToRepo', params: { ...KEYS, repoName, imageName: smallImage } }, env);
      await gate.reached('push', 60_000);
      expect(await gate.calls()).toContain(`push ${target}`);
      agent.kill('SIGTERM');
      const outcome = await agent.finished;

      expect({ signal: outcome.signal, reported: outcome.reported }).toEqual({ signal: 'SIGTERM', reported: false });
      expect(outcome.output).toMatch(/^Interrupted \(SIGTERM\): stopping the work; cleaning up$/m);
      expect(outcome.output).toContain(`Logged out of ${host}`);
      expect(outcome.output).not.toMatch(/digest: sha256:/);
      // No docker process is left (the held push included), nor a private config, nor a change to the agent's config.
      expect(await leftoversSince(before)).toEqual([]);
      // The name the action had added to the agent's images is gone again; the agent's own image stays.
      const inspect = (ref: string) => execa('docker', ['image', 'inspect', ref], { env: e2e().env, reject: false });
      expect((await inspect(target)).exitCode).not.toBe(0);
      expect((await inspect(smallImage)).exitCode).toBe(0);
    } finally {
      await gate.remove();
      await bin.remove();
    }
  });
});
