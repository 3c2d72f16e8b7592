/**
 * Issue 4, item 4 — isolation: 8 push and pull actions at once, each in its own node process as an
 * agent runs them, against two registries with different passwords. All succeed; each action's
 * docker commands use one private DOCKER_CONFIG that no other action uses and that only ever holds
 * that action's own registry, and is readable by its owner only; the agent's docker config (a
 * DOCKER_CONFIG with content: credentials, a credential store docker cannot run, other settings,
 * and the docker context through which the actions reach the engine) is byte-for-byte unchanged,
 * and so is the real ~/.docker; no private config directory is left.
 */
import { createHash } from 'node:crypto';
import { promises as fs, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWithDocker } from '../support/e2e-environment';
import { makeImage, removeImage } from '../support/images';
import { leftoversSince, takeSnapshot } from '../support/leftovers';
import { LOCAL_KEYS, LOCAL_REGION, startLocalEcr, type LocalEcr } from '../support/local-ecr';
import { descendantsOf, isDockerCli, readEnvironment, watchProcesses, type ProcessInfo } from '../support/processes';
import { httpStatus } from '../support/registry';
import { agentEnvironment, startAgentAction, type AgentProcess } from './support/agent-process';
import { registrySecrets } from './support/secrets';

jest.setTimeout(120_000);

const AGENT_CONTEXT = 'kaholo-sec-iso';
const AGENT_CONFIG = `${JSON.stringify(
  {
    currentContext: AGENT_CONTEXT,
    auths: { 'agent-own-registry.example:5000': { auth: Buffer.from('agent:agent-own-password').toString('base64') } },
    credsStore: 'kaholo-test-no-such-helper',
    credHelpers: { 'another.example': 'kaholo-test-no-such-helper' },
    psFormat: 'table {{.ID}}\\t{{.Names}}',
    detachKeys: 'ctrl-e,e',
  },
  null,
  '\t',
)}\n`;

interface Job {
  method: 'pushImgaeToRepo' | 'pullImage';
  account: number;
  imageName: string;
  reference: string;
}

async function hashTree(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (current: string): Promise<void> => {
    const entries = await fs.readdir(current, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(current, entry.name);
      hash.update(`${path.relative(dir, full)}\0`);
      if (entry.isDirectory()) await walk(full);
      else hash.update(await fs.readFile(full).catch(() => Buffer.from('?')));
    }
  };
  await walk(dir);
  return hash.digest('hex');
}

/** The registry hosts a docker config file holds credentials for, read right now; [] when gone. */
function hostsIn(configFile: string): string[] {
  try {
    const parsed = JSON.parse(readFileSync(configFile, 'utf8')) as { auths?: Record<string, unknown> };
    // Less the placeholder that keeps docker off the platform credential stores (src/docker-config.ts).
    return Object.keys(parsed.auths ?? {}).filter((host) => !host.endsWith('.invalid'));
  } catch {
    return [];
  }
}

