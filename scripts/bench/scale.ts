/**
 * Scale: describeRepositories over 100, 1,000 and 10,000 repositories (seeded in the local
 * endpoint) against a bare SDK paginator loop (pageSize 1000), both in this process after a
 * warm-up, alternating, a new client per run on both sides (the plugin makes one per action). In
 * process, because a process start (see the cold start) would hide the per-repository cost.
 */
import { ECRClient, paginateDescribeRepositories } from '@aws-sdk/client-ecr';
import { loadPlugin } from '../../devkit/agent';
import { isolateAwsEnvironment } from '../../devkit/aws-env';
import { LOCAL_KEYS, LOCAL_REGION, startLocalEcr } from '../../devkit/local-ecr';
import { clock, median, spread, table, type Samples } from './measure';

/** Runs `work` with stdout and stderr (the plugin's activity log) held back. */
async function quietly<T>(work: () => Promise<T>): Promise<T> {
  const [out, err] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
  process.stdout.write = process.stderr.write = () => true;
  try {
    return await work();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

export async function scale(counts: number[], pairs: number, progress: (line: string) => void): Promise<string> {
  const restore = isolateAwsEnvironment();
  const ecr = await startLocalEcr();
  try {
    process.env.AWS_ENDPOINT_URL_ECR = ecr.env.AWS_ENDPOINT_URL_ECR;
    const plugin = loadPlugin();
    const settings = { ...LOCAL_KEYS, region: LOCAL_REGION };
    const ours = async (): Promise<number> => {
      const result = (await quietly(() => plugin.run('describeRepositories', {}, settings))) as { repositories: unknown[] };
      return result.repositories.length;
    };
    const bare = async (): Promise<number> => {
      const client = new ECRClient({ region: LOCAL_REGION, credentials: LOCAL_KEYS });
      let found = 0;
      for await (const page of paginateDescribeRepositories({ client, pageSize: 1000 }, {})) found += page.repositories?.length ?? 0;
      client.destroy();
      return found;
    };
    const rows: string[][] = [];
    let seeded = 0;
    for (const count of counts) {
      ecr.endpoint.createRepositories(Array.from({ length: count - seeded }, (_, i) => `scale/repo-${seeded + i}`));
      seeded = count;
      for (const side of [ours, bare]) if ((await side()) !== count) throw new Error(`scale: expected ${count} repositories`);
      const runs = Math.max(3, Math.round((pairs * 1000) / count));
      progress(`scale: ${count} repositories, ${runs} pairs`);
      const a: Samples = [];
      const b: Samples = [];
      for (let i = 0; i < runs; i++) {
        a.push(await clock(ours));
        b.push(await clock(bare));
      }
      rows.push([count.toLocaleString('en'), spread(a), spread(b), (median(a) / median(b)).toFixed(2), `${((median(a) / count) * 1000).toFixed(1)} µs`]);
    }
    return table(['repositories', 'describeRepositories', 'bare SDK paginator', 'ours / bare', 'ours per repository'], rows);
  } finally {
    await ecr.stop();
    restore();
  }
}
