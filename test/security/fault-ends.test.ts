/**
 * Faults end cleanly on the docker side: a registry that is down for the first seconds of a push
 * (retried, with the default policy), SIGTERM while `docker tag` runs and while the clean-up
 * `docker rmi` runs, SIGKILL in the middle of a push followed by another action that sweeps, a
 * stdout that closes in the middle of a push, a transfer that makes no progress, and an unusable
 * TMPDIR. The timing is deterministic: a `docker` stand-in on PATH
 * (devkit/bin/docker.js, its gate; devkit/stand-ins.ts) holds the chosen subcommand until the test acts, and
 * then runs the real CLI against the real engine and registry.
 */
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWithDocker } from '../support/e2e-environment';
import { LOCAL_KEYS, LOCAL_REGION, startLocalEcr, type LocalEcr } from '../../devkit/local-ecr';
import { listProcesses, readEnvironmentBlock } from '../support/processes';
import type { Gate } from '../../devkit/stand-ins';
import { agentEnvironment, runAgentAction, type AgentOutcome, type AgentProcess } from '../../devkit/agent-process';
import { useAgentOnEngine } from './support/agent-on-engine';

jest.setTimeout(120_000);

const KEYS = { ...LOCAL_KEYS, region: LOCAL_REGION };
/** KAHOLO_ECR_LOCK_STALE_MS for every action these tests start. */
const STALE_MS = 2000;
/**
 * How far after its holder's death a dead holder's lock can be dated. A lock is dated by its
 * holder's last refresh (every STALE_MS / 2), but proper-lockfile dates the first lock a process
 * takes at the next whole second + 5 ms (its probe of the file system's mtime precision) until that
 * first refresh: a holder killed within STALE_MS / 2 of taking it leaves it dated up to 1005 ms ahead.
 */
const DATED_AHEAD_MS = 1005;

