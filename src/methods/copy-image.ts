/**
 * copyImage: an image from one repository to another, across repositories,
 * accounts and regions, through both registries' HTTP APIs with each side's
 * own GetAuthorizationToken. No Docker is used and no byte goes to disk.
 * Every param is read and checked here, before any call; the AWS SDK and the
 * copy code load only then.
 */
import { kaholoMethod } from '../action-boundary';
import { checkExternalId, checkRegistryId, checkRepositoryName, checkRoleArn } from '../aws-names';
import { DEFAULT_ROLE_DURATION_SECONDS, readConnection, type AwsConnection } from '../connection';
import { ParamError, PluginError, quote } from '../errors';
import type { ParamReader } from '../params';
import { isWellFormedRegion } from '../regions';
import { readRepositorySettings, type RepositorySettings } from '../repository-params';
import { readTags } from '../tag-params';
import { readTransferOptions, type TransferOptions } from '../transfer-options';
import { parseImageRequest, planPull, type ImageRequest } from '../transfer-plan';

const METHOD = 'copyImage';

interface CopyParams {
  source: { connection: AwsConnection; registryId?: string; repoName: string; image: ImageRequest; reference: string };
  target: { connection: AwsConnection; registryId?: string; repoName: string; tags: string[]; ownRole: boolean };
  repository?: RepositorySettings;
  copyReferrers: boolean;
  options: TransferOptions;
}

export const copyImage = kaholoMethod(async ({ params, log, redactor }) => {
  const copy = readCopyParams(params);
  (await import('../code-cache')).preloadWithCodeCache('ecr-client');
  const ecr = await import('../ecr-client');
  const sourceClient = await ecr.createEcrClient(copy.source.connection, redactor);
  const sameConnection = JSON.stringify(copy.source.connection) === JSON.stringify(copy.target.connection);
  const targetClient = sameConnection ? sourceClient : await onTarget(copy, ecr.createEcrClient(copy.target.connection, redactor));
  try {
    await ecr.resolveRegion(sourceClient);
    if (!sameConnection) await onTarget(copy, ecr.resolveRegion(targetClient));
    const ids = (id: string | undefined): string[] => (id !== undefined ? [id] : []);
    const { repository } = copy;
    const [[source], [target]] = await Promise.all([
      ecr.getAuthorizations(sourceClient, ids(copy.source.registryId)),
      onTarget(copy, ecr.getAuthorizations(targetClient, ids(copy.target.registryId))),
      repository && onTarget(copy, import('../repository-creation').then((creation) => creation.ensureRepository({ client: targetClient, registryId: copy.target.registryId, repoName: copy.target.repoName }, repository, log))),
    ]);
    for (const side of [source, target]) redactor.add(side.data.authorizationToken);
    const sourceReference = planPull(copy.source.image, copy.source.repoName, source.login.host);
    log.info(`Authorized for ${source.login.host} (source) and ${target.login.host} (target)`);
    (await import('../code-cache')).preloadWithCodeCache('copy-session');
    const { runCopy } = await import('../copy/copy-session');
    const copied = await runCopy({
      source: { ...side(source), repository: copy.source.repoName, reference: copy.source.reference },
      target: { ...side(target), repository: copy.target.repoName, tags: copy.target.tags },
      copyReferrers: copy.copyReferrers,
      retry: copy.options.retry,
      timeLimitMs: copy.options.timeLimitMs,
      timeouts: ecr.awsTimeouts(),
      proxied: ecr.PROXY_VARIABLES.some((name) => process.env[name]),
      log,
      redactor,
    });
    return {
      image: `${target.login.host}/${copy.target.repoName}:${copy.target.tags[0]}`,
      digest: copied.digest,
      registry: target.login.host,
      tags: copy.target.tags,
      source: sourceReference,
      platforms: copied.platforms,
      referrers: copied.referrers,
      blobs: copied.blobs,
    };
  } finally {
    ecr.closeEcrClient(sourceClient);
    if (targetClient !== sourceClient) ecr.closeEcrClient(targetClient);
  }
});

function side({ data, login }: { data: { proxyEndpoint?: string }; login: { user: string; password: string } }): { proxyEndpoint: string; user: string; password: string } {
  if (data.proxyEndpoint === undefined) throw new PluginError('ECR GetAuthorizationToken returned no proxy endpoint');
  return { proxyEndpoint: data.proxyEndpoint, user: login.user, password: login.password };
}

