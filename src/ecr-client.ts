import {
  ECRClient,
  GetAuthorizationTokenCommand,
  type ECRClientConfig,
  paginateDescribeRepositories,
  type AuthorizationData,
  type Repository,
} from '@aws-sdk/client-ecr';
import { createTransport, type AwsRequestHandler, type AwsTransport } from './aws-http';
import type { AwsConnection } from './connection';
import { describeAwsError, ParamError, PluginError, type AwsCallContext } from './errors';
import type { Redactor } from './redact';

/** ECR's page size limit; the fewest round trips for "all repositories". */
const MAX_PAGE_SIZE = 1000;
/** ECR accepts at most this many names in one DescribeRepositories call. */
const MAX_NAMES_PER_CALL = 100;

/** Each client's request handler, which knows the endpoint its last request went to. */
const handlers = new WeakMap<ECRClient, AwsRequestHandler>();
/** The request handler of the STS client that assumes a client's role, if it has one. */
const roleHandlers = new WeakMap<ECRClient, AwsRequestHandler>();

/**
 * A client for the given connection. With no credentials the SDK's default
 * chain applies; with no region the SDK's own resolution (AWS_REGION, profile)
 * applies. The endpoint follows the SDK's rules too (AWS_ENDPOINT_URL_ECR).
 * Every request is bounded in time and goes through the agent's proxy, if
 * any; with a role, the role's credentials sign every call.
 */
export async function createEcrClient(connection: AwsConnection, redactor: Redactor): Promise<ECRClient> {
  const transport = await createTransport(redactor);
  let credentials: ECRClientConfig['credentials'] = connection.credentials;
  let sts: AwsTransport | undefined;
  if (connection.role) {
    (await import('./code-cache')).preloadWithCodeCache('assume-role');
    const { roleCredentials } = await import('./assume-role');
    sts = await createTransport(redactor);
    credentials = roleCredentials(connection.role, connection.credentials, sts, redactor);
  }
  const client = new ECRClient({
    ...(connection.region !== undefined ? { region: connection.region } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
    requestHandler: transport.requestHandler,
    retryStrategy: transport.retryStrategy,
    streamCollector: transport.streamCollector,
  });
  handlers.set(client, transport.requestHandler);
  if (sts) roleHandlers.set(client, sts.requestHandler);
  return client;
}

/**
 * Closes the connections the client (and its role's STS client) keeps alive
 * for reuse, as the SDK asks of a client that is done: in an agent process
 * that outlives the action, they would otherwise stay open until AWS drops them.
 */
export function closeEcrClient(client: ECRClient): void {
  client.destroy();
  roleHandlers.get(client)?.destroy();
}

/** What an error of an ECR call names: the operation, the endpoint it went to, the timeouts. */
export function ecrCall(client: ECRClient, operation: string): AwsCallContext {
  const handler = handlers.get(client);
  return { service: 'ECR', operation, endpoint: handler?.lastEndpoint, timeouts: handler?.timeouts };
}

/** Fails early, with the parameter's name, when no region can be found anywhere. */
export async function resolveRegion(client: ECRClient): Promise<string> {
  try {
    return await client.config.region();
  } catch {
    throw new ParamError(
      'region',
      'is not set: choose one in the action or the plugin settings, or set AWS_REGION on the agent',
    );
  }
}

export interface DescribeOptions {
  registryId?: string;
  /** Only these repositories; empty means all. */
  repositoryNames: string[];
}

/** Every repository, following nextToken through all pages. */
export async function describeAllRepositories(client: ECRClient, options: DescribeOptions): Promise<Repository[]> {
  const { registryId } = options;
  const repositories: Repository[] = [];
  try {
    if (options.repositoryNames.length === 0) {
      const pages = paginateDescribeRepositories({ client, pageSize: MAX_PAGE_SIZE }, { registryId });
      for await (const page of pages) repositories.push(...(page.repositories ?? []));
      return repositories;
    }
    // ECR rejects maxResults together with repositoryNames, so names go in batches instead.
    for (const batch of chunks([...new Set(options.repositoryNames)], MAX_NAMES_PER_CALL)) {
      for await (const page of paginateDescribeRepositories({ client }, { registryId, repositoryNames: batch })) {
        repositories.push(...(page.repositories ?? []));
      }
    }
    return repositories;
  } catch (error) {
    throw describeAwsError(ecrCall(client, 'DescribeRepositories'), error);
  }
}

/** A registry login decoded from an authorization token. */
export interface RegistryLogin {
  /** The registry host, `proxyEndpoint` without its scheme. */
  host: string;
  user: string;
  password: string;
}

export interface Authorization {
  data: AuthorizationData;
  login: RegistryLogin;
}

/** GetAuthorizationToken for the given registries (empty: the caller's default registry), decoded. */
export async function getAuthorizations(client: ECRClient, registryIds: string[]): Promise<Authorization[]> {
  let authorizationData: AuthorizationData[];
  try {
    const response = await client.send(
      new GetAuthorizationTokenCommand(registryIds.length > 0 ? { registryIds } : {}),
    );
    authorizationData = response.authorizationData ?? [];
  } catch (error) {
    throw describeAwsError(ecrCall(client, 'GetAuthorizationToken'), error);
  }
  if (authorizationData.length === 0) {
    throw new PluginError('ECR GetAuthorizationToken returned no authorization data');
  }
  return authorizationData.map((data) => ({ data, login: decodeAuthorization(data) }));
}

function decodeAuthorization(data: AuthorizationData): RegistryLogin {
  if (!data.authorizationToken || !data.proxyEndpoint) {
    throw new PluginError('ECR GetAuthorizationToken returned an entry without a token or proxy endpoint');
  }
  return { host: registryHost(data.proxyEndpoint), ...decodeAuthorizationToken(data.authorizationToken) };
}

/** The token is base64 of `user:password`; the password may itself contain colons. */
export function decodeAuthorizationToken(token: string): { user: string; password: string } {
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new PluginError('ECR returned an authorization token that is not base64 of "user:password"');
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** `https://123456789012.dkr.ecr.eu-west-2.amazonaws.com/` → `123456789012.dkr.ecr.eu-west-2.amazonaws.com`. */
export function registryHost(proxyEndpoint: string): string {
  return proxyEndpoint.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/+$/, '');
}

function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

// The other ECR modules take their commands from here, so the shipped bundle holds one copy of the SDK.
export { BatchGetImageCommand, CreateRepositoryCommand, PutImageCommand } from '@aws-sdk/client-ecr';
// The registry side of copyImage bounds its requests and finds the proxy as the AWS calls do.
export { awsTimeouts, PROXY_VARIABLES } from './aws-http';
