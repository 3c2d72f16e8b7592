import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A docker client configuration directory private to one action. */
export interface PrivateDockerConfig {
  dir: string;
  remove(): Promise<void>;
}

/** The name of every private config directory starts so (what a later cleanup or a test looks for). */
export const PRIVATE_CONFIG_PREFIX = 'kaholo-ecr-';

/** Keys that hold or lead to credentials; they never reach the private copy. */
const CREDENTIAL_KEYS = ['auths', 'credsStore', 'credHelpers'];

/** The agent's own docker config directory, as the docker CLI finds it. */
export function agentDockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
}

/**
 * Makes a fresh directory (mode 0700) for DOCKER_CONFIG, so a login never
 * touches the agent's config and concurrent actions never share credentials.
 * The agent's settings that are not credentials (proxies, the current
 * context, …) are carried over so docker behaves as it does for the agent.
 */
export async function createPrivateDockerConfig(env: NodeJS.ProcessEnv = process.env): Promise<PrivateDockerConfig> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), PRIVATE_CONFIG_PREFIX));
  const remove = (): Promise<void> => fs.rm(dir, { recursive: true, force: true });
  try {
    await fs.chmod(dir, 0o700);
    const agentDir = agentDockerConfigDir(env);
    const settings = await readAgentSettings(path.join(agentDir, 'config.json'));
    await fs.writeFile(path.join(dir, 'config.json'), `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
    if (typeof settings.currentContext === 'string') {
      // Contexts live beside config.json; link them read-only rather than copy their TLS material.
      await fs.symlink(path.join(agentDir, 'contexts'), path.join(dir, 'contexts')).catch(() => undefined);
    }
  } catch (error) {
    await remove();
    throw error;
  }
  return { dir, remove };
}

async function readAgentSettings(file: string): Promise<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch {
    return {}; // no config, or one docker itself could not read: start empty
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  return Object.fromEntries(Object.entries(parsed).filter(([key]) => !CREDENTIAL_KEYS.includes(key)));
}
