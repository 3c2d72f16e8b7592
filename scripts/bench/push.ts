/**
 * Push: one pushImgaeToRepo action in a fresh agent-style process (A) against what users would run
 * instead (B), in alternating pairs A B A B …, a fresh image of random bytes for every run (made
 * before the clock starts, removed after it stops), so that no run finds its layer already there:
 *   raw docker  the token in hand: docker login --password-stdin into a private config, push, logout
 *   AWS CLI     aws ecr get-login-password piped into docker login (as a shell pipe would), push, logout
 * A − B of the small image is the fixed cost of an action; the A/B it implies for the large image
 * is steadier than the ratio of two medians whose spread exceeds it.
 */
import execa from 'execa';
import { makeImage, removeImage } from '../../devkit/images';
import { LOCAL_KEYS, LOCAL_REGION } from '../../devkit/local-ecr';
import type { LocalStack } from '../../devkit/local-stack';
import { agentAction, childEnv, clock, median, ms, spread, table, timed, withDockerConfig, type Samples } from './measure';

const REPOSITORY = 'bench/push';

/** `aws`: the AWS CLI, when installed. */
export type PushOptions = { pairs: number; sizesMiB: number[]; aws?: string; progress: (line: string) => void };

export async function push(stack: LocalStack, options: PushOptions): Promise<string> {
  const engine = stack.engine;
  const registry = stack.ecr.registries[0];
  if (!engine || !registry) throw new Error(`push needs a Docker engine and a registry: ${stack.dockerSkipped ?? 'none'}`);
  const dockerEnv = childEnv(engine.env);
  const agentEnv = childEnv({ ...engine.env, AWS_ENDPOINT_URL_ECR: stack.ecr.env.AWS_ENDPOINT_URL_ECR });
  const password = stack.ecr.passwords[0];

  const plugin = (reference: string): Promise<void> => agentAction('pushImgaeToRepo', { repoName: REPOSITORY, imageName: reference }, agentEnv);
  /** A docker session in a private config: `logIn`, push, logout. */
  const session = (reference: string, logIn: (env: NodeJS.ProcessEnv) => Promise<void>): Promise<void> =>
    withDockerConfig(dockerEnv, async (env) => {
      await logIn(env);
      await timed('docker', ['push', reference], env);
      await timed('docker', ['logout', registry.host], env);
    });
  const rawDocker = (reference: string): Promise<void> => session(reference, async (env) => void (await timed('docker', ['login', '--username', registry.user, '--password-stdin', registry.host], env, password)));
  const awsPipeline = (aws: string) => (reference: string): Promise<void> =>
    session(reference, async (env) => {
      // Keys through the environment, never argv; both ends started at once, as a shell pipe does.
      const awsEnv = childEnv({ AWS_ACCESS_KEY_ID: LOCAL_KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_KEYS.secretAccessKey, AWS_PAGER: '' });
      const getPassword = execa(aws, ['ecr', 'get-login-password', '--endpoint-url', stack.ecr.endpoint.url, '--region', LOCAL_REGION], { env: awsEnv, extendEnv: false, stdin: 'ignore', timeout: 60_000 });
      const login = execa('docker', ['login', '--username', 'AWS', '--password-stdin', registry.host], { env, extendEnv: false, timeout: 60_000 });
      getPassword.stdout?.pipe(login.stdin as NodeJS.WritableStream);
      await Promise.all([getPassword, login]);
    });

  let serial = 0;
  /** Makes a fresh image (untimed), times `side` pushing it, removes it (untimed). */
  const measure = async (sizeMiB: number, side: (reference: string) => Promise<void>): Promise<number> => {
    const reference = `${registry.host}/${REPOSITORY}:s${sizeMiB}-${++serial}`;
    const id = await makeImage(engine.env, reference, sizeMiB * 1024 * 1024);
    await execa('sync', [], { stdin: 'ignore', timeout: 120_000 }); // no run pays for the previous one's writes
    try {
      return await clock(() => side(reference));
    } finally {
      await removeImage(engine.env, id);
    }
  };

  const opponents: Array<[string, (reference: string) => Promise<void>]> = [['raw docker CLI (token in hand)', rawDocker]];
  if (options.aws) opponents.push(['aws ecr get-login-password | docker login, push, logout', awsPipeline(options.aws)]);
  options.progress('push: warm-up, one untimed 1 MiB push per side');
  for (const side of [plugin, ...opponents.map(([, run]) => run)]) await measure(1, side);

  const sections: string[] = [];
  for (const [label, opponent] of opponents) {
    const rows: string[][] = [];
    const fixed: Record<number, number> = {};
    const theirs: Record<number, number> = {};
    for (const size of options.sizesMiB) {
      const a: Samples = [];
      const b: Samples = [];
      for (let pair = 0; pair < options.pairs; pair++) {
        options.progress(`push ${size} MiB vs ${label}: pair ${pair + 1}/${options.pairs}`);
        a.push(await measure(size, plugin));
        b.push(await measure(size, opponent));
      }
      fixed[size] = median(a) - median(b);
      theirs[size] = median(b);
      rows.push([`${size} MiB`, spread(a), spread(b), `${fixed[size] >= 0 ? '+' : ''}${ms(fixed[size])}`, (median(a) / median(b)).toFixed(2)]);
    }
    const small = Math.min(...options.sizesMiB);
    const large = Math.max(...options.sizesMiB);
    const implied = large > small ? `; at ${large} MiB that fixed cost makes A/B ${((theirs[large] + fixed[small]) / theirs[large]).toFixed(3)}` : '';
    sections.push(
      [
        `**vs ${label}**, ${options.pairs} pairs per size`,
        '',
        table(['image', 'pushImgaeToRepo (A)', 'theirs (B)', 'A − B', 'A/B'], rows),
        '',
        `A − B at ${small} MiB, the cost of an action beyond the push itself: ${ms(fixed[small])}${implied}.`,
      ].join('\n'),
    );
  }
  if (!options.aws) sections.push('The AWS CLI is not installed (apt-get install awscli): its comparison was skipped.');
  return sections.join('\n\n');
}
