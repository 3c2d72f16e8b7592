/**
 * methods/: one module per method of config.json, each turning Kaholo's
 * params into typed inputs and handing them to the work. This file is what
 * they share on their way to a registry: which registry and repository an
 * action names, and the registry's API for the length of the work (loaded
 * lazily, from its code cache, so an action that fails on its params, and the
 * autocomplete, never load the AWS SDK).
 */
import { LAZY_BUNDLES } from '../agent/lazy-bundles';
import type { ActivityLog } from '../kaholo/activity-log';
import type { Redactor } from '../kaholo/redactor';
import type { ParamReader } from '../kaholo/param-reader';
import { checkRegistryId, checkRepositoryName } from '../params/aws-names';
import type { AwsConnection } from '../params/connection';
import { readRegistryType, type RegistryType } from '../params/registry-type';
import type { RegistryApi } from '../registry/registry-api';

/** Which registry an action works with: private ECR or ECR Public, and which account's (absent: the credentials'). */
export interface RegistrySelection {
  type: RegistryType;
  registryId?: string;
}

/**
 * The API of the selected registry while `work` runs; its connections are
 * closed after, whatever happened. Each API is a bundle of its own: an action
 * loads only the one it uses.
 */
export async function withRegistry<T>(
  connection: AwsConnection,
  { type, registryId }: RegistrySelection,
  context: { redactor: Redactor; log: ActivityLog },
  work: (registry: RegistryApi) => Promise<T>,
): Promise<T> {
  const { preloadWithCodeCache } = await import('../agent/code-cache');
  let registry: RegistryApi;
  if (type === 'public') {
    preloadWithCodeCache(LAZY_BUNDLES.ecrPublicRegistry);
    registry = await (await import('../aws/ecr-public-registry')).openEcrPublicRegistry(connection, registryId, context);
  } else {
    preloadWithCodeCache(LAZY_BUNDLES.ecrRegistry);
    registry = await (await import('../aws/ecr-registry')).openEcrRegistry(connection, registryId, context.redactor);
  }
  try {
    return await work(registry);
  } finally {
    registry.close();
  }
}

/** `registryType` and `registryId`: which registry the action means. */
export function readRegistrySelection(params: ParamReader): RegistrySelection {
  const type = readRegistryType(params);
  const registryId = readRegistryId(params);
  return { type, ...(registryId !== undefined ? { registryId } : {}) };
}

/** `registryId`: absent, or a 12-digit account id. */
function readRegistryId(params: ParamReader): string | undefined {
  const value = params.string('registryId');
  return value === undefined ? undefined : checkRegistryId('registryId', value);
}

/** `repoName`: required, a repository name as ECR allows it. */
export function readRepoName(params: ParamReader): string {
  return checkRepositoryName('repoName', params.requiredString('repoName', 'the name of the repository in the registry, such as "team/app"'));
}

/** How the log names the selected registry: "the default registry", "the public registry 123456789012", … */
export function registryDescription({ type, registryId }: RegistrySelection): string {
  const kind = type === 'public' ? 'public registry' : 'registry';
  return registryId !== undefined ? `the ${kind} ${registryId}` : `the default ${kind}`;
}
