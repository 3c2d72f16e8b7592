import type { ActivityLog } from '../kaholo/activity-log';
import type { RepositorySettings } from '../params/repository-settings';
import type { RegistryApi } from './registry-api';

/** A repository of a registry, and the API that reaches it. */
export interface RepositoryTarget {
  registry: RegistryApi;
  repoName: string;
}

/**
 * Creates the repository with `settings` unless it exists; true when this
 * call created it. The create is asked for straight away (no look first), so
 * two first pushes at once both succeed: for the one that loses the race the
 * repository exists, which is what it wanted. An existing repository's
 * settings are never changed.
 */
export async function ensureRepository({ registry, repoName }: RepositoryTarget, settings: RepositorySettings, log: ActivityLog): Promise<boolean> {
  if (!(await registry.createRepository(repoName, settings))) {
    log.info(`Repository ${repoName} already exists; its settings are left as they are`);
    return false;
  }
  log.info(`Created ${settings.type === 'public' ? 'public ' : ''}repository ${repoName} (${describeSettings(settings)})`);
  return true;
}

function describeSettings(settings: RepositorySettings): string {
  if (settings.type === 'public') {
    const { description, aboutText, usageText, architectures, operatingSystems } = settings.catalog;
    const catalog = [
      ...(description !== undefined ? ['description'] : []),
      ...(aboutText !== undefined ? ['about text'] : []),
      ...(usageText !== undefined ? ['usage text'] : []),
      ...architectures,
      ...operatingSystems,
    ];
    return `catalog data: ${catalog.length > 0 ? catalog.join(', ') : 'none'}; resource tags: ${settings.tags.length}`;
  }
  const { imageTagMutability, scanOnPush, encryptionType, kmsKey } = settings;
  const encryption = kmsKey !== undefined ? `KMS key ${kmsKey}` : encryptionType;
  return `tags ${imageTagMutability}, scan on push ${scanOnPush ? 'on' : 'off'}, encryption ${encryption}`;
}
