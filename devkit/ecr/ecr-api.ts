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

const OPERATIONS: Readonly<Record<string, Operation<EcrRegistries>>> = {
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

const ROLE_ACCOUNT = /^arn:aws[a-z-]*:iam::(\d{12}):role\//;

/**
 * As in AWS, the default registry is the caller's account: for a call signed by a role's keys, the
 * role's account when this endpoint serves its registry (else, as for the base keys, the first).
 */
function inCallersRegistry(operation: string, handler: Operation<EcrRegistries>): Operation<EcrRegistries> {
  const field = operation === 'GetAuthorizationToken' ? 'registryIds' : 'registryId';
  return (input, registries, caller) => {
    const account = caller.role === undefined ? undefined : ROLE_ACCOUNT.exec(caller.role)?.[1];
    if (account === undefined || !registries.serves(account) || (input[field] !== undefined && input[field] !== null)) return handler(input, registries, caller);
    return handler({ ...input, [field]: field === 'registryIds' ? [account] : account }, registries, caller);
  };
}

export const ECR_OPERATIONS: Readonly<Record<string, Operation<EcrRegistries>>> = Object.fromEntries(
  Object.entries(OPERATIONS).map(([operation, handler]) => [operation, inCallersRegistry(operation, handler)]),
);

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
