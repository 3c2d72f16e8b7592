import { kaholoMethod } from '../kaholo/action-boundary';
import { ParamError } from '../errors';
import { checkRegistryId } from '../params/aws-names';
import { readConnection } from '../params/connection';
import { readRegistryType } from '../params/registry-type';
import { registryDescription, withRegistry } from './registry-access';

/**
 * Get Authorization Token: the registry's token as the API gave it, decoded,
 * with the docker login command the original plugin documented (this result
 * holds the password on purpose: it is what the method is for). A public
 * token comes in the same shape, its proxyEndpoint made from the registry's host.
 */
export const getEcrLogin = kaholoMethod(async ({ params, log, redactor }) => {
  const connection = readConnection(params, 'getEcrLogin');
  const type = readRegistryType(params);
  const registryIds = params.list('registryIds').map((id) => checkRegistryId('registryIds', id));
  if (type === 'public' && registryIds.length > 0) {
    throw new ParamError('registryIds', 'ECR Public gives one token for every public registry: leave it empty with "registryType" public');
  }
  const authorizations = await withRegistry(connection, { type }, { redactor, log }, async (registry) => {
    log.info(`Getting authorization for ${registryIds.length > 0 ? registryIds.join(', ') : registryDescription({ type })} (${registry.region})`);
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
