import type { ActivityLog } from '../kaholo/activity-log';
import { DockerCli, DockerCommandError } from './docker-cli';
import { agentDockerConfigDir, createPrivateDockerConfig } from './docker-config';
import { engineEndpoint } from './engine-endpoint';
import type { RegistryLogin } from '../registry/registry-api';
import { PluginError, shorten } from '../errors';
import { Interruption } from '../agent/interruption';
import { sweepOrphans } from '../agent/leftover-sweeper';
import type { Redactor } from '../kaholo/redactor';
import type { RetryPolicy } from '../params/transfer-options';
import { withRetries } from './docker-retries';
import type { TimeLimit } from '../params/time-limit';

const LOGIN_TIMEOUT_MS = 2 * 60 * 1000;

export interface SessionContext {
  redactor: Redactor;
  log: ActivityLog;
  env?: NodeJS.ProcessEnv;
}

/** What push and pull work with while logging in. */
export interface RegistrySession {
  docker: DockerCli;
  /** The private DOCKER_CONFIG directory, where the names this action adds are written down. */
  configDir: string;
  /** The Docker engine whose image names this action changes. */
  engine: string;
  log: ActivityLog;
  interruption: Interruption;
  retry: RetryPolicy;
  /** Where the work stops (the transfer's time limit); the clean-up runs on after it. */
  limit: TimeLimit;
  /** Settles when the login has: the work awaits it before it talks to the registry. */
  loggedIn: Promise<void>;
  /** Logs out now (once; the session's end does it anyway): for work done with the registry early. */
  logOut(): Promise<void>;
}

/**
 * Logs docker in to one registry for the duration of `work`, in a private
 * DOCKER_CONFIG, then — whatever happened, an interrupt included — logs out
 * and removes that directory, so no credentials outlive the action. With no
 * login (an anonymous pull of a public image) the private config holds no
 * credentials at all: none of the agent's own, not even a stale one for the
 * same host, can turn the pull into a refusal. First it
 * cleans what killed actions left behind, while the login runs; the work
 * starts then too, so what it does in the engine alone (resolving, locking,
 * naming the image) overlaps the login, and it awaits `loggedIn` before it
 * reaches the registry. A failed login is the action's error, as if it had
 * come first. Every docker command of the work, and every wait, stops at the
 * time limit; logout and removing the config do not.
 */
export async function withRegistrySession<T>(
  login: RegistryLogin | undefined,
  context: SessionContext,
  { retry, limit }: { retry: RetryPolicy; limit: TimeLimit },
  work: (session: RegistrySession) => Promise<T>,
): Promise<T> {
  context.redactor.add(login?.password);
  const env = context.env ?? process.env;
  const interruption = Interruption.catch(context.log);
  try {
    const config = await createPrivateDockerConfig(env);
    const docker = new DockerCli({ ...env, DOCKER_CONFIG: config.dir }, context.redactor, context.log, { limit });
    const stopListening = interruption.onInterrupt(() => docker.interrupt());
    const engine = engineEndpoint(env, agentDockerConfigDir(env), config.context);
    const loggedIn = login === undefined ? Promise.resolve() : logIn(docker, login, { retry, limit }, context, interruption);
    const loginFailure = loggedIn.then(() => undefined, (error: unknown) => error);
    let loggingOut: Promise<void> | undefined;
    const logOut = (): Promise<void> =>
      (loggingOut ??= loggedIn.then(
        () =>
          login === undefined
            ? undefined
            : docker
                .run(['logout', login.host], { timeoutMs: LOGIN_TIMEOUT_MS, afterInterrupt: true })
                .then(() => context.log.info(`Logged out of ${login.host}`))
                .catch((error: Error) => context.log.error(`docker logout failed (credentials are removed anyway): ${error.message}`)),
        () => undefined,
      ));
    const session: RegistrySession = { docker, configDir: config.dir, engine, log: context.log, interruption, retry, limit, loggedIn, logOut };
    try {
      await sweepOrphans(session);
      const result = await work(session);
      await loggedIn;
      return result;
    } catch (error) {
      throw (await loginFailure) ?? error;
    } finally {
      await loginFailure;
      await logOut();
      await config.remove().catch((error: Error) => context.log.error(`Removing the private docker config failed: ${error.message}`));
      stopListening();
    }
  } finally {
    interruption.release();
  }
}

/** `docker login` into the private config, the password on stdin, retried while the failure is transient. */
function logIn(
  docker: DockerCli,
  login: RegistryLogin,
  { retry, limit }: { retry: RetryPolicy; limit: TimeLimit },
  context: SessionContext,
  interruption: Interruption,
): Promise<void> {
  return withRetries('docker login', retry, { log: context.log, interruption, limit }, () =>
    docker.run(['login', '--username', login.user, '--password-stdin', login.host], {
      input: login.password,
      timeoutMs: LOGIN_TIMEOUT_MS,
    }),
  ).then(
    () => context.log.info(`Logged in to ${login.host} (private docker config, removed when the action ends)`),
    (error: unknown) => {
      throw explainLoginFailure(error, login.host);
    },
  );
}

/** Says which of the two usual reasons a login failed for, keeping docker's own words. */
function explainLoginFailure(error: unknown, host: string): unknown {
  if (!(error instanceof DockerCommandError)) return error;
  if (/connection refused|no such host|i\/o timeout|network is unreachable|TLS handshake timeout/i.test(error.stderr)) {
    return new PluginError(`The registry ${shorten(host)} cannot be reached from the agent: ${error.message}`);
  }
  if (/unauthorized|401|denied/i.test(error.stderr)) {
    return new PluginError(`The registry ${shorten(host)} refused the login ECR authorized: ${error.message}`);
  }
  return error;
}
