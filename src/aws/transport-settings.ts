/**
 * The bounds of every request the plugin makes to AWS (ECR, STS, and the
 * registries' HTTP API), and which environment variables name a proxy: read
 * from the agent's environment, apart from the SDK's request handler so that
 * the registry side can use them without loading it.
 */
import { PluginError } from '../errors';

/** A few seconds: an endpoint that does not accept a connection by then is not there. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** About a minute for one request, from sending it to the answer's headers (ECR answers in milliseconds). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** Agent environment variables that shorten the timeouts (the tests use them; see the README). */
export const CONNECT_TIMEOUT_VARIABLE = 'KAHOLO_ECR_AWS_CONNECT_TIMEOUT_MS';
export const REQUEST_TIMEOUT_VARIABLE = 'KAHOLO_ECR_AWS_REQUEST_TIMEOUT_MS';

export interface AwsTimeouts {
  connectMs: number;
  requestMs: number;
}

/** The timeouts in force: the defaults, or what the agent's environment sets. */
export function awsTimeouts(env: NodeJS.ProcessEnv = process.env): AwsTimeouts {
  return {
    connectMs: timeoutFromEnv(env, CONNECT_TIMEOUT_VARIABLE, DEFAULT_CONNECT_TIMEOUT_MS),
    requestMs: timeoutFromEnv(env, REQUEST_TIMEOUT_VARIABLE, DEFAULT_REQUEST_TIMEOUT_MS),
  };
}

function timeoutFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 100 || value > 600_000) {
    throw new PluginError(`The agent's environment variable ${name} must be a number of milliseconds from 100 to 600000`);
  }
  return value;
}

/** The variables that name a proxy (NO_PROXY alone changes nothing). */
export const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];
