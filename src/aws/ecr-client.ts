import { ECRClient, type ECRClientConfig } from '@aws-sdk/client-ecr';
import { LAZY_BUNDLES } from '../agent/lazy-bundles';
import { createTransport, type AwsRequestHandler, type AwsTransport } from './aws-http';
import type { AwsConnection } from '../params/connection';
import { ParamError, type AwsCallContext } from '../errors';
import type { Redactor } from '../kaholo/redactor';

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
    (await import('../agent/code-cache')).preloadWithCodeCache(LAZY_BUNDLES.assumeRole);
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
  return { service: 'ECR', operation, endpoint: handler?.lastEndpoint, proxy: handler?.lastProxy, timeouts: handler?.timeouts };
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

/** Stands for the 12 digits of an account id when the action names none: the length is what counts. */
const SOME_ACCOUNT = '<account-id>';

/**
 * The registry host ECR will hand out, known before any call when the client
 * calls AWS's own endpoint, `api.ecr.<region>.<domain>` (the SDK's rules
 * give the domain: amazonaws.com, amazonaws.com.cn, …): the registry is then
 * `<account>.dkr.ecr.<region>.<domain>`. Undefined when the endpoint is
 * another (AWS_ENDPOINT_URL_ECR, FIPS, dual-stack): the token will tell.
 */
export async function expectedRegistryHost(client: ECRClient, region: string, registryId: string | undefined): Promise<string | undefined> {
  const { config } = client;
  try {
    if (config.isCustomEndpoint || (!config.ignoreConfiguredEndpointUrls && (await config.serviceConfiguredEndpoint?.()) !== undefined)) return undefined;
    const { url } = config.endpointProvider({ Region: region, UseFIPS: await config.useFipsEndpoint(), UseDualStack: await config.useDualstackEndpoint() });
    const prefix = `api.ecr.${region}.`;
    if (!url.hostname.startsWith(prefix)) return undefined;
    return `${registryId ?? SOME_ACCOUNT}.dkr.ecr.${region}.${url.hostname.slice(prefix.length)}`;
  } catch {
    return undefined; // the SDK will say what is wrong with the region or endpoint when it is called
  }
}
