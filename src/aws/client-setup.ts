/**
 * What every AWS API client of the plugin is built from, whichever API it
 * speaks (private ECR, ECR Public): the action's credentials, or the SDK's
 * default chain when it gives none; a role's credentials when it names one;
 * the plugin's transport (timeouts, retries, the agent's proxy). Each API
 * module builds its own SDK client class from this, so a bundle holds only
 * the client it uses.
 */
import { LAZY_BUNDLES } from '../agent/lazy-bundles';
import type { AwsCallContext } from '../errors';
import type { Redactor } from '../kaholo/redactor';
import type { AwsConnection, StaticCredentials } from '../params/connection';
import type { roleCredentials } from './assume-role';
import { createTransport, type AwsRequestHandler, type AwsTransport } from './aws-http';

/** The settings an SDK client of any AWS API takes from the plugin. */
export interface AwsClientConfig {
  /** Absent: the SDK's own resolution (AWS_REGION, the profile). */
  region?: string;
  /** Absent: the SDK's default credential chain. */
  credentials?: StaticCredentials | ReturnType<typeof roleCredentials>;
  requestHandler: AwsTransport['requestHandler'];
  retryStrategy: AwsTransport['retryStrategy'];
  streamCollector: AwsTransport['streamCollector'];
}

export interface AwsClientSetup {
  config: AwsClientConfig;
  /** What an error of one call names: the service, the operation, the endpoint it went to, the timeouts. */
  call(service: AwsCallContext['service'], operation: string): AwsCallContext;
  /** Closes the connections of the role's STS client, if any (the API client's own destroy() closes its handler's). */
  closeRole(): void;
}

/**
 * The setup for a client of `connection`, in `region` (default: the
 * connection's). With a role, the role's credentials sign every call of the
 * client; STS is reached as the SDK's role provider reaches it.
 */
export async function awsClientSetup(connection: AwsConnection, redactor: Redactor, region = connection.region): Promise<AwsClientSetup> {
  const transport = await createTransport(redactor);
  let credentials: AwsClientConfig['credentials'] = connection.credentials;
  let sts: AwsRequestHandler | undefined;
  if (connection.role) {
    (await import('../agent/code-cache')).preloadWithCodeCache(LAZY_BUNDLES.assumeRole);
    const { roleCredentials } = await import('./assume-role');
    const stsTransport = await createTransport(redactor, process.env, 'sts');
    sts = stsTransport.requestHandler;
    credentials = roleCredentials(connection.role, connection.credentials, stsTransport, redactor);
  }
  const { requestHandler, retryStrategy, streamCollector } = transport;
  return {
    config: {
      ...(region !== undefined ? { region } : {}),
      ...(credentials !== undefined ? { credentials } : {}),
      requestHandler,
      retryStrategy,
      streamCollector,
    },
    call: (service, operation) => ({ service, operation, endpoint: requestHandler.lastEndpoint, proxy: requestHandler.lastProxy, timeouts: requestHandler.timeouts }),
    closeRole: () => sts?.destroy(),
  };
}
