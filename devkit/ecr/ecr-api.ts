/**
 * ECR's API on the local endpoint: the JSON 1.1 protocol under ECR's target prefix, signed for
 * `ecr`, and its operations, one entry each. An operation is added here with its handler in the
 * module of what it works on; another API (ECR Public's `ecr-public`) is a module like this one.
 */
import type { AccessKeys } from '../aws/access-keys';
import { jsonService, type JsonService, type Operation } from '../aws/json-protocol';
import { getAuthorizationToken } from './authorization';
import { batchGetImage, putImage } from './images';
import type { EcrRegistries } from './registries';
import { describeImageScanFindings, startImageScan } from './scans';
import { createRepository, deleteRepository, describeRepositories, listTagsForResource } from './repositories';

export const ECR_OPERATIONS: Readonly<Record<string, Operation<EcrRegistries>>> = {
  CreateRepository: createRepository,
  DescribeRepositories: describeRepositories,
  DeleteRepository: deleteRepository,
  ListTagsForResource: listTagsForResource,
  GetAuthorizationToken: getAuthorizationToken,
  BatchGetImage: batchGetImage,
  PutImage: putImage,
  DescribeImageScanFindings: describeImageScanFindings,
  StartImageScan: startImageScan,
};

/** ECR as a service of the endpoint; it answers every request no other service claims. */
export function ecrService(registries: EcrRegistries, keys: AccessKeys): JsonService<'ecr'> {
  return jsonService(
    {
      name: 'ecr',
      label: 'ECR',
      signingService: 'ecr',
      targetPrefix: 'AmazonEC2ContainerRegistry_V20150921.',
      operations: ECR_OPERATIONS,
      context: registries,
      answersUnclaimed: true,
    },
    keys,
  );
}
