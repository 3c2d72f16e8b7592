/**
 * The plugin's entry, loaded by the Kaholo agent with require(). Each export
 * named in config.json turns Kaholo's (action, settings) into typed inputs and
 * hands them on. The AWS SDK and the docker runner load only when a method
 * needs them, so the autocomplete stays instant.
 */
import type { ECRClient } from '@aws-sdk/client-ecr';
import { kaholoMethod, type ActionContext } from './action-boundary';
import { checkRegistryId, checkRepositoryName } from './aws-names';
import { readConnection, type AwsConnection } from './connection';
import type { TransferRequest } from './image-transfer';
import type { KaholoAutocomplete } from './kaholo';
import { filterRegions } from './regions';
import { readRepositorySettings } from './repository-params';
import type { Redactor } from './redact';
import type { RepositoryTarget } from './repository-creation';
import { readTags } from './tag-params';
import { readTransferOptions } from './transfer-options';
import { parseImageRequest } from './transfer-plan';

export const describeRepositories = kaholoMethod(async ({ params, log, redactor }) => {
  const connection = readConnection(params, 'describeRepositories');
  const registryId = optionalRegistryId(params.string('registryId'));
  const repositoryNames = params.list('repositoryNames').map((name) => checkRepositoryName('repositoryNames', name));
  return withEcrClient(connection, redactor, async (ecr, client) => {
    const region = await ecr.resolveRegion(client);
    log.info(`Describing repositories in ${registryId ?? 'the default registry'} (${region})`);
    const repositories = await ecr.describeAllRepositories(client, { registryId, repositoryNames });
    log.info(`Found ${repositories.length} ${repositories.length === 1 ? 'repository' : 'repositories'}`);
    return { repositories };
  });
});

export const getEcrLogin = kaholoMethod(async ({ params, log, redactor }) => {
  const connection = readConnection(params, 'getEcrLogin');
  const registryIds = params.list('registryIds').map((id) => checkRegistryId('registryIds', id));
  const authorizations = await withEcrClient(connection, redactor, async (ecr, client) => {
    const region = await ecr.resolveRegion(client);
    log.info(`Getting authorization for ${registryIds.length > 0 ? registryIds.join(', ') : 'the default registry'} (${region})`);
    return ecr.getAuthorizations(client, registryIds);
  });
  return {
    authorizationData: authorizations.map(({ data, login }) => ({
      ...data,
      decodedToken: { host: login.host, user: login.user, password: login.password },
      baseDockerLoginCommand: `docker login --username ${login.user} --password "${login.password}" ${login.host}`,
    })),
  };
});

export const pushImgaeToRepo = kaholoMethod(async (context) => {
  const repository = readRepositorySettings(context.params);
  const additionalTags = readTags(context.params, 'additionalTags', false);
  return withTransfer(context, 'push', async ({ request, transfer, target }) => {
    if (repository) await (await import('./repository-creation')).ensureRepository(target, repository, context.log);
    const pushed = await transfer.pushImage(request, context);
    // More tags for the pushed digest through the ECR API, not another docker push.
    const tags = await (await import('./image-tagging')).tagPushedImage(target, pushed, additionalTags, context.log);
    return { ...pushed, tags };
  });
});

export const pullImage = kaholoMethod((context) => withTransfer(context, 'pull', ({ request, transfer }) => transfer.pullImage(request, context)));

export const tagImage = kaholoMethod(async ({ params, log, redactor }) => {
  const connection = readConnection(params, 'tagImage');
  const registryId = optionalRegistryId(params.string('registryId'));
  const repoName = readRepoName(params);
  const imageName = params.requiredString('imageName', 'the tag ("1.2.0") or digest ("@sha256:...") of an image in the repository');
  const image = parseImageRequest(imageName, 'pull'); // read as a pull reads it, once, before any call
  const tags = readTags(params, 'tags', true);
  return withEcrClient(connection, redactor, async (ecr, client) => {
    await ecr.resolveRegion(client);
    const tagging = await import('./image-tagging');
    return tagging.tagImageInRepository({ client, registryId, repoName }, image, tags, log);
  });
});

export { copyImage } from './methods/copy-image';

export const listRegions: KaholoAutocomplete = (query) => Promise.resolve(filterRegions(query));

type EcrModule = typeof import('./ecr-client');
type Transfer = {
  request: TransferRequest;
  transfer: typeof import('./image-transfer');
  target: RepositoryTarget;
};

/** Push and pull read the same params and log in the same way; `work` runs with the registry's authorization. */
async function withTransfer<T>({ params, log, redactor }: ActionContext, direction: 'push' | 'pull', work: (transfer: Transfer) => Promise<T>): Promise<T> {
  const connection = readConnection(params, direction === 'push' ? 'pushImgaeToRepo' : 'pullImage');
  const registryId = optionalRegistryId(params.string('registryId'));
  const repoName = readRepoName(params);
  const imageName = params.requiredString('imageName', 'a tag ("1.2.0"), a local image ("app:1.2.0") or a full reference');
  const image = parseImageRequest(imageName, direction);
  const options = readTransferOptions(params);
  return withEcrClient(connection, redactor, async (ecr, client) => {
    await ecr.resolveRegion(client);
    const [authorization] = await ecr.getAuthorizations(client, registryId !== undefined ? [registryId] : []);
    // The session hides the password; the token it came in (base64 of user:password) is hidden here.
    redactor.add(authorization.data.authorizationToken);
    log.info(`Authorized for ${authorization.login.host}`);
    (await import('./code-cache')).preloadWithCodeCache('image-transfer');
    const transfer = await import('./image-transfer');
    return work({ request: { login: authorization.login, repoName, image, options }, transfer, target: { client, registryId, repoName } });
  });
}

/**
 * An ECR client for the connection (the SDK loaded from its code cache when
 * there is one), for the length of `work`; its connections are closed after.
 */
async function withEcrClient<T>(connection: AwsConnection, redactor: Redactor, work: (ecr: EcrModule, client: ECRClient) => Promise<T>): Promise<T> {
  (await import('./code-cache')).preloadWithCodeCache('ecr-client');
  const ecr = await import('./ecr-client');
  const client = await ecr.createEcrClient(connection, redactor);
  try {
    return await work(ecr, client);
  } finally {
    ecr.closeEcrClient(client);
  }
}

function readRepoName(params: ActionContext['params']): string {
  return checkRepositoryName('repoName', params.requiredString('repoName', 'the name of the repository in the registry, such as "team/app"'));
}

function optionalRegistryId(value: string | undefined): string | undefined {
  return value === undefined ? undefined : checkRegistryId('registryId', value);
}
