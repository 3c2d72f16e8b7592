/**
 * Adding a tag to an image already in ECR, three ways, each run adding a fresh tag to the same
 * image and checked (the new tag must name the source digest); the order rotates every round:
 *   tagImage  one action in a fresh agent-style process (BatchGetImage + PutImage, no bytes moved)
 *   docker    login with the token in hand, pull (the engine does not hold the image), tag, push, logout
 *   AWS CLI   AWS's retag recipe: `aws ecr batch-get-image`, then `aws ecr put-image`
 */
import { BatchGetImageCommand, ECRClient } from '@aws-sdk/client-ecr';
import execa from 'execa';
import { makeImage, removeImage } from '../../devkit/images';
import { LOCAL_KEYS, LOCAL_REGION } from '../../devkit/local-ecr';
import type { LocalStack } from '../../devkit/local-stack';
import { agentAction, childEnv, clock, median, spread, table, timed, withDockerConfig, type Samples } from './measure';

const REPOSITORY = 'bench/retag';

/** `aws`: the AWS CLI, when installed. */
export type TagOptions = { rounds: number; sizeMiB: number; aws?: string; progress: (line: string) => void };

/** Runs the AWS CLI (keys in the environment, never argv) and parses its JSON output. */
async function awsJson(aws: string, args: string[], env: NodeJS.ProcessEnv): Promise<unknown> {
  const result = await execa(aws, args, { env, extendEnv: false, stdin: 'ignore', timeout: 120_000 });
  return result.stdout.trim() === '' ? {} : (JSON.parse(result.stdout) as unknown);
}

export async function tag(stack: LocalStack, options: TagOptions): Promise<string> {
  const engine = stack.engine;
  const registry = stack.ecr.registries[0];
  if (!engine || !registry) throw new Error(`tag needs a Docker engine and a registry: ${stack.dockerSkipped ?? 'none'}`);
  stack.ecr.endpoint.createRepositories([REPOSITORY]);
  const source = `${registry.host}/${REPOSITORY}:source`;
  const dockerEnv = childEnv(engine.env);
  const client = new ECRClient({ region: LOCAL_REGION, credentials: LOCAL_KEYS, endpoint: stack.ecr.endpoint.url });
  const digestOf = async (tagName: string): Promise<string | undefined> =>
    (await client.send(new BatchGetImageCommand({ repositoryName: REPOSITORY, imageIds: [{ imageTag: tagName }] }))).images?.[0]?.imageId?.imageDigest;

  /** A private docker config logged in to the registry for `work` (password on stdin). */
  const loggedIn = (work: (env: NodeJS.ProcessEnv) => Promise<void>): Promise<void> =>
    withDockerConfig(dockerEnv, async (env) => {
      await timed('docker', ['login', '--username', registry.user, '--password-stdin', registry.host], env, stack.ecr.passwords[0]);
      await work(env);
      await timed('docker', ['logout', registry.host], env);
    });

  try {
    options.progress(`tag: making and pushing a ${options.sizeMiB} MiB image as ${source}`);
    const imageId = await makeImage(engine.env, source, options.sizeMiB * 1024 * 1024);
    await loggedIn(async (env) => void (await timed('docker', ['push', source], env)));
    await removeImage(engine.env, imageId);
    const sourceDigest = await digestOf('source');

    const agentEnv = childEnv({ AWS_ENDPOINT_URL_ECR: stack.ecr.env.AWS_ENDPOINT_URL_ECR });
    const sides: Array<[string, (tagName: string) => Promise<number>]> = [
      ['tagImage', (tagName) => clock(() => agentAction('tagImage', { repoName: REPOSITORY, imageName: 'source', tags: tagName }, agentEnv))],
      [
        'docker pull, tag, push',
        async (tagName) => {
          const target = `${registry.host}/${REPOSITORY}:${tagName}`;
          const elapsed = await clock(() =>
            loggedIn(async (env) => {
              await timed('docker', ['pull', source], env);
              await timed('docker', ['tag', source, target], env);
              await timed('docker', ['push', target], env);
            }),
          );
          for (const name of [target, source]) await removeImage(engine.env, name); // untimed: the next run pulls every layer again
          return elapsed;
        },
      ],
    ];
    const aws = options.aws;
    if (aws) {
      const awsEnv = childEnv({ AWS_ACCESS_KEY_ID: LOCAL_KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_KEYS.secretAccessKey, AWS_PAGER: '' });
      const awsArgs = ['--endpoint-url', stack.ecr.endpoint.url, '--region', LOCAL_REGION, '--output', 'json'];
      sides.push([
        'aws ecr batch-get-image, put-image',
        (tagName) =>
          clock(async () => {
            const got = await awsJson(aws, ['ecr', 'batch-get-image', '--repository-name', REPOSITORY, '--image-ids', 'imageTag=source', ...awsArgs], awsEnv);
            const image = (got as { images: Array<{ imageManifest: string; imageManifestMediaType?: string }> }).images[0];
            const media = image.imageManifestMediaType ? ['--image-manifest-media-type', image.imageManifestMediaType] : [];
            const put = ['ecr', 'put-image', '--repository-name', REPOSITORY, '--image-tag', tagName, '--image-manifest', image.imageManifest];
            await awsJson(aws, [...put, ...media, ...awsArgs], awsEnv);
          }),
      ]);
    }

    const samples = sides.map((): Samples => []);
    let serial = 0;
    const runOnce = async (index: number): Promise<number> => {
      const tagName = `t${++serial}`;
      const elapsed = await sides[index][1](tagName);
      if ((await digestOf(tagName)) !== sourceDigest) throw new Error(`${sides[index][0]}: the new tag does not name the source digest`);
      return elapsed;
    };
    options.progress('tag: warm-up, one untimed run of each');
    for (let i = 0; i < sides.length; i++) await runOnce(i);
    for (let round = 0; round < options.rounds; round++) {
      options.progress(`tag: round ${round + 1}/${options.rounds}`);
      for (let i = 0; i < sides.length; i++) samples[(round + i) % sides.length].push(await runOnce((round + i) % sides.length));
    }
    const ours = median(samples[0]);
    const skipped = aws ? '' : ' The AWS CLI is not installed: its route was skipped.';
    return [
      `A tag added to a ${options.sizeMiB} MiB image already in the registry, ${options.rounds} rounds, the order rotating.${skipped}`,
      '',
      table(['route', 'wall time', 'tagImage / route'], sides.map(([label], i) => [label, spread(samples[i]), (ours / median(samples[i])).toFixed(3)])),
    ].join('\n');
  } finally {
    client.destroy();
  }
}
