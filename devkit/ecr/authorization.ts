/**
 * ECR's GetAuthorizationToken: one 12-hour token per requested registry (the default registry when
 * none is named), base64 of `AWS:<password>` for the real registry behind it, whose URL is the
 * token's proxyEndpoint. A password a test changes (setPassword) is in the next token.
 */
import { optionalStringList, type Operation } from '../aws/json-protocol';
import { validateRegistryId, type EcrRegistries } from './registries';

const TOKEN_LIFETIME_SECONDS = 12 * 60 * 60;

export const getAuthorizationToken: Operation<EcrRegistries> = (input, ecr) => {
  const requested = optionalStringList(input, 'registryIds');
  const registryIds = requested && requested.length > 0 ? requested : [ecr.defaultRegistryId];
  const expiresAt = Math.floor(Date.now() / 1000) + TOKEN_LIFETIME_SECONDS;
  const authorizationData = registryIds.map((registryId) => {
    validateRegistryId(registryId, 'registryIds');
    const registry = ecr.configured(registryId);
    return {
      authorizationToken: Buffer.from(`AWS:${registry.password}`, 'utf8').toString('base64'),
      expiresAt,
      proxyEndpoint: registry.url,
    };
  });
  return { authorizationData };
};
