/**
 * DescribeRepositories as private ECR and ECR Public both page it: every
 * repository in pages of the largest size, or only the named ones, in
 * batches (the APIs refuse a page size together with names, and take at most
 * 100 names a call).
 */

/** The largest page both APIs give; the fewest round trips for "all repositories". */
const MAX_PAGE_SIZE = 1000;
/** The most names one DescribeRepositories call accepts. */
const MAX_NAMES_PER_CALL = 100;

/** One API's paginator of DescribeRepositories, with its client and registry already bound. */
export type RepositoryPages<R> = (pageSize: number | undefined, repositoryNames: string[] | undefined) => AsyncIterable<{ repositories?: R[] }>;

export async function describeEveryRepository<R>(pages: RepositoryPages<R>, repositoryNames: string[]): Promise<R[]> {
  const repositories: R[] = [];
  if (repositoryNames.length === 0) {
    for await (const page of pages(MAX_PAGE_SIZE, undefined)) repositories.push(...(page.repositories ?? []));
    return repositories;
  }
  for (const batch of chunks([...new Set(repositoryNames)], MAX_NAMES_PER_CALL)) {
    for await (const page of pages(undefined, batch)) repositories.push(...(page.repositories ?? []));
  }
  return repositories;
}

function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}
