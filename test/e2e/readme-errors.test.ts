/**
 * The README's error examples, read from the README itself, against what the compiled plugin
 * really says, as the Kaholo agent shows a failed action: String(error), i.e. error.toString()
 * (no "PluginError: " before the message). In an example, "…" stands for text that varies (request
 * ids, a page's text), and the real AWS endpoint stands for the local one. The examples that need
 * docker are produced by the docker tests (failures.test.ts, faults.test.ts).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../devkit/agent';
import { E2E_TEST_TIMEOUT_MS, VAULT_KEYS, failed, runAction, useLocalStack } from './helpers';

jest.setTimeout(E2E_TEST_TIMEOUT_MS);

const AWS_ENDPOINT = 'https://api.ecr.eu-west-2.amazonaws.com';

/** The examples under the README's "## Errors", without their backticks. */
async function readmeExamples(): Promise<string[]> {
  const readme = await fs.readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## Errors$/m)[1]?.split(/^## /m)[0] ?? '';
  return [...section.matchAll(/^- `(.+)`$/gm)].map((match) => match[1]);
}

/** An example as a pattern: "…" matches anything, the AWS endpoint the local one. */
function pattern(example: string, endpoint: string): RegExp {
  const parts = example.replaceAll(AWS_ENDPOINT, '\u0001').split('…');
  const escaped = parts.map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&').replaceAll('\u0001', endpoint.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
  return new RegExp(`^${escaped.join('.*')}$`);
}

describe("the README's error examples are what the agent shows", () => {
  const stack = useLocalStack({ accounts: 1 });
  let examples: string[];
  let savedRegion: string | undefined;

  beforeAll(async () => {
    examples = await readmeExamples();
    savedRegion = process.env.AWS_REGION;
  });

  afterEach(() => {
    stack().ecr.endpoint.setFault(undefined);
    if (savedRegion === undefined) delete process.env.AWS_REGION;
    else process.env.AWS_REGION = savedRegion;
  });

  const example = (start: string): string => {
    const found = examples.find((e) => e.startsWith(start));
    if (found === undefined) throw new Error(`the README has no error example starting with ${JSON.stringify(start)}`);
    return found;
  };

  test.each([
    ['Parameter "registryId"', () => ({ method: 'describeRepositories', params: { ...VAULT_KEYS, region: 'eu-west-2', registryId: '12345678901' } })],
    ['Parameter "region"', () => ({ method: 'describeRepositories', params: { ...VAULT_KEYS } })],
    ['ECR DescribeRepositories failed: RepositoryNotFoundException', () => ({ method: 'describeRepositories', params: { ...VAULT_KEYS, region: 'eu-west-2', repositoryNames: 'team/missing' } })],
    [
      'ECR GetAuthorizationToken failed: the ECR endpoint',
      () => {
        stack().ecr.endpoint.setFault({ mode: 'html', status: 403 }, 'ecr');
        return { method: 'getEcrLogin', params: { ...VAULT_KEYS, region: 'eu-west-2' } };
      },
    ],
  ])('%s …', async (start, action) => {
    delete process.env.AWS_REGION;
    const { method, params } = action();
    const error = failed(await runAction(stack().plugin, method, params));
    expect(String(error)).toBe(error.message);
    expect(String(error)).toMatch(pattern(example(start), stack().ecr.endpoint.url));
  });
});
