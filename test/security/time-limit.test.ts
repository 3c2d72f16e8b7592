/**
 * `transferTimeLimit` bounds a push or pull as a whole, on a real engine and registry: the login's
 * retries against a registry that is down, a push that hangs, and the wait for another action's
 * lock each stop at the limit with an error naming `transferTimeLimit`; the clean-up (giving the
 * name back, logout, removing the private config) still runs after it.
 *
 * The limit is at least one minute. So that the suite does not wait minutes, these actions run
 * with KAHOLO_ECR_TEST_MINUTE_MS, a test-only setting of how long a minute of the limit is
 * (DEVELOPMENT.md); everything else is as on an agent. The deadline logic itself is tested on a
 * fake clock in test/unit (retry-policy, docker-cli, transfer-lock). Deterministic timing: a
 * `docker` stand-in on PATH holds the chosen subcommand at a gate (devkit/stand-ins.ts).
 */
import execa from 'execa';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWithDocker } from '../support/e2e-environment';
import { makeImage, removeImage } from '../../devkit/images';
import { leftoversSince, takeSnapshot } from '../support/leftovers';
import { LOCAL_KEYS, LOCAL_REGION, startLocalEcr, type LocalEcr } from '../../devkit/local-ecr';
import { buildStandIns, makeGate, type Gate, type StandInBin } from '../../devkit/stand-ins';
import { agentEnvironment, startAgentAction, type AgentProcess } from '../../devkit/agent-process';

jest.setTimeout(120_000);

const KEYS = { ...LOCAL_KEYS, region: LOCAL_REGION };
/** The smallest limit the param allows. */
const ONE_MINUTE = '1';

describeWithDocker('transferTimeLimit bounds a push or pull as a whole', (e2e) => {
  let ecr: LocalEcr;
  let tmp: string;
  let agentDir: string;
  let bin: StandInBin;
  let host: string;
  const repoName = 'sec/limit';
  const run = `l${process.pid}`;
  const image = `time-limit/app:${run}`;
  const gates: Gate[] = [];
  const target = (): string => `${host}/${repoName}:${run}`;

  beforeAll(async () => {
    ecr = await startLocalEcr({ accounts: 1, startRegistry: (options) => e2e().startRegistry(options) });
    host = ecr.registries[0].host;
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sec-limit-'));
    agentDir = path.join(tmp, 'agent-docker');
    await fs.mkdir(agentDir, { mode: 0o700 });
    await fs.writeFile(path.join(agentDir, 'config.json'), '{}\n');
    bin = await buildStandIns({ docker: true });
    await makeImage(e2e().env, image, 64 * 1024);
  });

  afterAll(async () => {
    for (const name of [image, target()]) await removeImage(e2e().env, name);
    for (const gate of gates) await gate.remove();
    await bin.remove();
    await ecr.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  let before: Awaited<ReturnType<typeof takeSnapshot>>;
  beforeEach(async () => {
    before = await takeSnapshot({ tmpDir: tmp, agentConfigFile: path.join(agentDir, 'config.json') });
  });

  async function gate(holds: string[]): Promise<Gate> {
    const made = await makeGate(holds);
    gates.push(made);
    return made;
  }

  /** An action on the agent; `minuteMs` is how long a minute of transferTimeLimit lasts for it. */
  function start(method: string, params: Record<string, string>, extra: Record<string, string> = {}, minuteMs?: number): AgentProcess {
    const env = agentEnvironment({
      ...e2e().env,
      ...ecr.env,
      TMPDIR: tmp,
      DOCKER_CONFIG: agentDir,
      PATH: `${bin.dir}${path.delimiter}${process.env.PATH ?? ''}`,
      ...(minuteMs !== undefined ? { KAHOLO_ECR_TEST_MINUTE_MS: String(minuteMs) } : {}),
      ...extra,
    });
    return startAgentAction({ method, params: { ...KEYS, repoName, ...params } }, env);
  }

  async function targetExists(): Promise<boolean> {
    return (await execa('docker', ['image', 'inspect', target()], { env: e2e().env, reject: false })).exitCode === 0;
  }

  it('a registry that is down: the login retries stop at the limit (10 attempts allowed, the real retry waits)', async () => {
    await ecr.registries[0].stop();
    try {
      const started = Date.now();
      // Waits of 2-3 s, 4-6 s, … (about 20 minutes for 10 attempts); the limit is 5 s: the first wait
      // always ends before it, the second never, so exactly one retry runs.
      const outcome = await start('pushImgaeToRepo', { imageName: image, transferAttempts: '10', transferTimeLimit: ONE_MINUTE }, {}, 5000).finished;
      const took = Date.now() - started;
      expect(outcome.error).toMatch(
        /^Parameter "transferTimeLimit": the push did not finish within 1 minute: docker login failed \d+ times \(connection refused\) and the limit came before the next try \(last: docker login failed: .*connection refused\)$/,
      );
      const retries = outcome.output.match(/retrying in/g) ?? [];
      expect(retries).toHaveLength(1);
      expect(took).toBeLessThan(5000 + 5000); // the limit, plus the process's start and the clean-up
      expect(await targetExists()).toBe(false);
      expect(await leftoversSince(before)).toEqual([]);
    } finally {
      await ecr.registries[0].start();
    }
  });

  it('a push that hangs is stopped at the limit; then the name is given back, docker logs out and the config goes', async () => {
    const holds = await gate(['push']); // never released
    const agent = start('pushImgaeToRepo', { imageName: image, transferTimeLimit: ONE_MINUTE }, holds.env, 5000);
    await holds.reached('push');
    const outcome = await agent.finished;
    expect(outcome.error).toBe('Parameter "transferTimeLimit": the push did not finish within 1 minute: docker push was stopped');
    expect(outcome.output).toContain(`Removed the name ${target()} this action had added`);
    expect(outcome.output).toContain(`Logged out of ${host}`);
    expect(await targetExists()).toBe(false);
    expect(await leftoversSince(before)).toEqual([]);
  });

  it("waiting for another action's lock stops at the limit", async () => {
    const holds = await gate(['push']);
    const holder = start('pushImgaeToRepo', { imageName: image }, holds.env);
    await holds.reached('push');
    try {
      const started = Date.now();
      const waiter = await start('pullImage', { imageName: run, transferTimeLimit: ONE_MINUTE }, {}, 3000).finished;
      expect(waiter.output).toContain(`Waiting for another action on this agent that pushes or pulls ${target()}`);
      expect(waiter.error).toMatch(
        new RegExp(
          `^Parameter "transferTimeLimit": the pull did not finish within 1 minute: it was still waiting for another action on this agent to finish with ${target().replace(/[.]/g, '\\.')} \\(engine .+, lock .+\\)$`,
        ),
      );
      expect(Date.now() - started).toBeLessThan(3000 + 5000);
    } finally {
      await holds.release('push');
    }
    const held = await holder.finished;
    expect(held.error).toBeUndefined();
    expect(await targetExists()).toBe(false);
    expect(await leftoversSince(before)).toEqual([]);
  });
});
