import { kaholoMethod } from '../kaholo/action-boundary';
import { checkRegistryId } from '../params/aws-names';
import { readConnection } from '../params/connection';
import { withRegistry } from './registry-access';

/**
 * Get Authorization Token: the registry's token as the API gave it, decoded,
 * with the docker login command the original plugin documented (this result
 * holds the password on purpose: it is what the method is for).
 */
export const getEcrLogin = kaholoMethod(async ({ params, log, redactor }) => {
  const connection = readConnection(params, 'getEcrLogin');
  const registryIds = params.list('registryIds').map((id) => checkRegistryId('registryIds', id));
  const authorizations = await withRegistry(connection, undefined, redactor, async (registry) => {
    log.info(`Getting authorization for ${registryIds.length > 0 ? registryIds.join(', ') : 'the default registry'} (${registry.region})`);
    return registry.authorize(registryIds);
  });
  return {
    authorizationData: authorizations.map(({ data, login }) => ({
      ...data,
      decodedToken: { host: login.host, user: login.user, password: login.password },
      baseDockerLoginCommand: `docker login --username ${login.user} --password "${login.password}" ${login.host}`,
    })),
  };
});
