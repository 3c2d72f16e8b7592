import type { ActivityLog } from './activity-log';
import { DockerCli, DockerCommandError } from './docker-cli';
import { createPrivateDockerConfig } from './docker-config';
import type { RegistryLogin } from './ecr-client';
import { PluginError } from './errors';
import type { Redactor } from './redact';

const LOGIN_TIMEOUT_MS = 2 * 60 * 1000;
const INTERRUPTS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

export interface SessionContext {
  redactor: Redactor;
  log: ActivityLog;
  env?: NodeJS.ProcessEnv;
}

/**
 * Logs docker in to one registry for the duration of `work`, in a private
 * DOCKER_CONFIG, then — whatever happened, an interrupt included — logs out
 * and removes that directory, so no credentials outlive the action.
 */
export async function withRegistrySession<T>(
  login: RegistryLogin,
  context: SessionContext,
  work: (docker: DockerCli) => Promise<T>,
): Promise<T> {
  context.redactor.add(login.password);
  const config = await createPrivateDockerConfig(context.env);
  const docker = new DockerCli({ ...(context.env ?? process.env), DOCKER_CONFIG: config.dir }, context.redactor, context.log);
  const interrupts = catchInterrupts(() => docker.interrupt());
  let loggedIn = false;
  try {
    await docker
      .run(['login', '--username', login.user, '--password-stdin', login.host], {
        input: login.password,
        timeoutMs: LOGIN_TIMEOUT_MS,
      })
      .catch((error: unknown) => {
        throw explainLoginFailure(error, login.host);
      });
    loggedIn = true;
    context.log.info(`Logged in to ${login.host} (private docker config, removed when the action ends)`);
    return await work(docker);
  } finally {
    if (loggedIn) {
      await docker
        .run(['logout', login.host], { timeoutMs: LOGIN_TIMEOUT_MS, afterInterrupt: true })
        .then(() => context.log.info(`Logged out of ${login.host}`))
        .catch((error: Error) => context.log.error(`docker logout failed (credentials are removed anyway): ${error.message}`));
    }
    await config.remove();
    interrupts.release();
  }
}

/**
 * While a session runs, an interrupt stops docker and lets cleanup finish;
 * the signal is raised again afterwards so the process still ends as asked.
 */
function catchInterrupts(onInterrupt: () => void): { release(): void } {
  let received: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals): void => {
    received ??= signal;
    onInterrupt();
  };
  for (const signal of INTERRUPTS) process.on(signal, handler);
  return {
    release(): void {
      for (const signal of INTERRUPTS) process.off(signal, handler);
      if (received) process.kill(process.pid, received);
    },
  };
}

/** Says which of the two usual reasons a login failed for, keeping docker's own words. */
function explainLoginFailure(error: unknown, host: string): unknown {
  if (!(error instanceof DockerCommandError)) return error;
  if (/connection refused|no such host|i\/o timeout|network is unreachable|TLS handshake timeout/i.test(error.stderr)) {
    return new PluginError(`The registry ${host} cannot be reached from the agent: ${error.message}`);
  }
  if (/unauthorized|401|denied/i.test(error.stderr)) {
    return new PluginError(`The registry ${host} refused the login ECR authorized: ${error.message}`);
  }
  return error;
}
