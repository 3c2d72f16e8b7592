import type { ECRClient } from '@aws-sdk/client-ecr';
import type { ActivityLog } from '../kaholo/activity-log';
import { CreateRepositoryCommand, ecrCall } from '../aws/ecr-client';
import { describeAwsError } from '../errors';
import type { RepositorySettings } from '../params/repository-settings';

/** A repository of a registry, and the client that reaches it. */
export interface RepositoryTarget {
  client: ECRClient;
  /** Absent: the default registry of the credentials' account. */
  registryId?: string;
  repoName: string;
}

/**
 * Creates the repository with `settings` unless it exists; true when this
 * call created it. CreateRepository is called straight away (no look first),
 * so two first pushes at once both succeed: the one that loses the race gets
 * RepositoryAlreadyExistsException, which means the same thing. An existing
 * repository's settings are never changed.
 */
export async function ensureRepository(target: RepositoryTarget, settings: RepositorySettings, log: ActivityLog): Promise<boolean> {
  const { client, registryId, repoName } = target;
  const { imageTagMutability, scanOnPush, encryptionType, kmsKey, tags } = settings;
  try {
    await client.send(
      new CreateRepositoryCommand({
        registryId,
        repositoryName: repoName,
        imageTagMutability,
        imageScanningConfiguration: { scanOnPush },
        encryptionConfiguration: { encryptionType, kmsKey },
        ...(tags.length > 0 ? { tags } : {}),
      }),
    );
  } catch (error) {
    if ((error as { name?: unknown })?.name === 'RepositoryAlreadyExistsException') {
      log.info(`Repository ${repoName} already exists; its settings are left as they are`);
      return false;
    }
    throw describeAwsError(ecrCall(client, 'CreateRepository'), error);
  }
  const encryption = kmsKey !== undefined ? `KMS key ${kmsKey}` : encryptionType;
  log.info(`Created repository ${repoName} (tags ${imageTagMutability}, scan on push ${scanOnPush ? 'on' : 'off'}, encryption ${encryption})`);
  return true;
}
