/**
 * What the methods share on their way to a registry: reading which registry
 * and repository an action names, and opening the registry's API for the
 * length of the work (loaded lazily, from its code cache, so an action that
 * fails on its params, and the autocomplete, never load the AWS SDK).
 */
import { LAZY_BUNDLES } from '../agent/lazy-bundles';
import type { Redactor } from '../kaholo/redactor';
import type { ParamReader } from '../kaholo/param-reader';
import { checkRegistryId, checkRepositoryName } from '../params/aws-names';
import type { AwsConnection } from '../params/connection';
import type { RegistryApi } from '../registry/registry-api';

/**
 * The registry's API for `registryId` (absent: the credentials' default
 * registry) while `work` runs; its connections are closed after, whatever
 * happened.
 */
export async function withRegistry<T>(
  connection: AwsConnection,
  registryId: string | undefined,
  redactor: Redactor,
  work: (registry: RegistryApi) => Promise<T>,
): Promise<T> {
  (await import('../agent/code-cache')).preloadWithCodeCache(LAZY_BUNDLES.ecrRegistry);
  const registry = await (await import('../aws/ecr-registry')).openEcrRegistry(connection, registryId, redactor);
  try {
    return await work(registry);
  } finally {
    registry.close();
  }
}

/** `registryId`: absent, or a 12-digit account id. */
export function readRegistryId(params: ParamReader): string | undefined {
  const value = params.string('registryId');
  return value === undefined ? undefined : checkRegistryId('registryId', value);
}

/** `repoName`: required, a repository name as ECR allows it. */
export function readRepoName(params: ParamReader): string {
  return checkRepositoryName('repoName', params.requiredString('repoName', 'the name of the repository in the registry, such as "team/app"'));
}
