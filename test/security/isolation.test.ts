/**
 * Isolation: 8 push and pull actions at once, each in its own node process as an
 * agent runs them, against two registries with different passwords. All succeed; each action's
 * docker commands use one private DOCKER_CONFIG that no other action uses and that only ever holds
 * that action's own registry, and is readable by its owner only; the agent's docker config (a
 * DOCKER_CONFIG with content: credentials, a credential store docker cannot run, other settings,
 * and the docker context through which the actions reach the engine) is byte-for-byte unchanged,
 * and so is the real ~/.docker; no private config directory is left.
 *
 * What each docker command was run with comes from the kit's stand-in docker (real mode: it logs
 * each call, with its DOCKER_CONFIG, that config's content and the calling process, then runs the
 * real CLI), so every command of every action is seen, however busy the machine. A sampler of /proc
 * adds what lies between the commands: the private configs' modes and content.
 */
import { createHash } from 'node:crypto';
import { promises as fs, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWithDocker } from '../support/e2e-environment';
import { makeImage, removeImage } from '../../devkit/images';
import { leftoversSince, takeSnapshot } from '../support/leftovers';
import { LOCAL_KEYS, LOCAL_REGION, startLocalEcr, type LocalEcr } from '../../devkit/local-ecr';
import { watchProcesses } from '../support/processes';
import { installDockerStandIn, type DockerStandIn } from '../../devkit/docker-stand-in';
import { httpStatus } from '../../devkit/registry';
import { agentEnvironment, startAgentAction, type AgentProcess } from '../../devkit/agent-process';
import { registrySecrets } from './support/secrets';
import { PRIVATE_CONFIG_PREFIX } from '../../src/docker/docker-config';
import { DOCKER_MANIFEST } from '../../src/registry/media-types';

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

/** The registry hosts a docker config (its JSON text) holds credentials for; [] when there is none. */
function hostsIn(configJson: string | undefined): string[] {
  try {
    const parsed = JSON.parse(configJson ?? '{}') as { auths?: Record<string, unknown> };
    // Less the placeholder that keeps docker off the platform credential stores (src/docker/docker-config.ts).
    return Object.keys(parsed.auths ?? {}).filter((host) => !host.endsWith('.invalid'));
  } catch {
    return []; // caught mid-write by the sampler: the stand-in's log has every command's view
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

describeWithDocker('isolation of concurrent actions', (e2e) => {
  let ecr: LocalEcr;
  let tmp: string;
  let agentDir: string;
  let standIn: DockerStandIn;
  const realDockerDir = path.join(os.homedir(), '.docker');
  const run = `i${process.pid}`;
  const jobs: Job[] = [];
  const localImages: string[] = [];
  const hosts: string[] = [];

  beforeAll(async () => {
    ecr = await startLocalEcr({ accounts: 2, startRegistry: (options) => e2e().startRegistry(options) });
    hosts.push(...ecr.registries.map((r) => r.host));
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sec-iso-'));
    standIn = await installDockerStandIn({ mode: 'real' });
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
    await standIn.remove();
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

    // Between the docker commands, a sampler looks at the private configs: their modes, and the
    // registries they hold at any moment.
    const heldBy = new Map<string, Set<string>>();
    const exposed = new Set<string>();
    const observe = (): void => {
      let entries: string[] = [];
      try {
        entries = readdirSync(tmp).filter((e) => e.startsWith(PRIVATE_CONFIG_PREFIX));
      } catch {
        // tmp is ours; it exists for the whole test
      }
      for (const entry of entries) {
        const dir = path.join(tmp, entry);
        const held = heldBy.get(dir) ?? new Set<string>();
        heldBy.set(dir, held);
        for (const host of hostsIn(readText(path.join(dir, 'config.json')))) held.add(host);
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

    const env = agentEnvironment({ ...ecr.env, TMPDIR: tmp, DOCKER_CONFIG: agentDir, PATH: standIn.path });
    delete env.DOCKER_HOST; // the agent's docker context says where the engine is
    const agents: AgentProcess[] = [];
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
        agents.push(startAgentAction({ method: job.method, params }, env));
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

    // Each action's docker commands, every one of them as the stand-in logged it: exactly one
    // private config, its own; that config held its action's registry and no other whenever a
    // docker command ran, and whenever the sampler looked between commands.
    const calls = await standIn.calls();
    const used = agents.map((agent) => [...new Set(calls.filter((c) => c.ppid === agent.pid).map((c) => c.dockerConfig ?? '(none)'))]);
    used.forEach((dirs, i) => {
      const subcommands = calls.filter((c) => c.ppid === agents[i].pid).map((c) => c.argv.find((a) => !a.startsWith('-')));
      expect(subcommands).toEqual(expect.arrayContaining(['login', jobs[i].method === 'pullImage' ? 'pull' : 'push', 'logout']));
      expect({ job: jobs[i].reference, dirs: dirs.length }).toEqual({ job: jobs[i].reference, dirs: 1 });
      expect(path.dirname(dirs[0])).toBe(tmp);
      const seenByDocker = calls.filter((c) => c.dockerConfig === dirs[0]).flatMap((c) => hostsIn(c.configJson));
      expect(new Set(seenByDocker)).toEqual(new Set([hosts[jobs[i].account]]));
      expect([...(heldBy.get(dirs[0]) ?? [])]).not.toContainEqual(hosts[1 - jobs[i].account]);
    });
    expect(new Set(used.flat()).size).toBe(8);
    // Every docker command the actions ran is one of theirs, and every private config seen is one of theirs.
    expect(calls.every((c) => agents.some((a) => a.pid === c.ppid))).toBe(true);
    for (const dir of heldBy.keys()) expect(used.flat()).toContain(dir);
    expect([...exposed]).toEqual([]);
    // Nothing of the agent's own credentials went into a private config.
    expect(calls.flatMap((c) => hostsIn(c.configJson))).not.toContain('agent-own-registry.example:5000');
    expect([...heldBy.values()].flatMap((h) => [...h])).not.toContain('agent-own-registry.example:5000');

    // The pushes landed, each in its own registry, readable with that registry's password only.
    for (const job of jobs.filter((j) => j.method === 'pushImgaeToRepo')) {
      const [, repoAndTag] = job.reference.split(/\/(.*)/);
      const [repo, imageTag] = repoAndTag.split(':');
      const status = async (account: number): Promise<number | undefined> => {
        const url = new URL(`http://${hosts[account]}/v2/${repo}/manifests/${imageTag}`);
        url.username = 'AWS';
        url.password = passwords[account];
        return httpStatus(url.toString(), { headers: { Accept: DOCKER_MANIFEST } });
      };
      expect(await status(job.account)).toBe(200);
      expect(await status(1 - job.account)).toBe(404);
    }

    // The agent's docker config and the real ~/.docker are as they were; no private config is left.
    expect((await fs.readFile(path.join(agentDir, 'config.json'))).equals(agentConfigBefore)).toBe(true);
    expect(await hashTree(agentDir)).toBe(agentDirBefore);
    expect(await hashTree(realDockerDir)).toBe(realDockerBefore);
    expect(await leftoversSince(before)).toEqual([]);
    expect((await fs.readdir(tmp)).filter((e) => e.startsWith(PRIVATE_CONFIG_PREFIX))).toEqual([]);
    // And no action's output shows a password.
    const allOutput = outcomes.map((o) => o.output).join('\n');
    for (const secret of passwords.flatMap((p) => registrySecrets(p))) expect(allOutput).not.toContain(secret.value);
  });
});
