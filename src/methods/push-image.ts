import { kaholoMethod } from '../kaholo/action-boundary';
import { readRegistryType } from '../params/registry-type';
import { readRepositorySettings } from '../params/repository-settings';
import { readTags } from '../params/tag-list';
import { tagPushedImage } from '../registry/image-tagging';
import { ensureRepository } from '../registry/repository-creation';
import { withTransfer } from './docker-transfer';

/**
 * Push Image To Repo (the original's name, typo kept): creates the repository
 * if asked, pushes with docker, then gives the pushed digest its additional
 * tags through the registry's API rather than another docker push.
 */
export const pushImgaeToRepo = kaholoMethod(async (context) => {
  const repository = readRepositorySettings(context.params, readRegistryType(context.params));
  const additionalTags = readTags(context.params, 'additionalTags', false);
  return withTransfer(context, 'push', async ({ request, transfer, target }) => {
    if (repository) await request.options.limit.bound(ensureRepository(target, repository, context.log), 'it was still waiting for AWS to find or create the repository');
    // The additional tags are written before the push lets go of its tags' locks.
    return transfer.pushImage({ ...request, additionalTags }, context, async (pushed, interruption) => ({
      ...pushed,
      tags: await tagPushedImage(target, pushed, additionalTags, context.log, interruption, request.options.limit),
    }));
  });
});
