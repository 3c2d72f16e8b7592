/**
 * The calls private ECR and ECR Public make alike, read one way for both
 * (their SDKs are separate packages, so this takes each one's client and
 * command as given; each bundle inlines its own copy): DescribeRepositories
 * in pages, CreateRepository losing a race, and PutImage's answer.
 */
import { describeAwsError, PluginError, shorten, type AwsCallContext } from '../errors';
import type { PutManifestAnswer, RepositoryRecord, StoredManifest } from '../registry/registry-api';

/** What an error of one call names (the API's service, the endpoint it went to). */
type CallContext = (operation: string) => AwsCallContext;

/** The largest page both APIs give; the fewest round trips for "all repositories". */
const MAX_PAGE_SIZE = 1000;
/** The most names one DescribeRepositories call accepts. */
const MAX_NAMES_PER_CALL = 100;

/** Either API's paginateDescribeRepositories. */
type DescribeRepositoriesPaginator<C, R> = (
  config: { client: C; pageSize?: number },
  input: { registryId?: string; repositoryNames?: string[] },
) => AsyncIterable<{ repositories?: R[] }>;

/**
 * Every repository of the registry in pages of the largest size, or only the
 * named ones in batches (the APIs refuse a page size together with names, and
 * take at most 100 names a call).
 */
export async function describeEveryRepository<C, R extends RepositoryRecord>(
  paginate: DescribeRepositoriesPaginator<C, R>,
  client: C,
  registryId: string | undefined,
  repositoryNames: string[],
  call: CallContext,
): Promise<R[]> {
  const repositories: R[] = [];
  // ECR answers an empty list as `[]`: a page without one is not ECR's answer, never "no repositories".
  const rows = (page: { repositories?: R[] }): R[] => {
    if (Array.isArray(page.repositories)) return page.repositories;
    const { service, endpoint } = call('DescribeRepositories');
    throw new PluginError(
      `${service} DescribeRepositories failed: the ${service} endpoint${endpoint ? ` ${shorten(endpoint)}` : ''} answered without a list of repositories ` +
        `(an empty or foreign answer); is it really ${service}?`,
    );
  };
  const pages = (pageSize: number | undefined, names: string[] | undefined): AsyncIterable<{ repositories?: R[] }> =>
    paginate({ client, ...(pageSize !== undefined ? { pageSize } : {}) }, { registryId, ...(names ? { repositoryNames: names } : {}) });
  try {
    if (repositoryNames.length === 0) {
      for await (const page of pages(MAX_PAGE_SIZE, undefined)) repositories.push(...rows(page));
      return repositories;
    }
    for (const batch of chunks([...new Set(repositoryNames)], MAX_NAMES_PER_CALL)) {
      for await (const page of pages(undefined, batch)) repositories.push(...rows(page));
    }
    return repositories;
  } catch (error) {
    throw describeAwsError(call('DescribeRepositories'), error);
  }
}

/** Runs CreateRepository: true when it created the repository, false when it was already there. */
export async function createUnlessExists(create: () => Promise<unknown>, call: CallContext): Promise<boolean> {
  try {
    await create();
    return true;
  } catch (error) {
    // Two first pushes at once both call CreateRepository: the one that loses the race is told it exists.
    if (errorName(error) === 'RepositoryAlreadyExistsException') return false;
    throw describeAwsError(call('CreateRepository'), error);
  }
}

/** PutImage's input, as both APIs take it. */
interface PutImageInput {
  registryId: string | undefined;
  repositoryName: string;
  imageManifest: string;
  imageManifestMediaType: string | undefined;
  imageDigest: string;
  imageTag: string;
}

/** PutImage's input for `manifest` under `tag`: the manifest's own bytes, media type and digest. */
export function putImageInput(registryId: string | undefined, repositoryName: string, manifest: StoredManifest, tag: string): PutImageInput {
  return {
    registryId,
    repositoryName,
    imageManifest: manifest.manifest,
    imageManifestMediaType: manifest.mediaType,
    imageDigest: manifest.digest,
    imageTag: tag,
  };
}

/**
 * Runs PutImage and reports what it answered: the image id the answer
 * carries, as it carries it (the caller checks it against what it put), or a
 * refusal the tagging can settle by name; any other failure is an error.
 */
export async function putImageAnswer(
  put: () => Promise<{ image?: { imageId?: { imageDigest?: string; imageTag?: string } } }>,
  call: CallContext,
): Promise<PutManifestAnswer> {
  try {
    const imageId = (await put()).image?.imageId;
    return { outcome: 'stored', digest: imageId?.imageDigest, tag: imageId?.imageTag };
  } catch (error) {
    const name = errorName(error);
    if (name === 'ImageAlreadyExistsException') return { outcome: 'already-exists' };
    if (name === 'ImageTagAlreadyExistsException') return { outcome: 'tag-immutable' };
    throw describeAwsError(call('PutImage'), error);
  }
}

function errorName(error: unknown): unknown {
  return (error as { name?: unknown } | undefined)?.name;
}

function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}
