/**
 * ECR Public as a `RegistryApi`, through `@aws-sdk/client-ecr-public` (a
 * lazily loaded bundle of its own, like private ECR's). Its API is in
 * us-east-1 only, whatever region the action names; the registry's host and
 * alias come from DescribeRegistries, never from a host written here, so any
 * registry that serves the API (the local kit's included) stands in for
 * public.ecr.aws. Images are named `<host>/<alias>/<repository>`.
 */
import {
  CreateRepositoryCommand,
  ECRPUBLICClient,
  GetAuthorizationTokenCommand,
  paginateDescribeRegistries,
  paginateDescribeRepositories,
  PutImageCommand,
  type Registry,
  type RepositoryCatalogDataInput,
} from '@aws-sdk/client-ecr-public';
import { describeAwsError, ParamError, PluginError, type AwsCallContext } from '../errors';
import type { ActivityLog } from '../kaholo/activity-log';
import type { Redactor } from '../kaholo/redactor';
import type { AwsConnection } from '../params/connection';
import type { CatalogData, RepositorySettings } from '../params/repository-settings';
import { decodeAuthorizationToken, registryOrigin } from '../registry/authorization';
import type {
  ImageId,
  ManifestApi,
  PutManifestAnswer,
  RegistryApi,
  RegistryAuthorization,
  RepositoryRecord,
  StoredManifest,
} from '../registry/registry-api';
import { awsClientSetup, type AwsClientSetup } from './client-setup';
import { createUnlessExists, describeEveryRepository, putImageAnswer, putImageInput } from './ecr-calls';
import { awsTimeouts, PROXY_VARIABLES } from './transport-settings';

/** The one region that serves the ECR Public API. */
const ECR_PUBLIC_REGION = 'us-east-1';

/** The activity logs that were told the region rule: an action that opens ECR Public twice (a copy with a role per side) says it once. */
const regionNoticeGiven = new WeakSet<ActivityLog>();

/** A public registry as DescribeRegistries gives it: its account, the host its images are on, the alias they are under. */
export interface PublicRegistryLocation {
  registryId: string;
  host: string;
  alias: string;
}

/**
 * Opens ECR Public for `registryId` (absent: the registry of the credentials'
 * account), in us-east-1 with the action's credentials, role, proxy and
 * timeouts. When the action names another region, the log says once that it
 * does not apply here.
 */
export async function openEcrPublicRegistry(
  connection: AwsConnection,
  registryId: string | undefined,
  { redactor, log }: { redactor: Redactor; log: ActivityLog },
): Promise<RegistryApi> {
  if (connection.region !== undefined && connection.region !== ECR_PUBLIC_REGION && !regionNoticeGiven.has(log)) {
    regionNoticeGiven.add(log);
    log.info(`ECR Public's API is in ${ECR_PUBLIC_REGION} only: its calls go there ("region" ${connection.region} does not apply to them)`);
  }
  const setup = await awsClientSetup(connection, redactor, ECR_PUBLIC_REGION);
  return new EcrPublicRegistry(new ECRPUBLICClient(setup.config), setup, registryId, redactor);
}

/** The registry's HTTP API, for its manifests: what this module asks of it. */
type RegistryManifests = ManifestApi & { close(): void };

class EcrPublicRegistry implements RegistryApi {
  readonly type = 'public';
  readonly region = ECR_PUBLIC_REGION;
  private location: Promise<PublicRegistryLocation> | undefined;
  private manifestApi: Promise<RegistryManifests> | undefined;

  constructor(
    private readonly client: ECRPUBLICClient,
    private readonly setup: AwsClientSetup,
    private readonly registryId: string | undefined,
    private readonly redactor: Redactor,
    /** False for an API made by forRegistry, which shares its maker's client. */
    private readonly ownsClient = true,
  ) {}

  forRegistry(registryId: string | undefined): RegistryApi {
    return new EcrPublicRegistry(this.client, this.setup, registryId, this.redactor, false);
  }

