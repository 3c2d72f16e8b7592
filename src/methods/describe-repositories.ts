import { kaholoMethod } from '../kaholo/action-boundary';
import { checkRepositoryName } from '../params/aws-names';
import { readConnection } from '../params/connection';
import { readRegistrySelection, registryDescription, withRegistry } from './registry-access';

/** Describe Repositories: every repository of the registry (all pages), or those named. */
export const describeRepositories = kaholoMethod(async ({ params, log, redactor }) => {
  const connection = readConnection(params, 'describeRepositories');
  const selection = readRegistrySelection(params);
  const repositoryNames = params.list('repositoryNames').map((name) => checkRepositoryName('repositoryNames', name));
  return withRegistry(connection, selection, { redactor, log }, async (registry) => {
    log.info(`Describing repositories in ${registryDescription(selection)} (${registry.region})`);
    const repositories = await registry.describeRepositories(repositoryNames);
    log.info(`Found ${repositories.length} ${repositories.length === 1 ? 'repository' : 'repositories'}`);
    return { repositories };
  });
});
