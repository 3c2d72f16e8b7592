import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PluginError, quote } from '../errors';
import { currentProcess, type ProcessIdentity } from '../agent/process-identity';

/** A docker client configuration directory private to one action. */
export interface PrivateDockerConfig {
  dir: string;
  /** The docker context the agent's config selects, if any. */
  context: string | undefined;
  remove(): Promise<void>;
}

/** Every private config directory starts so; the rest of its name says which process owns it. */
export const PRIVATE_CONFIG_PREFIX = 'kaholo-ecr-';

/** Keys that hold or lead to credentials; they never reach the private copy. */
const CREDENTIAL_KEYS = ['auths', 'credsStore', 'credHelpers'];

/**
 * The docker CLI looks for a platform credential store (docker-credential-secretservice,
 * -pass, …) when a config has no auths, credsStore or credHelpers, and would then store
 * this action's login there, shared with the whole agent. One entry for a host that
 * cannot exist keeps every login in the private config.json.
 */
const PLACEHOLDER_AUTHS = { 'kaholo-ecr-private.invalid': {} };

/** The agent's own docker config directory, as the docker CLI finds it. */
export function agentDockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
}

/**
 * Makes a fresh directory (mode 0700) for DOCKER_CONFIG, so a login never
 * touches the agent's config and concurrent actions never share credentials.
 * The agent's settings that are not credentials (proxies, the current
 * context, …) are carried over so docker behaves as it does for the agent.
 * Its name carries this process's identity, so that once this process is
 * gone (even SIGKILLed), the next action can tell the directory is orphaned.
 */
export async function createPrivateDockerConfig(env: NodeJS.ProcessEnv = process.env): Promise<PrivateDockerConfig> {
  const owner = currentProcess();
  const dir = await makeTempDir(`${PRIVATE_CONFIG_PREFIX}${owner.pid}-${owner.start}-`);
  const remove = (): Promise<void> => fs.rm(dir, { recursive: true, force: true });
  let context: string | undefined;
  try {
    await fs.chmod(dir, 0o700);
    const agentDir = agentDockerConfigDir(env);
    const settings = await readAgentSettings(path.join(agentDir, 'config.json'));
    const config = { ...settings, auths: PLACEHOLDER_AUTHS };
    await fs.writeFile(path.join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    if (typeof settings.currentContext === 'string') context = settings.currentContext;
    // Contexts live beside config.json, whether config.json or DOCKER_CONTEXT picks one: link
    // them rather than copy their TLS material.
    const contexts = path.join(agentDir, 'contexts');
    if (await isDirectory(contexts)) await fs.symlink(contexts, path.join(dir, 'contexts'));
  } catch (error) {
    await remove();
    throw error;
  }
  return { dir, context, remove };
}

/** The owner a private config directory's name records; undefined for any other name. */
export function ownerOfPrivateConfig(name: string): ProcessIdentity | undefined {
  const match = new RegExp(`^${PRIVATE_CONFIG_PREFIX}(\\d+)-(\\d+)-[A-Za-z0-9]{6}$`).exec(name);
  return match ? { pid: Number(match[1]), start: match[2] } : undefined;
}

/** mkdtemp in the agent's temporary directory, with a message that says what to fix when it is unusable. */
async function makeTempDir(prefix: string): Promise<string> {
  const tmp = os.tmpdir();
  try {
    return await fs.mkdtemp(path.join(tmp, prefix));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    const what: Record<string, string> = {
      ENOENT: 'does not exist',
      ENOTDIR: 'is not a directory',
      EACCES: 'is not writable',
      EPERM: 'is not writable',
      EROFS: 'is on a read-only file system',
      ENOSPC: 'is full',
    };
    throw new PluginError(
      `The temporary directory ${quote(tmp)} ${what[code] ?? `cannot be used (${code})`}: set TMPDIR on the agent to a writable directory (or create it)`,
    );
  }
}

async function isDirectory(file: string): Promise<boolean> {
  return fs.stat(file).then((stat) => stat.isDirectory(), () => false);
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