  /** The host is only known from DescribeRegistries. */
  expectedHost(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  describeRepositories(repositoryNames: string[]): Promise<RepositoryRecord[]> {
    return describeEveryRepository(paginateDescribeRepositories, this.client, this.registryId, repositoryNames, this.call);
  }

  /** ECR Public has one token, for every public registry: it takes no registry ids. */
  async authorize(registryIds: string[]): Promise<RegistryAuthorization[]> {
    if (registryIds.length > 0) {
      throw new ParamError('registryIds', 'ECR Public gives one token for every public registry: leave it empty with "registryType" public');
    }
    const token = this.client.send(new GetAuthorizationTokenCommand({})).catch((error: unknown) => {
      throw describeAwsError(this.call('GetAuthorizationToken'), error);
    });
    const [{ authorizationData }, { host }] = await Promise.all([token, this.locate()]);
    const authorizationToken = authorizationData?.authorizationToken;
    if (!authorizationToken) throw new PluginError('ECR Public GetAuthorizationToken returned no authorization token');
    // The token carries no proxyEndpoint: it is made from the registry's host, as private ECR gives it.
    return [{ data: { ...authorizationData, authorizationToken, proxyEndpoint: registryOrigin(host) }, login: { host, ...decodeAuthorizationToken(authorizationToken) } }];
  }

  async repositoryPath(repoName: string): Promise<string> {
    return `${(await this.locate()).alias}/${repoName}`;
  }

  async createRepository(repoName: string, settings: RepositorySettings): Promise<boolean> {
    if (settings.type !== 'public') throw new PluginError('ECR Public was asked to create a repository with private settings');
    const catalogData = catalogInput(settings.catalog);
    return await createUnlessExists(
      () =>
        this.client.send(
          new CreateRepositoryCommand({
            repositoryName: repoName,
            ...(catalogData !== undefined ? { catalogData } : {}),
            ...(settings.tags.length > 0 ? { tags: settings.tags } : {}),
          }),
        ),
      this.call,
    );
  }

  /**
   * ECR Public's API has no BatchGetImage: a manifest is read through the
   * registry's own HTTP API, byte for byte, with the registry's token.
   */
  async getManifest(repoName: string, image: ImageId, signal?: AbortSignal): Promise<StoredManifest> {
    const [manifests, path] = await Promise.all([this.manifests(), this.repositoryPath(repoName)]);
    return manifests.getManifest(path, image, signal);
  }

  putManifest(repoName: string, manifest: StoredManifest, tag: string, signal?: AbortSignal): Promise<PutManifestAnswer> {
    return putImageAnswer(() => this.client.send(new PutImageCommand(putImageInput(this.registryId, repoName, manifest, tag)), { abortSignal: signal }), this.call);
  }

  close(): void {
    void this.manifestApi?.then((api) => api.close(), () => undefined);
    if (!this.ownsClient) return;
    this.client.destroy();
    this.setup.closeRole();
  }

  /** The registry's HTTP API, opened once with the registry's token, the plugin's request bounds and the agent's proxy. */
  private manifests(): Promise<RegistryManifests> {
    this.manifestApi ??= (async () => {
      const [{ data, login }] = await this.authorize([]);
      this.redactor.add(data.authorizationToken);
      const { openRegistryHttpApi } = await import('../registry-http/registry-http-api');
      const proxied = PROXY_VARIABLES.some((name) => process.env[name]);
      return openRegistryHttpApi({ origin: data.proxyEndpoint, user: login.user, password: login.password }, awsTimeouts(), proxied, this.redactor);
    })();
    return this.manifestApi;
  }

  /** The registry's host and alias, asked once. */
  private locate(): Promise<PublicRegistryLocation> {
    this.location ??= this.describeRegistry();
    return this.location;
  }

  private async describeRegistry(): Promise<PublicRegistryLocation> {
    const registries: Registry[] = [];
    try {
      for await (const page of paginateDescribeRegistries({ client: this.client }, {})) registries.push(...(page.registries ?? []));
    } catch (error) {
      throw describeAwsError(this.call('DescribeRegistries'), error);
    }
    return choosePublicRegistry(registries, this.registryId);
  }

  /** What an error of one ECR Public call names. */
  private readonly call = (operation: string): AwsCallContext => this.setup.call('ECR Public', operation);
}

/**
 * The registry of `registryId` (absent: the only one, the caller's), its
 * host from its registryUri and its alias: the primary one (what the Gallery
 * and repository URIs show), else the default one it was given at creation.
 */
export function choosePublicRegistry(registries: Registry[], registryId: string | undefined): PublicRegistryLocation {
  const registry = registryId !== undefined ? registries.find((r) => r.registryId === registryId) : registries[0];
  if (registry === undefined) {
    if (registryId !== undefined) {
      throw new ParamError('registryId', `ECR Public describes no public registry ${registryId} for these credentials: use that account's credentials, or leave "registryId" empty`);
    }
    throw new PluginError("ECR Public DescribeRegistries returned no registry for these credentials: the account's public registry is made with its first public repository");
  }
  const host = registry.registryUri?.split('/')[0];
  if (!host || !registry.registryId) throw new PluginError('ECR Public DescribeRegistries returned a registry without its id or URI');
  const active = (registry.aliases ?? []).filter((a) => a.status === 'ACTIVE' && a.name);
  const alias = active.find((a) => a.primaryRegistryAlias) ?? active.find((a) => a.defaultRegistryAlias);
  if (alias?.name === undefined) throw new PluginError(`ECR Public registry ${registry.registryId} has no active alias yet; try again once it has one`);
  return { registryId: registry.registryId, host, alias: alias.name };
}

/** The catalog fields that are set; none: no catalog data at all. */
function catalogInput(catalog: CatalogData): RepositoryCatalogDataInput | undefined {
  const input: RepositoryCatalogDataInput = {
    ...(catalog.description !== undefined ? { description: catalog.description } : {}),
    ...(catalog.aboutText !== undefined ? { aboutText: catalog.aboutText } : {}),
    ...(catalog.usageText !== undefined ? { usageText: catalog.usageText } : {}),
    ...(catalog.architectures.length > 0 ? { architectures: catalog.architectures } : {}),
    ...(catalog.operatingSystems.length > 0 ? { operatingSystems: catalog.operatingSystems } : {}),
  };
  return Object.keys(input).length > 0 ? input : undefined;
}