/**
 * The target's calls: a failure to assume its own role names targetRoleArn
 * (the role code names roleArn, the source's param), and one to find a
 * region names targetRegion.
 */
async function onTarget<T>(copy: CopyParams, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof ParamError && error.param === 'roleArn' && copy.target.ownRole) {
      throw new ParamError('targetRoleArn', error.message.replace(/^Parameter "roleArn": /, ''));
    }
    throw error;
  }
}

function readCopyParams(params: ParamReader): CopyParams {
  const connection = readConnection(params, METHOD);
  const registryId = optionalId(params, 'registryId');
  const repoName = checkRepositoryName('repoName', params.requiredString('repoName', 'the name of the source repository, such as "team/app"'));
  const imageName = params.requiredString('imageName', 'the image to copy: a tag ("1.2.0"), "app:1.2.0", "@sha256:..." or the full reference');
  const image = parseImageRequest(imageName, 'pull');
  const { reference, tag } = sourceOf(image);

  const targetRegistryId = optionalId(params, 'targetRegistryId');
  const targetRegion = params.string('targetRegion');
  if (targetRegion !== undefined && !isWellFormedRegion(targetRegion)) {
    throw new ParamError('targetRegion', `${quote(targetRegion)} is not an AWS region code; expected one such as "eu-west-2", or empty for the source's region`);
  }
  const targetRepo = params.string('targetRepoName');
  const targetRepoName = targetRepo === undefined ? repoName : checkRepositoryName('targetRepoName', targetRepo);
  const givenTags = readTags(params, 'targetTags', false);
  if (givenTags.length === 0 && tag === undefined) {
    throw new ParamError('targetTags', `is required when "imageName" names only a digest (${quote(imageName)}): the tags to give the copy, such as "1.2.0"`);
  }
  const tags = givenTags.length > 0 ? givenTags : [tag ?? 'latest'];
  const roleArn = params.string('targetRoleArn');
  const externalId = params.string('targetRoleExternalId');
  if (roleArn === undefined && externalId !== undefined) throw new ParamError('targetRoleArn', 'is required when "targetRoleExternalId" is set: the ARN of the role the target side assumes');
  const targetConnection: AwsConnection = {
    ...connection,
    region: targetRegion ?? connection.region,
    ...(roleArn !== undefined
      ? {
          role: {
            roleArn: checkRoleArn('targetRoleArn', roleArn),
            ...(externalId !== undefined ? { externalId: checkExternalId('targetRoleExternalId', externalId) } : {}),
            sessionName: connection.role?.sessionName ?? `kaholo-ecr-${METHOD}`,
            durationSeconds: connection.role?.durationSeconds ?? DEFAULT_ROLE_DURATION_SECONDS,
          },
        }
      : {}),
  };
  if (repoName === targetRepoName && registryId === targetRegistryId && targetConnection.region === connection.region && roleArn === undefined && givenTags.length === 0) {
    throw new ParamError('targetRepoName', `names the source repository itself, in the same registry and region: choose another repository, registry, region or tags`);
  }
  return {
    source: { connection, ...(registryId !== undefined ? { registryId } : {}), repoName, image, reference },
    target: { connection: targetConnection, ...(targetRegistryId !== undefined ? { registryId: targetRegistryId } : {}), repoName: targetRepoName, tags, ownRole: roleArn !== undefined },
    repository: readRepositorySettings(params),
    copyReferrers: params.boolean('copyReferrers', true),
    options: readTransferOptions(params),
  };
}

/** What to read from the source (its digest when named, else its tag), and the tag the copy gets by default. */
function sourceOf(image: ImageRequest): { reference: string; tag?: string } {
  if (image.kind === 'word') return { reference: image.text, tag: image.text };
  const { digest, tag } = image.ref;
  if (digest !== undefined) return { reference: digest, ...(tag !== undefined ? { tag } : {}) };
  return { reference: tag ?? 'latest', tag: tag ?? 'latest' };
}

function optionalId(params: ParamReader, name: string): string | undefined {
  const value = params.string(name);
  return value === undefined ? undefined : checkRegistryId(name, value);
}
