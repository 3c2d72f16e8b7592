/**
 * Copy Image (`copyImage`): an image from one repository to another, across
 * repositories, accounts and regions, through both registries' HTTP APIs
 * with each side's own authorization. No Docker is used and no byte goes to
 * disk. Every param is read and checked here, before any call; the registry
 * side of the copy loads only then.
 */
import { LAZY_BUNDLES } from '../agent/lazy-bundles';
import { parseImageRequest, planPull, repositoryImageId, type ImageRequest } from '../params/image-request';
import { ParamError, quote } from '../errors';
import { kaholoMethod } from '../kaholo/action-boundary';
import type { ParamReader } from '../kaholo/param-reader';
import { checkExternalId, checkRegistryId, checkRepositoryName, checkRoleArn } from '../params/aws-names';
import { DEFAULT_ROLE_DURATION_SECONDS, readConnection, type AwsConnection } from '../params/connection';
import { isWellFormedRegion } from '../params/regions';
import { readRegistryType, type RegistryType } from '../params/registry-type';
import { readRepositorySettings, type RepositorySettings } from '../params/repository-settings';
import { readTags } from '../params/tag-list';
import { readTransferOptions, type TransferOptions } from '../params/transfer-options';
import type { RegistryApi, RegistryAuthorization } from '../registry/registry-api';
import { ensureRepository } from '../registry/repository-creation';
import { readRegistrySelection, readRepoName, withRegistry, type RegistrySelection } from './registry-access';

const METHOD = 'copyImage';

interface CopyParams {
  source: { connection: AwsConnection; registry: RegistrySelection; repoName: string; image: ImageRequest; reference: string };
  target: { connection: AwsConnection; registry: RegistrySelection; repoName: string; tags: string[]; ownRole: boolean };
  repository?: RepositorySettings;
  copyReferrers: boolean;
  options: TransferOptions;
}

export const copyImage = kaholoMethod(async ({ params, log, redactor }) => {
  const copy = readCopyParams(params);
  return withRegistry(copy.source.connection, copy.source.registry, { redactor, log }, async (sourceRegistry) => {
    // The same API, credentials, region and role on both sides: one client (and one role session) for both.
    const sameConnection = copy.source.registry.type === copy.target.registry.type && JSON.stringify(copy.source.connection) === JSON.stringify(copy.target.connection);
    const onTargetRegistry = <T>(work: (target: RegistryApi) => Promise<T>): Promise<T> =>
      sameConnection
        ? work(sourceRegistry.forRegistry(copy.target.registry.registryId))
        : onTarget(copy, withRegistry(copy.target.connection, copy.target.registry, { redactor, log }, work));
    return onTargetRegistry(async (targetRegistry) => {
      const { repository } = copy;
      // Each side's repository path: its name on private ECR, under the registry's alias on ECR Public.
      // AWS calls keep their own timeouts (about 90 s for one that never answers): the limit comes first.
      const [[source], [target], sourcePath, targetPath] = await copy.options.limit.bound(
        Promise.all([
          sourceRegistry.authorize([]),
          onTarget(copy, targetRegistry.authorize([])),
          sourceRegistry.repositoryPath(copy.source.repoName),
          onTarget(copy, targetRegistry.repositoryPath(copy.target.repoName)),
          repository && onTarget(copy, ensureRepository({ registry: targetRegistry, repoName: copy.target.repoName }, repository, log)),
        ]),
        'it was still waiting for AWS to authorize it and find the repositories',
      );
      for (const side of [source, target]) redactor.add(side.data.authorizationToken);
      const sourceReference = planPull(copy.source.image, copy.source.repoName, { host: source.login.host, path: sourcePath });
      log.info(`Authorized for ${source.login.host} (source) and ${target.login.host} (target)`);
      (await import('../agent/code-cache')).preloadWithCodeCache(LAZY_BUNDLES.copySession);
      const { runCopy } = await import('../copy/copy-session');
      const copied = await runCopy({
        source: { ...side(source), type: copy.source.registry.type, repository: sourcePath, reference: copy.source.reference },
        target: { ...side(target), type: copy.target.registry.type, repository: targetPath, tags: copy.target.tags },
        copyReferrers: copy.copyReferrers,
        retry: copy.options.retry,
        limit: copy.options.limit,
        log,
        redactor,
      });
      return {
        image: `${target.login.host}/${targetPath}:${copy.target.tags[0]}`,
        digest: copied.digest,
        registry: target.login.host,
        tags: copy.target.tags,
        source: sourceReference,
        platforms: copied.platforms,
        referrers: copied.referrers,
        blobs: copied.blobs,
      };
    });
  });
});

function side({ data, login }: RegistryAuthorization): { proxyEndpoint: string; user: string; password: string } {
  return { proxyEndpoint: data.proxyEndpoint, user: login.user, password: login.password };
}

/**
 * The target's calls: a failure to assume its own role names targetRoleArn
 * (the role code names roleArn, the source's param).
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
  const registry = readRegistrySelection(params);
  const repoName = readRepoName(params);
  const imageName = params.requiredString('imageName', 'the image to copy: a tag ("1.2.0"), "app:1.2.0", "sha256:..." or the full reference');
  const image = parseImageRequest(imageName, 'pull'); // read as a pull reads it
  const { reference, tag } = sourceOf(image);

  const targetRegistryId = optionalId(params, 'targetRegistryId');
  // Empty: the source's type, as for the target's other settings.
  const targetType: RegistryType = params.string('targetRegistryType') === undefined ? registry.type : readRegistryType(params, 'targetRegistryType');
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
  const sameRegion = targetConnection.region === connection.region || (registry.type === 'public' && targetType === 'public'); // ECR Public is in one region
  if (repoName === targetRepoName && registry.registryId === targetRegistryId && registry.type === targetType && sameRegion && roleArn === undefined && givenTags.length === 0) {
    throw new ParamError('targetRepoName', `names the source repository itself, in the same registry and region: choose another repository, registry, region or tags`);
  }
  return {
    source: { connection, registry, repoName, image, reference },
    target: {
      connection: targetConnection,
      registry: { type: targetType, ...(targetRegistryId !== undefined ? { registryId: targetRegistryId } : {}) },
      repoName: targetRepoName,
      tags,
      ownRole: roleArn !== undefined,
    },
    repository: readRepositorySettings(params, targetType),
    copyReferrers: params.boolean('copyReferrers', true),
    options: readTransferOptions(params, 'copy'),
  };
}

/** What to read from the source (its digest when named, else its tag), and the tag the copy gets by default (the source's tag). */
function sourceOf(image: ImageRequest): { reference: string; tag?: string } {
  const id = repositoryImageId(image);
  if (id.tag !== undefined) return { reference: id.tag, tag: id.tag };
  const tag = image.kind === 'reference' ? image.ref.tag : undefined;
  return { reference: id.digest, ...(tag !== undefined ? { tag } : {}) };
}

function optionalId(params: ParamReader, name: string): string | undefined {
  const value = params.string(name);
  return value === undefined ? undefined : checkRegistryId(name, value);
}
