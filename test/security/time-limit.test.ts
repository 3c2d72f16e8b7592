/**
 * `transferTimeLimit` bounds a push or pull as a whole, on a real engine and registry: the login's
 * retries against a registry that is down, a push that hangs, and the wait for another action's
 * lock each stop at the limit with an error naming `transferTimeLimit`; the clean-up (giving the
 * name back, logout, removing the private config) still runs after it.
 *
 * The limit is at least one minute. So that the suite does not wait minutes, these actions run
 * with KAHOLO_ECR_TEST_MINUTE_MS, a test-only setting of how long a minute of the limit is
 * (DEVELOPMENT.md); everything else is as on an agent. The deadline logic itself is tested on a
 * fake clock in test/unit (retry-policy, docker-cli, engine-lock). Deterministic timing: a
 * `docker` stand-in on PATH holds the chosen subcommand at a gate (devkit/stand-ins.ts).
 */
import { describeWithDocker } from '../support/e2e-environment';
import type { AgentProcess } from '../../devkit/agent-process';
import { useAgentOnEngine } from './support/agent-on-engine';
import { LOCAL_ROLES } from '../../devkit/local-ecr';
import { REQUEST_TIMEOUT_VARIABLE } from '../../src/aws/transport-settings';

jest.setTimeout(120_000);

/** The smallest limit the param allows. */
const ONE_MINUTE = '1';

describeWithDocker('transferTimeLimit bounds a push or pull as a whole', (e2e) => {
  const run = `l${process.pid}`;
  const image = `time-limit/app:${run}`;
  const setup = useAgentOnEngine(e2e, { repoName: 'sec/limit', run, image, tmpPrefix: 'sec-limit-', agentConfig: '{}\n' });
  const { target, gate, targetExists, leftovers } = setup;

  /** An action on the agent; `minuteMs` is how long a minute of transferTimeLimit lasts for it. */
  function start(method: string, params: Record<string, string>, extra: Record<string, string> = {}, minuteMs?: number): AgentProcess {
    return setup.start(method, params, { ...(minuteMs !== undefined ? { KAHOLO_ECR_TEST_MINUTE_MS: String(minuteMs) } : {}), ...extra });
  }

  it('a registry that is down: the login retries stop at the limit (10 attempts allowed, the real retry waits)', async () => {
    await setup.ecr.registries[0].stop();
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
      expect(await leftovers()).toEqual([]);
    } finally {
      await setup.ecr.registries[0].start();
    }
  });

  it('a registry that is down for a pull: the login retries stop at the limit too', async () => {
    await setup.ecr.registries[0].stop();
    try {
      const started = Date.now();
      const outcome = await start('pullImage', { imageName: run, transferAttempts: '10', transferTimeLimit: ONE_MINUTE }, {}, 5000).finished;
      expect(outcome.error).toMatch(
        /^Parameter "transferTimeLimit": the pull did not finish within 1 minute: docker login failed \d+ times \(connection refused\) and the limit came before the next try \(last: docker login failed: .*connection refused\)$/,
      );
      expect(outcome.output.match(/retrying in/g) ?? []).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(5000 + 5000);
      expect(await leftovers()).toEqual([]);
    } finally {
      await setup.ecr.registries[0].start();
    }
  });

  it.each([
    ['a push, ECR never answering GetAuthorizationToken', 'pushImgaeToRepo', { imageName: image }, 'ecr', 'push', 'it was still waiting for AWS to authorize it'],
    ['a pull, STS never answering for its role', 'pullImage', { imageName: run, roleArn: LOCAL_ROLES.push }, 'sts', 'pull', 'it was still waiting for AWS to authorize it'],
  ] as const)('%s: stopped at the limit, not at the AWS request timeout', async (_what, method, params, service, work, doing) => {
    setup.ecr.endpoint.setFault({ mode: 'hang' }, service);
    try {
      const started = Date.now();
      // Each request may wait 20 s: the limit (3 s) must come first.
      const outcome = await start(method, { ...params, transferTimeLimit: ONE_MINUTE }, { [REQUEST_TIMEOUT_VARIABLE]: '20000' }, 3000).finished;
      expect(outcome.error).toMatch(new RegExp(`^Parameter "transferTimeLimit": the ${work} did not finish within 1 minute: ${doing} \\(`));
      expect(Date.now() - started).toBeLessThan(3000 + 5000);
      expect(await targetExists()).toBe(false);
      expect(await leftovers()).toEqual([]);
    } finally {
      setup.ecr.endpoint.setFault(undefined);
    }
  });

  it('a push whose CreateRepository gets no answer: stopped at the limit, naming transferTimeLimit', async () => {
    const held = setup.ecr.endpoint.hold('CreateRepository', 20_000);
    try {
      const started = Date.now();
      const outcome = await start('pushImgaeToRepo', { imageName: image, createRepository: 'true', transferTimeLimit: ONE_MINUTE }, {}, 3000).finished;
      expect(held.hasReached()).toBe(true);
      expect(outcome.error).toBe('Parameter "transferTimeLimit": the push did not finish within 1 minute: it was still waiting for AWS to find or create the repository');
      expect(Date.now() - started).toBeLessThan(3000 + 5000);
      expect(await targetExists()).toBe(false);
      expect(await leftovers()).toEqual([]);
    } finally {
      held.release();
    }
  });

  it('a push whose additional tag gets no answer from PutImage: stopped at the limit, saying the image was pushed', async () => {
    const held = setup.ecr.endpoint.hold('PutImage', 30_000);
    try {
      const started = Date.now();
      // A minute lasts 8 s here: time for the push itself; then PutImage is held past the limit. (The tags
      // go through the ECR API, which must know the repository: createRepository.)
      const outcome = await start('pushImgaeToRepo', { imageName: image, additionalTags: `${run}-extra`, createRepository: 'true', transferTimeLimit: ONE_MINUTE }, {}, 8000).finished;
      expect(held.hasReached()).toBe(true);
      expect(outcome.error).toMatch(
        new RegExp(
          `^Parameter "transferTimeLimit": the push did not finish within 1 minute: it was still adding the additional tags\\. ` +
            `The image itself was pushed to "sec/limit" with digest sha256:[0-9a-f]{64}; tags in place \\(verified\\): "${run}"; not in place: "${run}-extra"$`,
        ),
      );
      expect(Date.now() - started).toBeLessThan(8000 + 5000);
      expect(await leftovers()).toEqual([]);
    } finally {
      held.release();
    }
  });

  it('a push that hangs is stopped at the limit; then the name is given back, docker logs out and the config goes', async () => {
    const holds = await gate(['push']); // never released
    const agent = start('pushImgaeToRepo', { imageName: image, transferTimeLimit: ONE_MINUTE }, holds.env, 5000);
    await holds.reached('push');
    const outcome = await agent.finished;
    expect(outcome.error).toBe('Parameter "transferTimeLimit": the push did not finish within 1 minute: docker push was stopped');
    expect(outcome.output).toContain(`Removed the name ${target()} this action had added`);
    expect(outcome.output).toContain(`Logged out of ${setup.host}`);
    expect(await targetExists()).toBe(false);
    expect(await leftovers()).toEqual([]);
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
    expect(await leftovers()).toEqual([]);
  });
});
