/**
 * `npm run bench:tag`: adding a tag to an image already in ECR, three ways, side by side in one
 * run against the local stand-ins (ECR API endpoint, a real registry, a Docker engine):
 *
 *   tagImage    one plugin action in a fresh node process, as the agent runs it
 *   docker      what a pipeline does without it: docker login, pull, tag, push, logout in a
 *               private DOCKER_CONFIG, the image absent from the engine beforehand (token in hand)
 *   AWS CLI     AWS's retag recipe: `aws ecr batch-get-image`, then `aws ecr put-image`
 *
 * Each run adds a fresh tag to the same 100 MiB image (the size is --mib) and is checked: the new
 * tag must name the source digest. Medians over --pairs rounds, the order rotated every round. No
 * shell; the keys and the registry password go through the environment or stdin, never argv;
 * everything listens on 127.0.0.1; everything made is removed, also on SIGINT/SIGTERM.
 */
import { BatchGetImageCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ensureDockerEngine } from '../test/support/docker-engine';
import { makeImage, removeImage } from '../test/support/images';
import { LOCAL_KEYS, LOCAL_REGION, startLocalEcr } from '../test/support/local-ecr';
import { startRegistry } from '../test/support/registry';
import { ACTION_CHILD, RESULT_MARK, marked, type ActionInput } from './bench/children';
import { median, ms, range, ratio, table, verdict } from './bench/stats';
import { benchTmpdir, childEnv, findTools, manifestMain, timed, usePrivateTmpdir } from './bench/tools';

const REPOSITORY = 'bench/retag';
const STEP_TIMEOUT_MS = 10 * 60_000;
const TARGETS = { docker: 0.05, aws: 0.5 };

