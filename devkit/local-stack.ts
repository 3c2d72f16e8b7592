/**
 * The local stand-in for AWS that the demo and `npm run action -- --local` run the plugin against:
 * the local ECR API endpoint, and, when Docker is wanted and possible, a Docker engine (the one
 * already running, or a private dockerd started for the occasion) and a real registry behind the
 * endpoint's tokens. Everything listens on 127.0.0.1 and stop() takes it all down again.
 */
import { dockerAvailability, ensureDockerEngine, type DockerEngine } from './docker-engine';
import { startLocalEcr, type LocalEcr } from './local-ecr';
import { registryAvailability, startRegistry } from './registry';

export interface LocalStack {
  ecr: LocalEcr;
  /** Set when push and pull can run. */
  engine?: DockerEngine;
  /** Why there is no engine (and so no registry), when Docker was wanted. */
  dockerSkipped?: string;
  /** Stops the registry, the endpoint and an engine this stack started. Idempotent. */
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  /** Also a Docker engine and a registry (for push and pull). */
  docker: boolean;
  /** Called before each slow step, for progress lines. */
  progress?: (line: string) => void;
}

/** Why push and pull cannot run here, or undefined when they can. */
export async function dockerUnavailableReason(): Promise<string | undefined> {
  const docker = await dockerAvailability();
  if (!docker.ok) return docker.reason;
  const registry = await registryAvailability();
  if (!registry.ok) return registry.reason;
  return undefined;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const progress = options.progress ?? (() => undefined);
  let engine: DockerEngine | undefined;
  let dockerSkipped: string | undefined;
  if (options.docker) {
    dockerSkipped = await dockerUnavailableReason();
    if (dockerSkipped === undefined) {
      progress('Docker engine: looking for a running one, else starting a private dockerd…');
      engine = await ensureDockerEngine();
    }
  }
  let ecr: LocalEcr;
  try {
    if (engine) progress('Starting the local ECR API endpoint and a registry (docker-registry, htpasswd auth)…');
    else progress('Starting the local ECR API endpoint…');
    ecr = await startLocalEcr(engine ? { startRegistry } : {});
  } catch (error) {
    await engine?.stop();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    ecr,
    engine,
    dockerSkipped,
    stop() {
      stopping ??= (async () => {
        const errors: unknown[] = [];
        await ecr.stop().catch((e: unknown) => errors.push(e));
        await engine?.stop().catch((e: unknown) => errors.push(e));
        if (errors.length > 0) throw errors[0];
      })();
      return stopping;
    },
  };
}

/**
 * Points this process's AWS SDK at the local endpoint (and nothing else's: child processes get
 * it only if they inherit this environment). A setting that would make the SDK ignore it goes.
 */
export function useLocalEndpoint(stack: LocalStack): void {
  delete process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
  process.env.AWS_ENDPOINT_URL_ECR = stack.ecr.env.AWS_ENDPOINT_URL_ECR;
  if (stack.engine) process.env.DOCKER_HOST = stack.engine.env.DOCKER_HOST;
}

/** The repositories the demo and `--local` create, in the default registry. */
export const LOCAL_REPOSITORIES = ['demo/app', 'demo/worker', 'team/api'];
