import { parseImageRequest } from '../params/image-request';
import { kaholoMethod } from '../kaholo/action-boundary';
import { readConnection } from '../params/connection';
import { readTags } from '../params/tag-list';
import { readTagLockWaitMs } from '../params/transfer-options';
import { tagImageInRepository } from '../registry/image-tagging';
import { readRegistrySelection, readRepoName, withRegistry } from './registry-access';

/** Tag Image In Repo: more tags for an image already in the repository, with no Docker and no bytes moved. */
export const tagImage = kaholoMethod(async ({ params, log, redactor }) => {
  const connection = readConnection(params, 'tagImage');
  const selection = readRegistrySelection(params);
  const repoName = readRepoName(params);
  const imageName = params.requiredString('imageName', 'the tag ("1.2.0") or digest ("sha256:...") of an image in the repository');
  const image = parseImageRequest(imageName, 'pull'); // read as a pull reads it, once, before any call
  const tags = readTags(params, 'tags', true);
  const waitMs = readTagLockWaitMs(params);
  return withRegistry(connection, selection, { redactor, log }, (registry) => tagImageInRepository({ registry, repoName }, image, tags, { log, waitMs }));
});