describe('an unusable TMPDIR (no Docker engine needed)', () => {
  let ecr: LocalEcr;
  let tmp: string;
  beforeAll(async () => {
    ecr = await startLocalEcr({ accounts: 1 });
    ecr.endpoint.createRepositories(['team/app']);
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sec-tmpdir-'));
    await fs.writeFile(path.join(tmp, 'a-file'), '');
  });
  afterAll(async () => {
    await ecr.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it.each([
    ['missing', 'no-such-dir', 'does not exist'],
    ['not a directory', 'a-file', 'is not a directory'],
  ])('%s: one line that names it and says what to fix', async (_label, name, problem) => {
    const dir = path.join(tmp, name);
    const outcome = await runAgentAction(
      { method: 'pullImage', params: { ...KEYS, repoName: 'team/app', imageName: '1.0' } },
      agentEnvironment({ ...ecr.env, TMPDIR: dir }),
    );
    expect(outcome.error).toBe(`The temporary directory "${dir}" ${problem}: set TMPDIR on the agent to a writable directory (or create it)`);
  });
});

describeWithDocker('faults on the docker side end cleanly', (e2e) => {
  const run = `e${process.pid}`;
  const image = `fault-ends/app:${run}`;
  const setup = useAgentOnEngine(e2e, {
    repoName: 'sec/ends',
    run,
    image,
    tmpPrefix: 'sec-ends-',
    agentConfig: '{"psFormat":"table {{.ID}}"}\n',
    env: { KAHOLO_ECR_LOCK_STALE_MS: String(STALE_MS) },
  });
  const { target, gate, start, targetExists, leftovers } = setup;

  /** Starts the action with `hold` held at its gate (e.g. 'push', 'tag:after'), and waits until it is reached there. */
  async function startHeld(hold: string, method: string, params: Record<string, string>): Promise<{ agent: AgentProcess; holds: Gate }> {
    const holds = await gate([hold]);
    const agent = start(method, params, holds.env);
    await holds.reached(hold.split(':')[0]);
    return { agent, holds };
  }

  /** Processes still running with this gate directory in their environment (the stand-in and the docker it ran). */
  function processesOf(holds: Gate): number[] {
    return listProcesses()
      .filter((p) => readEnvironmentBlock(p.pid).includes(holds.env.STANDIN_GATE_DIR))
      .map((p) => p.pid);
  }

  /** The lock files in TMPDIR: engines' names and tags in a registry. */
  async function lockFiles(): Promise<string[]> {
    return (await fs.readdir(setup.tmp)).filter((e) => /^kaholo-ecr\.(?:tag\.)?[0-9a-f]{32}\.lock$/.test(e));
  }

  /**
   * Waits until every lock in TMPDIR is stale as the plugin judges it (dated more than STALE_MS
   * ago), when their holders died before `diedAt`: each must be dated no later than DATED_AHEAD_MS
   * after that (a lock still refreshed fails here), so the wait ends within STALE_MS + DATED_AHEAD_MS.
   */
  async function untilLocksStale(diedAt: number): Promise<void> {
    for (const name of await lockFiles()) {
      for (;;) {
        const dated = Math.floor((await fs.stat(path.join(setup.tmp, name))).mtimeMs);
        expect(dated).toBeLessThanOrEqual(diedAt + DATED_AHEAD_MS);
        const left = dated + STALE_MS + 1 - Date.now();
        if (left <= 0) break;
        await new Promise((resolve) => setTimeout(resolve, left));
      }
    }
  }

  async function endedBy(agent: AgentProcess, signal: string): Promise<AgentOutcome> {
    const outcome = await agent.finished;
    expect({ signal: outcome.signal, reported: outcome.reported }).toEqual({ signal, reported: false });
    return outcome;
  }

  it('a registry down for the first seconds of a push: login is retried with the default policy and the push succeeds', async () => {
    await setup.ecr.registries[0].stop();
    const started = Date.now();
    const agent = start('pushImgaeToRepo', { imageName: image });
    try {
      await agent.waitForOutput(/docker login failed \(connection refused\); retrying in [23]\.\d s \(attempt 2 of 3\)/, 60_000);
    } finally {
      await setup.ecr.registries[0].start();
    }
    const outcome = await agent.finished;
    expect(outcome.error).toBeUndefined();
    expect(outcome.result).toMatchObject({ image: target(), digest: expect.stringMatching(/^sha256:/) as string });
    expect(Date.now() - started).toBeGreaterThan(2000);
    expect(await leftovers()).toEqual([]);
  });

  it('transferAttempts 1 turns retries off', async () => {
    await setup.ecr.registries[0].stop();
    try {
      const outcome = await start('pushImgaeToRepo', { imageName: image, transferAttempts: '1' }).finished;
      expect(outcome.error).toMatch(/^The registry \S+ cannot be reached from the agent: docker login failed: .*connection refused/);
      expect(outcome.output).not.toMatch(/retrying/);
    } finally {
      await setup.ecr.registries[0].start();
    }
  });

  it('SIGTERM while docker tag runs: the action ends by the signal, the tag is removed', async () => {
    const { agent, holds } = await startHeld('tag:after', 'pushImgaeToRepo', { imageName: image });
    expect(await targetExists()).toBe(true); // the tag took effect
    agent.kill('SIGTERM');
    const outcome = await endedBy(agent, 'SIGTERM');
    expect(outcome.output).toContain(`Removed the name ${target()} this action had added`);
    expect(await holds.calls()).not.toContainEqual(`push ${target()}`);
    expect(await targetExists()).toBe(false);
    expect(await leftovers()).toEqual([]);
  });

  it('SIGTERM while the clean-up docker rmi runs: the rmi is not stopped, then the action ends by the signal', async () => {
    const { agent, holds } = await startHeld('rmi', 'pushImgaeToRepo', { imageName: image }); // pushed; the clean-up is under way
    agent.kill('SIGTERM');
    await agent.waitForOutput(/^Interrupted \(SIGTERM\): stopping the work; cleaning up$/m, 10_000); // the signal has landed; the rmi must survive it
    await holds.release('rmi');
    const outcome = await endedBy(agent, 'SIGTERM');
    expect(outcome.output.match(/^Interrupted \(SIGTERM\)/gm)).toHaveLength(1); // said once
    expect(outcome.output.indexOf('Interrupted (SIGTERM)')).toBeLessThan(outcome.output.indexOf(`Removed the name ${target()}`));
    expect(outcome.output).toContain(`Removed the name ${target()} this action had added`);
    expect(outcome.output).toContain(`Logged out of ${setup.host}`);
    expect(await targetExists()).toBe(false);
    expect(await leftovers()).toEqual([]);
  });

  it('SIGKILL in the middle of a push: its docker ends with it, and the next action sweeps its directory and tag', async () => {
    const { agent: killed, holds } = await startHeld('push', 'pushImgaeToRepo', { imageName: image });
    killed.kill('SIGKILL');
    await endedBy(killed, 'SIGKILL');
    const diedAt = Date.now();
    const orphans = (await fs.readdir(setup.tmp)).filter((e) => e.startsWith(`kaholo-ecr-${killed.pid}-`));
    expect(orphans).toHaveLength(1); // what the killed action could not clean: its credentials...
    expect(await targetExists()).toBe(true); // ...and its tag
    // setpriv --pdeathsig: the docker it had started got SIGTERM when it died.
    const deadline = Date.now() + 5000;
    while (processesOf(holds).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(processesOf(holds)).toEqual([]);
    // Its locks (the tag's in the registry, the engine's name) are no longer refreshed: once stale, the next action clears them.
    expect(await lockFiles()).toHaveLength(2);
    await untilLocksStale(diedAt);

    const next = await start('pullImage', { imageName: 'no-such-tag' }).finished;
    expect(next.output).toContain(`Cleaned up after an earlier action (pid ${killed.pid}) that ended without cleaning up`);
    expect(existsSync(path.join(setup.tmp, orphans[0]))).toBe(false);
    // The killed action's lock was taken over once stale and released; when a lock is left, the log says what happened.
    const leftLocks = (await fs.readdir(setup.tmp)).filter((e) => e.endsWith('.lock'));
    if (leftLocks.length > 0) throw new Error(`locks left in TMPDIR: ${leftLocks.join(', ')}; the next action's log:\n${next.output}`);
    expect(await targetExists()).toBe(false);
    expect(await leftovers()).toEqual([]);
  });

  it('SIGKILL in the middle of a pull: the next action clears its lock once stale', async () => {
    const { agent: killed } = await startHeld('pull', 'pullImage', { imageName: 'never-pulled' });
    const locks = async (): Promise<string[]> => (await fs.readdir(setup.tmp)).filter((e) => /^kaholo-ecr\.[0-9a-f]{32}\.lock$/.test(e));
    expect(await locks()).toHaveLength(1); // held by the pull
    killed.kill('SIGKILL');
    await endedBy(killed, 'SIGKILL');
    const diedAt = Date.now();
    expect(await locks()).toHaveLength(1); // left behind, no longer refreshed
    await untilLocksStale(diedAt);
    const next = await start('pullImage', { imageName: 'no-such-tag' }).finished;
    expect(next.output).toContain(`Cleaned up after an earlier action (pid ${killed.pid})`);
    expect(await locks()).toEqual([]);
    expect(await leftovers()).toEqual([]);
  });

  it('a running action\'s directory is never swept, and neither is anything else in TMPDIR', async () => {
    const { agent: running, holds } = await startHeld('push', 'pushImgaeToRepo', { imageName: image });
    const foreign = path.join(setup.tmp, 'kaholo-ecr-not-ours');
    await fs.mkdir(foreign);
    const other = await start('pullImage', { imageName: 'no-such-tag' }).finished;
    expect(other.output).not.toContain('Cleaned up after an earlier action');
    expect(existsSync(foreign)).toBe(true);
    await fs.rm(foreign, { recursive: true });
    await holds.release('push');
    const outcome = await running.finished;
    expect(outcome.error).toBeUndefined();
    expect(await targetExists()).toBe(false);
    expect(await leftovers()).toEqual([]);
  });

  it('stdout and stderr closed in the middle of a push: no crash, the clean-up runs, the result is reported', async () => {
    const { agent, holds } = await startHeld('push', 'pushImgaeToRepo', { imageName: image });
    agent.closeOutput();
    await holds.release('push');
    const outcome = await agent.finished;
    expect({ reported: outcome.reported, error: outcome.error, exitCode: outcome.exitCode }).toEqual({ reported: true, error: undefined, exitCode: 0 });
    expect(outcome.result).toMatchObject({ image: target() });
    expect(await targetExists()).toBe(false);
    expect(await leftovers()).toEqual([]);
  });

  it('a push that makes no progress is stopped, and cleaned up', async () => {
    const holds = await gate(['push']); // never released
    const outcome = await start('pushImgaeToRepo', { imageName: image }, { ...holds.env, KAHOLO_ECR_STALL_MS: '1500' }).finished;
    expect(outcome.error).toBe('docker push made no progress for 1.5 s and was stopped');
    expect(await targetExists()).toBe(false);
    expect(await leftovers()).toEqual([]);
  });
});
