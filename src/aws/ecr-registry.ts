/**
 * aws/: everything that talks to AWS through its SDK: private ECR
 * (this file) and ECR Public as `RegistryApi`s, ECR's image scanning, how
 * their clients are set up (credentials, roles through STS, the default
 * credential chain), and the transport under every call: timeouts, retries,
 * faults named for what they are, the agent's proxy and NO_PROXY. The SDK
 * bundles load lazily, only when an action needs them.
 */
import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  GetAuthorizationTokenCommand,
  paginateDescribeRepositories,
  PutImageCommand,
  type AuthorizationData,
  type ImageIdentifier,
} from '@aws-sdk/client-ecr';
import { describeAwsError, MissingImageError, PluginError, shorten } from '../errors';
import type { Redactor } from '../kaholo/redactor';
import type { AwsConnection } from '../params/connection';
import type { RepositorySettings } from '../params/repository-settings';
import { decodeAuthorizationToken, registryHost } from '../registry/authorization';
import { MANIFEST_MEDIA_TYPES } from '../registry/media-types';
import {
  type ImageId,
  type PutManifestAnswer,
  type RegistryApi,
  type RegistryAuthorization,
  type RepositoryRecord,
  type StoredManifest,
} from '../registry/registry-api';
import { createEcrClient, expectedRegistryHost, resolveRegion, type EcrClient } from './ecr-client';
import { EcrImageScans } from './ecr-scans';
import { createUnlessExists, describeEveryRepository, putImageAnswer, putImageInput } from './ecr-calls';

/**
 * Opens private ECR for `registryId` (absent: the default registry of the
 * credentials' account). Fails early, naming the param, when no region can be
 * found anywhere.
 */
export async function openEcrRegistry(connection: AwsConnection, registryId: string | undefined, redactor: Redactor): Promise<RegistryApi> {
  const ecr = await createEcrClient(connection, redactor);
  try {
    return new EcrRegistry(ecr, registryId, await resolveRegion(ecr.client));
  } catch (error) {
    ecr.close();
    throw error;
  }
}

class EcrRegistry implements RegistryApi {
  readonly type = 'private';
  readonly scans: EcrImageScans;
  private readonly client: EcrClient['client'];

  constructor(
    private readonly ecr: EcrClient,
    private readonly registryId: string | undefined,
    readonly region: string,
    /** False for an API made by forRegistry, which shares its maker's client. */
    private readonly ownsClient = true,
  ) {
    this.client = ecr.client;
    this.scans = new EcrImageScans(ecr, registryId);
  }

  forRegistry(registryId: string | undefined): RegistryApi {
    return new EcrRegistry(this.ecr, registryId, this.region, false);
  }

  expectedHost(): Promise<string | undefined> {
    return expectedRegistryHost(this.client, this.region, this.registryId);
  }

  describeRepositories(repositoryNames: string[]): Promise<RepositoryRecord[]> {
    return describeEveryRepository(paginateDescribeRepositories, this.client, this.registryId, repositoryNames, this.ecr.call);
  }

  async authorize(registryIds: string[]): Promise<RegistryAuthorization[]> {
    const ids = registryIds.length > 0 ? registryIds : this.registryId !== undefined ? [this.registryId] : [];
    let authorizationData: AuthorizationData[];
    try {
      const response = await this.client.send(new GetAuthorizationTokenCommand(ids.length > 0 ? { registryIds: ids } : {}));
      authorizationData = response.authorizationData ?? [];
    } catch (error) {
      throw describeAwsError(this.ecr.call('GetAuthorizationToken'), error);
    }
    if (authorizationData.length === 0) {
      throw new PluginError('ECR GetAuthorizationToken returned no authorization data');
    }
    return authorizationData.map(decodeAuthorization);
  }

  /** Private ECR names images by the repository's name alone. */
  repositoryPath(repoName: string): Promise<string> {
    return Promise.resolve(repoName);
  }

  async createRepository(repoName: string, settings: RepositorySettings): Promise<boolean> {
    if (settings.type !== 'private') throw new PluginError('Private ECR was asked to create a repository with public settings');
    const { imageTagMutability, scanOnPush, encryptionType, kmsKey, tags } = settings;
    return await createUnlessExists(
      () =>
        this.client.send(
          new CreateRepositoryCommand({
            registryId: this.registryId,
            repositoryName: repoName,
            imageTagMutability,
            imageScanningConfiguration: { scanOnPush },
            encryptionConfiguration: { encryptionType, kmsKey },
            ...(tags.length > 0 ? { tags } : {}),
          }),
        ),
      this.ecr.call,
    );
  }

  /** BatchGetImage reports a missing image under `failures`, not as an error. */
  async getManifest(repoName: string, image: ImageId, signal?: AbortSignal): Promise<StoredManifest> {
    const imageId: ImageIdentifier = image.digest !== undefined ? { imageDigest: image.digest } : { imageTag: image.tag };
    const response = await this.client
      .send(
        new BatchGetImageCommand({
          registryId: this.registryId,
          repositoryName: repoName,
          imageIds: [imageId],
          acceptedMediaTypes: [...MANIFEST_MEDIA_TYPES],
        }),
        { abortSignal: signal },
      )
      .catch((error: unknown) => {
        throw describeAwsError(this.ecr.call('BatchGetImage'), error);
      });
    const [failure] = response.failures ?? [];
    if (failure !== undefined) throw new MissingImageError([failure.failureCode, failure.failureReason].filter(Boolean).join(': '));
    const [found] = response.images ?? [];
    const digest = found?.imageId?.imageDigest;
    if (found?.imageManifest === undefined || digest === undefined) {
      throw new PluginError(`ECR BatchGetImage returned no manifest for ${shorten(repoName)}`);
    }
    return { digest, manifest: found.imageManifest, mediaType: found.imageManifestMediaType };
  }

  putManifest(repoName: string, manifest: StoredManifest, tag: string, signal?: AbortSignal): Promise<PutManifestAnswer> {
    return putImageAnswer(() => this.client.send(new PutImageCommand(putImageInput(this.registryId, repoName, manifest, tag)), { abortSignal: signal }), this.ecr.call);
  }

  close(): void {
    if (this.ownsClient) this.ecr.close();
  }
}

function decodeAuthorization(data: AuthorizationData): RegistryAuthorization {
  const { authorizationToken, proxyEndpoint } = data;
  if (!authorizationToken || !proxyEndpoint) {
    throw new PluginError('ECR GetAuthorizationToken returned an entry without a token or proxy endpoint');
  }
  return {
    data: { ...data, authorizationToken, proxyEndpoint },
    login: { host: registryHost(proxyEndpoint), ...decodeAuthorizationToken(authorizationToken) },
  };
}