describeWithDocker('isolation of concurrent actions', (e2e) => {
  let ecr: LocalEcr;
  let tmp: string;
  let agentDir: string;
  const realDockerDir = path.join(os.homedir(), '.docker');
  const run = `i${process.pid}`;
  const jobs: Job[] = [];
  const localImages: string[] = [];
  const hosts: string[] = [];

  beforeAll(async () => {
    ecr = await startLocalEcr({ accounts: 2, startRegistry: (options) => e2e().startRegistry(options) });
    hosts.push(...ecr.registries.map((r) => r.host));
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sec-iso-'));
    agentDir = path.join(tmp, 'agent-docker');
    await fs.mkdir(agentDir, { mode: 0o700 });
    // The agent reaches the engine through a docker context (no DOCKER_HOST): the private configs
    // must link the agent's contexts, and leave them as they were.
    const { default: execa } = await import('execa');
    await execa('docker', ['context', 'create', AGENT_CONTEXT, '--docker', `host=${e2e().env.DOCKER_HOST}`], {
      env: { DOCKER_CONFIG: agentDir, PATH: process.env.PATH },
      extendEnv: false,
    });
    await fs.writeFile(path.join(agentDir, 'config.json'), AGENT_CONFIG, { mode: 0o600 });

    // Four images to push (two per registry), and four tags to pull (two per registry), put there
    // beforehand with the plain docker CLI under a throwaway config.
    const setupConfig = path.join(tmp, 'setup-docker');
    await fs.mkdir(setupConfig, { mode: 0o700 });
    const setupEnv = { ...e2e().env, DOCKER_CONFIG: setupConfig };
    const seed = `sec-iso/seed:${run}`;
    await makeImage(e2e().env, seed, 256 * 1024);
    for (let account = 0; account < 2; account++) {
      const registry = ecr.registries[account];
      const password = await passwordOf(account);
      await execa('docker', ['login', '--username', 'AWS', '--password-stdin', registry.host], { env: setupEnv, input: password });
      for (let i = 0; i < 2; i++) {
        const reference = `${registry.host}/iso/pull:${run}-${i}`;
        await execa('docker', ['tag', seed, reference], { env: setupEnv });
        await execa('docker', ['push', reference], { env: setupEnv });
        await removeImage(e2e().env, reference);
        jobs.push({ method: 'pullImage', account, imageName: `${run}-${i}`, reference });
      }
    }
    await removeImage(e2e().env, seed);
    await fs.rm(setupConfig, { recursive: true, force: true });
    for (let i = 0; i < 4; i++) {
      const account = i % 2;
      const local = `sec-iso/push${i}:${run}`;
      await makeImage(e2e().env, local, 512 * 1024);
      localImages.push(local);
      jobs.push({ method: 'pushImgaeToRepo', account, imageName: local, reference: `${hosts[account]}/iso/push${i}:${run}` });
    }
  }, 90_000);

  afterAll(async () => {
    for (const image of [...localImages, ...jobs.map((j) => j.reference)]) await removeImage(e2e().env, image);
    await ecr.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  async function passwordOf(account: number): Promise<string> {
    const env = agentEnvironment({ ...ecr.env, TMPDIR: tmp });
    const outcome = await startAgentAction(
      { method: 'getEcrLogin', params: { ...LOCAL_KEYS, region: LOCAL_REGION, registryIds: ecr.accountIds[account] } },
      env,
    ).finished;
    return (outcome.result as { authorizationData: Array<{ decodedToken: { password: string } }> }).authorizationData[0].decodedToken
      .password;
  }

  it('8 push and pull actions at once: all succeed, none sees another one\'s credentials', async () => {
    expect(jobs).toHaveLength(8);
    const passwords = [await passwordOf(0), await passwordOf(1)];
    expect(passwords[0]).not.toBe(passwords[1]);
    const agentConfigBefore = await fs.readFile(path.join(agentDir, 'config.json'));
    const agentDirBefore = await hashTree(agentDir);
    const realDockerBefore = await hashTree(realDockerDir);
    const before = await takeSnapshot({ tmpDir: tmp, agentConfigFile: path.join(agentDir, 'config.json') });

    // Which private config each action's docker commands used, and what each of those ever held.
    const configsOf = new Map<number, Set<string>>();
    const heldBy = new Map<string, Set<string>>();
    const exposed = new Set<string>();
    const agents: AgentProcess[] = [];
    const observe = (processes: ProcessInfo[]): void => {
      for (const agent of agents) {
        for (const p of descendantsOf(agent.pid, processes)) {
          if (!isDockerCli(p)) continue;
          const dir = readEnvironment(p.pid)?.DOCKER_CONFIG;
          if (dir) configsOf.get(agent.pid)?.add(dir);
        }
      }
      let entries: string[] = [];
      try {
        entries = readdirSync(tmp).filter((e) => e.startsWith('kaholo-ecr-'));
      } catch {
        // tmp is ours; it exists for the whole test
      }
      for (const entry of entries) {
        const dir = path.join(tmp, entry);
        const held = heldBy.get(dir) ?? new Set<string>();
        heldBy.set(dir, held);
        for (const host of hostsIn(path.join(dir, 'config.json'))) held.add(host);
        for (const [file, allowed] of [[dir, 0o700], [path.join(dir, 'config.json'), 0o600]] as const) {
          try {
            const mode = statSync(file).mode & 0o777;
            if ((mode & ~allowed) !== 0) exposed.add(`${file} has mode ${mode.toString(8)}`);
          } catch {
            // not there (yet, or any more)
          }
        }
      }
    };

    const env = agentEnvironment({ ...ecr.env, TMPDIR: tmp, DOCKER_CONFIG: agentDir });
    delete env.DOCKER_HOST; // the agent's docker context says where the engine is
    const watch = watchProcesses(observe);
    let outcomes;
    try {
      for (const job of jobs) {
        const params = {
          ...LOCAL_KEYS,
          region: LOCAL_REGION,
          registryId: ecr.accountIds[job.account],
          repoName: job.reference.split('/').slice(1).join('/').replace(/:.*/, ''),
          imageName: job.imageName,
        };
        const agent = startAgentAction({ method: job.method, params }, env);
        configsOf.set(agent.pid, new Set());
        agents.push(agent);
      }
      outcomes = await Promise.all(agents.map((a) => a.finished));
    } finally {
      await watch.stop();
    }

    // All succeed, each with its own registry.
    outcomes.forEach((outcome, i) => {
      expect({ job: jobs[i].reference, error: outcome.error, exitCode: outcome.exitCode }).toEqual({
        job: jobs[i].reference,
        error: undefined,
        exitCode: 0,
      });
      expect(outcome.result).toMatchObject({ image: jobs[i].reference, registry: hosts[jobs[i].account] });
    });

    // Each action used exactly one private config, its own; each config only ever held its action's registry.
    const used = agents.map((a) => [...(configsOf.get(a.pid) ?? [])]);
    used.forEach((dirs, i) => {
      expect({ job: jobs[i].reference, dirs: dirs.length }).toEqual({ job: jobs[i].reference, dirs: 1 });
      expect(path.dirname(dirs[0])).toBe(tmp);
      expect([...(heldBy.get(dirs[0]) ?? [])]).toEqual([hosts[jobs[i].account]]);
    });
    expect(new Set(used.flat()).size).toBe(8);
    expect([...heldBy.keys()].sort()).toEqual(used.flat().sort());
    expect([...exposed]).toEqual([]);
    // Nothing of the agent's own credentials went into a private config.
    expect([...heldBy.values()].flatMap((h) => [...h])).not.toContain('agent-own-registry.example:5000');

    // The pushes landed, each in its own registry, readable with that registry's password only.
    for (const job of jobs.filter((j) => j.method === 'pushImgaeToRepo')) {
      const [, repoAndTag] = job.reference.split(/\/(.*)/);
      const [repo, imageTag] = repoAndTag.split(':');
      const status = async (account: number): Promise<number | undefined> => {
        const url = new URL(`http://${hosts[account]}/v2/${repo}/manifests/${imageTag}`);
        url.username = 'AWS';
        url.password = passwords[account];
        return httpStatus(url.toString(), { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
      };
      expect(await status(job.account)).toBe(200);
      expect(await status(1 - job.account)).toBe(404);
    }

    // The agent's docker config and the real ~/.docker are as they were; no private config is left.
    expect((await fs.readFile(path.join(agentDir, 'config.json'))).equals(agentConfigBefore)).toBe(true);
    expect(await hashTree(agentDir)).toBe(agentDirBefore);
    expect(await hashTree(realDockerDir)).toBe(realDockerBefore);
    expect(await leftoversSince(before)).toEqual([]);
    expect((await fs.readdir(tmp)).filter((e) => e.startsWith('kaholo-ecr-'))).toEqual([]);
    // And no action's output shows a password.
    const allOutput = outcomes.map((o) => o.output).join('\n');
    for (const secret of passwords.flatMap((p) => registrySecrets(p))) expect(allOutput).not.toContain(secret.value);
  });
});
