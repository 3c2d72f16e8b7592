/**
 * One agent for the security tests that run push and pull as agent processes on the real engine
 * and registry, with the kit's stand-in docker first on PATH: the local ECR with one account, a
 * TMPDIR of the file's own, the agent's docker config directory in it, a local image to push, gates
 * that hold chosen docker subcommands, and a snapshot before each test for what must not be left
 * behind. Registers its hooks in the describe block that calls it.
 */
import execa from 'execa';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { E2eEnvironment } from '../../support/e2e-environment';
import { leftoversSince, takeSnapshot, type Snapshot } from '../../support/leftovers';
import { makeImage, removeImage } from '../../../devkit/images';
import { LOCAL_KEYS, LOCAL_REGION, startLocalEcr, type LocalEcr } from '../../../devkit/local-ecr';
import { buildStandIns, makeGate, type Gate, type StandInBin } from '../../../devkit/stand-ins';
import { agentEnvironment, startAgentAction, type AgentProcess } from '../../../devkit/agent-process';

export interface AgentOnEngineOptions {
  /** The repository every action names. */
  repoName: string;
  /** The tag of the local image and of its target in the registry. */
  run: string;
  /** The local image (`<name>:<run>`), 64 KiB, made once for the file. */
  image: string;
  /** The prefix of the file's TMPDIR. */
  tmpPrefix: string;
  /** What the agent's own docker config.json holds (it must be the same after every action). */
  agentConfig: string;
  /** Environment every action gets on top of the agent's. */
  env?: Record<string, string>;
}

export interface AgentOnEngine {
  /** The local ECR; set in beforeAll. */
  readonly ecr: LocalEcr;
  /** Its registry's host. */
  readonly host: string;
  /** The TMPDIR every action runs with. */
  readonly tmp: string;
  /** `<host>/<repoName>:<run>`: the name a push gives the image. */
  target: () => string;
  /** A gate holding `holds` (e.g. ['push'], ['tag:after']), removed after the file. */
  gate: (holds: string[]) => Promise<Gate>;
  /** Starts an action with the local keys and region, `repoName`, `params`, and `env` on top of the options' env. */
  start: (method: string, params: Record<string, string>, env?: Record<string, string>) => AgentProcess;
  /** Whether the engine holds the target name. */
  targetExists: () => Promise<boolean>;
  /** What was left behind since the current test began (empty: nothing). */
  leftovers: () => Promise<string[]>;
}

export function useAgentOnEngine(e2e: () => E2eEnvironment, options: AgentOnEngineOptions): AgentOnEngine {
  const { repoName, run, image } = options;
  let ecr: LocalEcr | undefined;
  let tmp: string | undefined;
  let agentDir: string | undefined;
  let bin: StandInBin | undefined;
  let before: Snapshot | undefined;
  const gates: Gate[] = [];
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the agent on the engine is set up in beforeAll: use it in hooks and tests');
    return value;
  };
  const agentConfigFile = (): string => path.join(ready(agentDir), 'config.json');

  const agent: AgentOnEngine = {
    get ecr() {
      return ready(ecr);
    },
    get host() {
      return ready(ecr).registries[0].host;
    },
    get tmp() {
      return ready(tmp);
    },
    target: () => `${agent.host}/${repoName}:${run}`,
    gate: async (holds) => {
      const made = await makeGate(holds);
      gates.push(made);
      return made;
    },
    start: (method, params, env = {}) => {
      const environment = agentEnvironment({
        ...e2e().env,
        ...ready(ecr).env,
        TMPDIR: ready(tmp),
        DOCKER_CONFIG: ready(agentDir),
        PATH: `${ready(bin).dir}${path.delimiter}${process.env.PATH ?? ''}`,
        ...options.env,
        ...env,
      });
      return startAgentAction({ method, params: { ...LOCAL_KEYS, region: LOCAL_REGION, repoName, ...params } }, environment);
    },
    targetExists: async () => (await execa('docker', ['image', 'inspect', agent.target()], { env: e2e().env, reject: false })).exitCode === 0,
    leftovers: () => leftoversSince(ready(before)),
  };

  beforeAll(async () => {
    ecr = await startLocalEcr({ accounts: 1, startRegistry: (registry) => e2e().startRegistry(registry) });
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), options.tmpPrefix));
    agentDir = path.join(tmp, 'agent-docker');
    await fs.mkdir(agentDir, { mode: 0o700 });
    await fs.writeFile(agentConfigFile(), options.agentConfig);
    bin = await buildStandIns({ docker: true });
    await makeImage(e2e().env, image, 64 * 1024);
  });

  afterAll(async () => {
    if (ecr !== undefined) for (const name of [image, agent.target()]) await removeImage(e2e().env, name);
    for (const gate of gates) await gate.remove();
    await bin?.remove();
    await ecr?.stop();
    if (tmp !== undefined) await fs.rm(tmp, { recursive: true, force: true });
  });

  beforeEach(async () => {
    before = await takeSnapshot({ tmpDir: ready(tmp), agentConfigFile: agentConfigFile() });
  });

  return agent;
}
