/**
 * A role's temporary credentials, through the SDK's own credential provider
 * (STS AssumeRole, reached by the SDK's endpoint rules: the regional endpoint
 * of the action's region, or AWS_ENDPOINT_URL_STS). Loaded only when an
 * action names a role.
 */
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsTransport } from './aws-http';
import type { RoleRequest, StaticCredentials } from '../params/connection';
import { describeAwsError, foreign, ParamError } from '../errors';
import type { Redactor } from '../kaholo/redactor';

type RoleProvider = ReturnType<typeof fromTemporaryCredentials>;

/**
 * Credentials of `role`, assumed with `base` (or the SDK's default chain when
 * absent). The role's secret key and session token are hidden from the
 * moment they arrive; a refusal names roleArn and says what STS said.
 */
export function roleCredentials(
  role: RoleRequest,
  base: StaticCredentials | undefined,
  sts: AwsTransport,
  redactor: Redactor,
): RoleProvider {
  const provider = fromTemporaryCredentials({
    params: {
      RoleArn: role.roleArn,
      RoleSessionName: role.sessionName,
      DurationSeconds: role.durationSeconds,
      ...(role.externalId !== undefined ? { ExternalId: role.externalId } : {}),
    },
    ...(base ? { masterCredentials: base } : {}),
    clientConfig: { requestHandler: sts.requestHandler, retryStrategy: sts.retryStrategy, streamCollector: sts.streamCollector },
  });
  return async (...args) => {
    try {
      const credentials = await provider(...args);
      redactor.add(credentials.secretAccessKey);
      redactor.add(credentials.sessionToken);
      return credentials;
    } catch (error) {
      const sent = role.externalId !== undefined ? 'an external id was sent' : 'no external id was sent';
      const { requestHandler } = sts;
      const cause = describeAwsError(
        { service: 'STS', operation: 'AssumeRole', endpoint: requestHandler.lastEndpoint, proxy: requestHandler.lastProxy, timeouts: requestHandler.timeouts },
        error,
      );
      throw new ParamError('roleArn', `could not assume ${foreign(role.roleArn)} (${sent}): ${cause.message}`);
    }
  };
}
