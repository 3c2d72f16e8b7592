import type { DockerCli } from './docker-cli';
import { DockerCommandError } from './docker-cli';
import type { RegistryLogin } from './ecr-client';
import { ParamError, PluginError } from './errors';
import { withRegistrySession, type SessionContext } from './registry-session';
import { planPull, planPush, type PushCandidate } from './transfer-plan';

/** Long enough for a large image on a slow link; a hung transfer still ends. */
const TRANSFER_TIMEOUT_MS = 60 * 60 * 1000;
const LOCAL_TIMEOUT_MS = 2 * 60 * 1000;

export interface TransferRequest {
  login: RegistryLogin;
  repoName: string;
  imageName: string;
}

/** What push and pull return: the ECR reference, its digest and the registry host. */
export interface TransferResult {
  image: string;
  digest: string;
  registry: string;
}

export async function pushImage(request: TransferRequest, context: SessionContext): Promise<TransferResult> {
  const { login, repoName, imageName } = request;
  const candidates = planPush(imageName, repoName, login.host);
  return withRegistrySession(login, context, async (docker) => {
    // Already named as the target: push straight away (docker itself says when there is no such image).
    const exact = candidates.length === 1 && candidates[0].source === candidates[0].target;
    const { source, target } = exact ? candidates[0] : await findLocalImage(docker, candidates);
    const tagged = source !== target && !(await hasLocalImage(docker, target));
    if (source !== target) {
      await docker.run(['tag', source, target], { timeoutMs: LOCAL_TIMEOUT_MS });
      context.log.info(`Tagged ${source} as ${target}`);
    }
    try {
      context.log.info(`Pushing ${target}`);
      let stdout: string;
      try {
        ({ stdout } = await docker.run(['push', target], { stream: true, timeoutMs: TRANSFER_TIMEOUT_MS }));
      } catch (error) {
        throw exact ? explainMissingImage(error, target) : error;
      }
      const digest = /digest: (sha256:[a-f0-9]{64})/.exec(stdout)?.[1] ?? (await repoDigest(docker, target, login.host));
      return { image: target, digest, registry: login.host };
    } finally {
      // Leave the agent's image list as it was: drop the name this action added.
      if (tagged) await docker.run(['rmi', '--no-prune', target], { timeoutMs: LOCAL_TIMEOUT_MS, afterInterrupt: true }).catch(() => undefined);
    }
  });
}

export async function pullImage(request: TransferRequest, context: SessionContext): Promise<TransferResult> {
  const { login, repoName, imageName } = request;
  const reference = planPull(imageName, repoName, login.host);
  return withRegistrySession(login, context, async (docker) => {
    context.log.info(`Pulling ${reference}`);
    let stdout: string;
    try {
      ({ stdout } = await docker.run(['pull', reference], { stream: true, timeoutMs: TRANSFER_TIMEOUT_MS }));
    } catch (error) {
      throw explainPullFailure(error, reference);
    }
    const digest = /Digest: (sha256:[a-f0-9]{64})/.exec(stdout)?.[1] ?? (await repoDigest(docker, reference, login.host));
    return { image: reference, digest, registry: login.host };
  });
}

/** The first candidate that exists locally; a clear error naming all of them otherwise. */
async function findLocalImage(docker: DockerCli, candidates: PushCandidate[]): Promise<PushCandidate> {
  for (const candidate of candidates) {
    if (await hasLocalImage(docker, candidate.source)) return candidate;
  }
  const names = candidates.map((c) => `"${c.source}"`).join(', ');
  throw new ParamError('imageName', `no such local image on the agent (looked for ${names}); build or pull it first`);
}

async function hasLocalImage(docker: DockerCli, reference: string): Promise<boolean> {
  try {
    await docker.run(['image', 'inspect', '--format', '{{.Id}}', reference], { timeoutMs: LOCAL_TIMEOUT_MS });
    return true;
  } catch (error) {
    if (error instanceof DockerCommandError && /No such image/i.test(error.stderr)) return false;
    throw error;
  }
}

/** The digest the registry knows the image by, from the engine's record of it. */
async function repoDigest(docker: DockerCli, reference: string, host: string): Promise<string> {
  const { stdout } = await docker.run(['image', 'inspect', '--format', '{{json .RepoDigests}}', reference], {
    timeoutMs: LOCAL_TIMEOUT_MS,
  });
  const digests = JSON.parse(stdout) as string[];
  const match = digests.find((d) => d.startsWith(`${host}/`)) ?? digests[0];
  const digest = match?.split('@')[1];
  if (!digest) throw new PluginError(`docker reported no digest for ${reference}`);
  return digest;
}

/** Docker's words for pushing a name it has no image for, as the same error findLocalImage gives. */
function explainMissingImage(error: unknown, reference: string): unknown {
  if (error instanceof DockerCommandError && /does not exist locally|tag does not exist|No such image/i.test(error.stderr)) {
    return new ParamError('imageName', `no such local image on the agent (looked for "${reference}"); build or pull it first`);
  }
  return error;
}

function explainPullFailure(error: unknown, reference: string): unknown {
  if (error instanceof DockerCommandError && /manifest unknown|not found|does not exist/i.test(error.stderr)) {
    return new PluginError(`${reference} is not in the registry: check "repoName" and "imageName" (${error.message})`);
  }
  return error;
}