function option(argv: string[], name: string, fallback: number): number {
  const index = argv.indexOf(name);
  if (index < 0) return fallback;
  const value = Number(argv[index + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} takes a positive whole number`);
  return value;
}

function progress(line: string): void {
  process.stderr.write(`[bench:tag] ${line}\n`);
}

const cleanups: (() => Promise<void>)[] = [];
async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((e: unknown) => progress(`cleanup failed: ${String(e)}`));
}

async function main(argv: string[]): Promise<void> {
  const pairs = option(argv, '--pairs', 5);
  const sizeMiB = option(argv, '--mib', 100);
  const tools = await findTools();
  if (!tools.docker) throw new Error('the docker CLI is not on PATH (install docker.io)');
  const docker = tools.docker;
  const tmp = await usePrivateTmpdir();
  cleanups.push(() => tmp.remove());
  const engine = await ensureDockerEngine();
  cleanups.push(() => engine.stop());
  const ecr = await startLocalEcr({ accounts: 1, startRegistry });
  cleanups.push(() => ecr.stop());
  ecr.endpoint.createRepositories([REPOSITORY]);
  const client = new ECRClient({ region: LOCAL_REGION, credentials: { ...LOCAL_KEYS }, endpoint: ecr.endpoint.url });
  cleanups.push(() => Promise.resolve(client.destroy()));
  const token = (await client.send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0];
  const host = (token?.proxyEndpoint ?? '').replace(/^[a-z]+:\/\//, '');
  const password = Buffer.from(token?.authorizationToken ?? '', 'base64').toString('utf8').replace(/^AWS:/, '');
  const dockerEnv = { DOCKER_HOST: engine.env.DOCKER_HOST ?? '' };
  const source = `${host}/${REPOSITORY}:source`;

  /** A private DOCKER_CONFIG logged in to the registry for `work`, removed afterwards. */
  const loggedIn = async <T>(work: (env: Record<string, string>) => Promise<T>): Promise<T> => {
    const dir = await fs.mkdtemp(path.join(benchTmpdir(), 'kbench-docker-'));
    try {
      const env = childEnv({ ...dockerEnv, DOCKER_CONFIG: dir });
      await timed(docker, ['login', '--username', 'AWS', '--password-stdin', host], { env, input: password, timeoutMs: STEP_TIMEOUT_MS });
      const result = await work(env);
      await timed(docker, ['logout', host], { env, timeoutMs: STEP_TIMEOUT_MS });
      return result;
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  };

  progress(`making and pushing a ${sizeMiB} MiB image as ${source}`);
  const imageId = await makeImage(dockerEnv, source, sizeMiB * 1024 * 1024);
  await loggedIn((env) => timed(docker, ['push', source], { env, timeoutMs: STEP_TIMEOUT_MS }));
  await removeImage(dockerEnv, imageId);
  const digestOf = async (tag: string): Promise<string | undefined> =>
    (await client.send(new BatchGetImageCommand({ repositoryName: REPOSITORY, imageIds: [{ imageTag: tag }] }))).images?.[0]?.imageId?.imageDigest;
  const sourceDigest = await digestOf('source');

  const pluginMain = manifestMain().absolute;
  const awsEnv = childEnv({ AWS_ACCESS_KEY_ID: LOCAL_KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_KEYS.secretAccessKey, AWS_PAGER: '' });
  const awsArgs = ['--endpoint-url', ecr.endpoint.url, '--region', LOCAL_REGION, '--output', 'json'];
  const sides: Record<string, (tag: string) => Promise<number>> = {
    tagImage: async (tag) => {
      const input: ActionInput = { main: pluginMain, kind: 'method', name: 'tagImage', params: { repoName: REPOSITORY, imageName: 'source', tags: tag }, settings: { ...ecr.settings } };
      const run = await timed(tools.node, ['-e', ACTION_CHILD], { env: childEnv({ ...ecr.env, BENCH_INPUT: JSON.stringify(input) }), timeoutMs: STEP_TIMEOUT_MS });
      if (marked<{ digest?: string }>(run.stdout, RESULT_MARK).digest !== sourceDigest) throw new Error('tagImage reported another digest');
      return run.ms;
    },
    docker: async (tag) => {
      const start = process.hrtime.bigint();
      await loggedIn(async (env) => {
        await timed(docker, ['pull', source], { env, timeoutMs: STEP_TIMEOUT_MS });
        await timed(docker, ['tag', source, `${host}/${REPOSITORY}:${tag}`], { env, timeoutMs: STEP_TIMEOUT_MS });
        await timed(docker, ['push', `${host}/${REPOSITORY}:${tag}`], { env, timeoutMs: STEP_TIMEOUT_MS });
      });
      const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
      await removeImage(dockerEnv, imageId); // untimed: the next docker run pulls again
      return elapsed;
    },
    'AWS CLI': async (tag) => {
      if (!tools.aws) throw new Error('the AWS CLI is not installed');
      const start = process.hrtime.bigint();
      const got = await timed(tools.aws, ['ecr', 'batch-get-image', '--repository-name', REPOSITORY, '--image-ids', 'imageTag=source', ...awsArgs], { env: awsEnv, timeoutMs: STEP_TIMEOUT_MS });
      const image = (JSON.parse(got.stdout) as { images: Array<{ imageManifest: string; imageManifestMediaType?: string }> }).images[0];
      const media = image.imageManifestMediaType ? ['--image-manifest-media-type', image.imageManifestMediaType] : [];
      await timed(tools.aws, ['ecr', 'put-image', '--repository-name', REPOSITORY, '--image-tag', tag, '--image-manifest', image.imageManifest, ...media, ...awsArgs], { env: awsEnv, timeoutMs: STEP_TIMEOUT_MS });
      return Number(process.hrtime.bigint() - start) / 1e6;
    },
  };
  if (!tools.aws) {
    progress('the AWS CLI is not installed (apt-get install awscli): its comparison is skipped');
    delete sides['AWS CLI'];
  }

  const names = Object.keys(sides);
  const samples = Object.fromEntries(names.map((name) => [name, [] as number[]]));
  let serial = 0;
  const runOnce = async (name: string, timedRun: boolean): Promise<void> => {
    const tag = `t${++serial}`;
    const elapsed = await sides[name](tag);
    if ((await digestOf(tag)) !== sourceDigest) throw new Error(`${name}: the new tag ${tag} does not name the source digest`);
    if (timedRun) samples[name].push(elapsed);
  };
  progress('warm-up: one untimed run of each');
  for (const name of names) await runOnce(name, false);
  for (let round = 0; round < pairs; round++) {
    progress(`round ${round + 1}/${pairs}`);
    for (let i = 0; i < names.length; i++) await runOnce(names[(round + i) % names.length], true);
  }

  const ours = median(samples.tagImage);
  const rows = names.map((name) => {
    const [low, high] = range(samples[name]);
    return [name, ms(median(samples[name])), `${ms(low)} – ${ms(high)}`, ratio(ours / median(samples[name]), 3)];
  });
  const goals = (['docker', 'AWS CLI'] as const)
    .filter((name) => samples[name] !== undefined)
    .map((name) => {
      const target = name === 'docker' ? TARGETS.docker : TARGETS.aws;
      const value = ours / median(samples[name]);
      return [`tagImage vs ${name}`, ratio(value, 3), `≤ ${target}`, verdict(value, target)];
    });
  process.stdout.write(
    [
      `## Adding a tag to a ${sizeMiB} MiB image in ECR (${pairs} rounds, medians; local stand-ins)`,
      '',
      table(['route', 'median', 'range', 'tagImage / route'], rows),
      '',
      table(['comparison', 'ratio', 'target', 'verdict'], goals),
      '',
    ].join('\n'),
  );
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
}
const deadline = setTimeout(() => void cleanUp().finally(() => process.exit(2)), 30 * 60_000);
main(process.argv.slice(2))
  .catch((error: unknown) => {
    process.stderr.write(`bench:tag failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    clearTimeout(deadline);
    void cleanUp();
  });
