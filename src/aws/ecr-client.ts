import { ECRClient } from '@aws-sdk/client-ecr';
import { ParamError, type AwsCallContext } from '../errors';
import type { Redactor } from '../kaholo/redactor';
import type { AwsConnection } from '../params/connection';
import { awsClientSetup } from './client-setup';

/** A private ECR client, and what its errors name. */
export interface EcrClient {
  client: ECRClient;
  /** What an error of an ECR call names: the operation, the endpoint it went to, the timeouts. */
  call: (operation: string) => AwsCallContext;
  /**
   * Closes the connections the client (and its role's STS client) keeps alive
   * for reuse, as the SDK asks of a client that is done: in an agent process
   * that outlives the action, they would otherwise stay open until AWS drops them.
   */
  close(): void;
}

/**
 * A client for the given connection. With no credentials the SDK's default
 * chain applies; with no region the SDK's own resolution (AWS_REGION, profile)
 * applies. The endpoint follows the SDK's rules too (AWS_ENDPOINT_URL_ECR).
 * Every request is bounded in time and goes through the agent's proxy, if
 * any; with a role, the role's credentials sign every call.
 */
export async function createEcrClient(connection: AwsConnection, redactor: Redactor): Promise<EcrClient> {
  const setup = await awsClientSetup(connection, redactor);
  const client = new ECRClient(setup.config);
  return {
    client,
    call: (operation) => setup.call('ECR', operation),
    close: () => {
      client.destroy();
      setup.closeRole();
    },
  };
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
