import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';

/** Where the docker CLI reaches the engine when nothing names another. */
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/**
 * The Docker engine the docker CLI reaches in this environment, named by its
 * endpoint, so that the ways one agent can name one engine (DOCKER_HOST, a
 * docker context, the default socket; /var/run or /run) give one name: the
 * locks and the clean-up of added image names key on it. The CLI's own order:
 * DOCKER_HOST, then DOCKER_CONTEXT, then the config's current context, then
 * the default socket. A context whose record cannot be read keeps its name
 * (docker itself will then say what is wrong with it).
 */
export function engineEndpoint(env: NodeJS.ProcessEnv, agentConfigDir: string, configContext: string | undefined): string {
  if (env.DOCKER_HOST) return normalizeHost(env.DOCKER_HOST);
  const context = env.DOCKER_CONTEXT || configContext;
  if (!context || context === 'default') return normalizeHost(DEFAULT_DOCKER_HOST);
  const host = contextHost(agentConfigDir, context);
  return host !== undefined ? normalizeHost(host) : `context ${context}`;
}

/** The docker endpoint a context records, where the CLI keeps it: contexts/meta/<sha256 of its name>/meta.json. */
function contextHost(configDir: string, name: string): string | undefined {
  const file = path.join(configDir, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'), 'meta.json');
  try {
    const meta = JSON.parse(readFileSync(file, 'utf8')) as { Endpoints?: { docker?: { Host?: unknown } } };
    const host = meta.Endpoints?.docker?.Host;
    return typeof host === 'string' && host.trim() !== '' ? host : undefined;
  } catch {
    return undefined;
  }
}

/** A unix socket by its real path (/var/run is often a link to /run); any other endpoint as written, less a trailing slash. */
function normalizeHost(host: string): string {
  const trimmed = host.trim();
  const unix = /^unix:\/\/(.+)$/i.exec(trimmed);
  if (!unix) return trimmed.replace(/\/+$/, '').replace(/^[a-z][a-z0-9+.-]*:/i, (scheme) => scheme.toLowerCase());
  const socket = path.resolve(unix[1]);
  try {
    return `unix://${realpathSync(socket)}`;
  } catch {
    return `unix://${socket}`; // not there (yet): docker will say so
  }
}
