/**
 * Push: one full pushImgaeToRepo action in a fresh node process (as the agent runs it) against
 * (1) the raw docker CLI sequence with the token already in hand and (2) the AWS CLI pipeline
 * users write, `aws ecr get-login-password | docker login --password-stdin ... && docker push ...
 * && docker logout`, with the pipe made here between two processes (no shell).
 *
 * Every run pushes an image of its own, made from fresh random bytes before the clock starts and
 * removed after it stops, so no run finds its layer already in the registry: A and B do the same
 * work. Every side logs in to a private, temporary DOCKER_CONFIG and logs out again.
 *
 * Other builds of the plugin (the proposed bundles) join the rounds against raw docker, so the
 * before/after of a build change is measured in the same run, against the same B.
 */
import execa from 'execa';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { makeImage, removeImage } from '../../devkit/images';
import { LOCAL_KEYS, LOCAL_REGION, type LocalEcr } from '../../devkit/local-ecr';
import type { Variant } from './bundle';
import { ACTION_CHILD, marked, PHASES_MARK, PUSH_PHASE_CHILD, RESULT_MARK, type ActionInput, type PushTimeline } from './children';
import { benchTmpdir, childEnv, tail, timed, type Tools } from './tools';

const PUSH_TIMEOUT_MS = 10 * 60 * 1000;
const LOGIN_TIMEOUT_MS = 60 * 1000;
const REPOSITORY = 'bench/push';
const DIGEST = /digest: (sha256:[a-f0-9]{64})/;

export type Opponent = 'docker' | 'aws';
export const OPPONENT_LABELS: Record<Opponent, string> = {
  docker: 'raw docker CLI (token in hand)',
  aws: 'aws ecr get-login-password | docker login … && push && logout',
};

export interface PushComparison {
  opponent: Opponent;
  sizeMiB: number;
  /** Wall time (ms) of the plugin action (config.json's main), one per pair. */
  ours: number[];
  /** Wall time (ms) of the opponent, one per pair. */
  theirs: number[];
  /** The other builds, measured in the same rounds (against raw docker only). */
  others: { label: string; samples: number[] }[];
}

export interface PushOptions {
  pairs: number;
  sizesMiB: number[];
  opponents: Opponent[];
  /** Instrumented 1 MiB rounds for the breakdown of where the push time goes. */
  phaseRuns: number;
  progress(line: string): void;
}

/** Named spans (ms) of one push, in the order they happen. */
export type PushSteps = [string, number][];

export interface PushResult {
  comparisons: PushComparison[];
  /** Instrumented 1 MiB runs: each build's timeline, and the raw docker sequence's steps. */
  breakdown: { columns: { label: string; runs: PushSteps[] }[] };
}

/** A docker subcommand as a step name. */
function stepName(processName: string): string {
  const words = processName.split(' ');
  if (words[0] !== 'docker') return words[0];
  return words[1] === 'image' ? `docker image ${words[2] ?? ''}`.trim() : `docker ${words[1] ?? ''}`.trim();
}

/** The plugin's timeline as consecutive spans: what it did from process start to exit. */
export function timelineSteps(t: PushTimeline, wall: number): PushSteps {
  const steps: PushSteps = [['node boot (to the first line of the script)', t.boot]];
  let at = t.boot;
  const span = (name: string, until: number | undefined): void => {
    if (until === undefined) return;
    steps.push([name, until - at]);
    at = until;
  };
  span('require(main)', t.boot + t.requireMain);
  span('to the token request (SDK load, client, region, credentials, signing)', t.requestAt);
  span('GetAuthorizationToken (HTTP)', t.responseEndAt);
  for (const child of t.processes) {
    span(`… before ${stepName(child.name)}`, child.start);
    span(stepName(child.name), child.end);
  }
  span('after the last command (config removed, result)', t.doneAt);
  span('exit handlers', t.exitAt);
  steps.push(['process spawn and exit (wall − last timestamp)', wall - t.exitAt]);
  return steps;
}

interface Login {
  host: string;
  user: string;
  password: string;
}

/** The token "already in hand" of the raw sequence, fetched once before any timing. */
async function fetchLogin(ecr: LocalEcr): Promise<Login> {
  const client = new ECRClient({ region: LOCAL_REGION, credentials: { ...LOCAL_KEYS }, endpoint: ecr.endpoint.url });
  try {
    const response = await client.send(new GetAuthorizationTokenCommand({}));
    const data = response.authorizationData?.[0];
    if (!data?.authorizationToken || !data.proxyEndpoint) throw new Error('the local endpoint returned no authorization data');
    const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return { host: data.proxyEndpoint.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, ''), user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  } finally {
    client.destroy();
  }
}

/** `variants[0]` is config.json's main (side A); the others join the rounds against raw docker. */
export async function runPush(tools: Tools, variants: Variant[], ecr: LocalEcr, dockerHost: string, options: PushOptions): Promise<PushResult> {
  const [shipped, ...others] = variants;
  const docker = tools.docker;
  if (!docker) throw new Error('push needs the docker CLI on PATH (install docker.io)');
  const login = await fetchLogin(ecr);
  const dockerEnv = { DOCKER_HOST: dockerHost };
  const tmp = benchTmpdir();

  /** Side A: the plugin, in a fresh `node -e` process as the agent runs it (optionally with probes). */
  const pluginPush = async (variant: Variant, reference: string, steps?: PushSteps[]): Promise<number> => {
    const input: ActionInput = {
      main: variant.main,
      kind: 'method',
      name: 'pushImgaeToRepo',
      params: { repoName: REPOSITORY, imageName: reference },
      settings: { ...ecr.settings },
    };
    const result = await timed(tools.node, ['-e', steps ? PUSH_PHASE_CHILD : ACTION_CHILD], {
      env: childEnv({ ...ecr.env, ...dockerEnv, BENCH_INPUT: JSON.stringify(input) }),
      timeoutMs: PUSH_TIMEOUT_MS,
    });
    if (steps) {
      steps.push(timelineSteps(marked<PushTimeline>(result.stderr, PHASES_MARK), result.ms));
    } else {
      const pushed = marked<{ image?: string; digest?: string }>(result.stdout, RESULT_MARK);
      if (pushed.image !== reference || !/^sha256:[a-f0-9]{64}$/.test(pushed.digest ?? '')) {
        throw new Error(`${variant.label}: pushImgaeToRepo returned ${JSON.stringify(pushed)} for ${reference}`);
      }
    }
    return result.ms;
  };

  /** Login (however it gets the password), push, logout, in a private DOCKER_CONFIG; timed as a whole. */
  const session = async (
    reference: string,
    logIn: (env: Record<string, string>) => Promise<void>,
    steps?: PushSteps[],
  ): Promise<number> => {
    const start = process.hrtime.bigint();
    const spans: PushSteps = [];
    let mark = start;
    const step = (name: string): void => {
      const now = process.hrtime.bigint();
      spans.push([name, Number(now - mark) / 1e6]);
      mark = now;
    };
    const dir = await fs.mkdtemp(path.join(tmp, 'kbench-docker-'));
    try {
      step('private DOCKER_CONFIG (mkdtemp)');
      const env = childEnv({ ...dockerEnv, DOCKER_CONFIG: dir });
      await logIn(env);
      step('docker login');
      const push = await timed(docker, ['push', reference], { env, timeoutMs: PUSH_TIMEOUT_MS });
      if (!DIGEST.test(push.stdout)) throw new Error(`docker push printed no digest: ${tail(push.stdout)}`);
      step('docker push');
      await timed(docker, ['logout', login.host], { env, timeoutMs: LOGIN_TIMEOUT_MS });
      step('docker logout');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    step('remove DOCKER_CONFIG');
    steps?.push(spans);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };

  /** Side B (1): docker login --password-stdin with the token in hand, push, logout. */
  const rawDocker = (reference: string, steps?: PushSteps[]): Promise<number> =>
    session(
      reference,
      async (env) => {
        await timed(docker, ['login', '--username', login.user, '--password-stdin', login.host], {
          env,
          input: login.password,
          timeoutMs: LOGIN_TIMEOUT_MS,
        });
      },
      steps,
    );

  /** Side B (2): `aws ecr get-login-password | docker login --password-stdin`, both started at once like a shell pipe. */
  const awsPipeline = (reference: string): Promise<number> =>
    session(reference, async (env) => {
      const aws = tools.aws;
      if (!aws) throw new Error('the AWS CLI is not installed');
      // Keys through the environment, never argv; no config files, no pager.
      const awsEnv = childEnv({ AWS_ACCESS_KEY_ID: LOCAL_KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_KEYS.secretAccessKey, AWS_PAGER: '' });
      const getPassword = execa(aws, ['ecr', 'get-login-password', '--endpoint-url', ecr.endpoint.url, '--region', LOCAL_REGION], {
        env: awsEnv,
        extendEnv: false,
        stdin: 'ignore',
        reject: false,
        timeout: LOGIN_TIMEOUT_MS,
      });
      const dockerLogin = execa(docker, ['login', '--username', 'AWS', '--password-stdin', login.host], {
        env,
        extendEnv: false,
        stdin: 'pipe',
        reject: false,
        timeout: LOGIN_TIMEOUT_MS,
      });
      if (!getPassword.stdout || !dockerLogin.stdin) throw new Error('no pipe between aws and docker login');
      getPassword.stdout.pipe(dockerLogin.stdin);
      const [a, d] = await Promise.all([getPassword, dockerLogin]);
      if (a.exitCode !== 0) throw new Error(`aws ecr get-login-password failed (exit ${String(a.exitCode)}): ${tail(a.stderr)}`);
      if (d.exitCode !== 0) throw new Error(`docker login failed (exit ${String(d.exitCode)}): ${tail(d.stderr)}`);
    });

  let serial = 0;
  /** Makes a fresh image (untimed), runs `side` on it (timed), removes the image (untimed). */
  const measure = async (sizeMiB: number, side: (reference: string) => Promise<number>): Promise<number> => {
    const reference = `${login.host}/${REPOSITORY}:s${sizeMiB}-${process.pid}-${++serial}`;
    const id = await makeImage(dockerEnv, reference, Math.round(sizeMiB * 1024 * 1024));
    // Write back what making the image dirtied, so no run pays for the previous one's writes.
    await execa('sync', [], { stdin: 'ignore', timeout: 120_000 });
    try {
      return await side(reference);
    } finally {
      await removeImage(dockerEnv, id);
    }
  };
  /** Runs the steps of a round, the starting point rotated by the round's number. */
  const round = async (index: number, steps: (() => Promise<void>)[]): Promise<void> => {
    for (let i = 0; i < steps.length; i++) await steps[(index + i) % steps.length]();
  };

  // Warm-up, which also checks that every build pushes (each run checks its result).
  options.progress(`push: warm-up, one untimed 1 MiB push per build and per opponent`);
  for (const variant of variants) await measure(1, (reference) => pluginPush(variant, reference));
  await measure(1, (reference) => rawDocker(reference));
  if (options.opponents.includes('aws')) await measure(1, awsPipeline);

  const columns = [...variants.map((v) => ({ label: v.label, runs: [] as PushSteps[] })), { label: 'raw docker CLI', runs: [] as PushSteps[] }];
  for (let run = 0; run < options.phaseRuns; run++) {
    options.progress(`push: instrumented 1 MiB round ${run + 1}/${options.phaseRuns} for the breakdown`);
    await round(run, [
      ...variants.map((variant, i) => async () => void (await measure(1, (reference) => pluginPush(variant, reference, columns[i].runs)))),
      async () => void (await measure(1, (reference) => rawDocker(reference, columns[columns.length - 1].runs))),
    ]);
  }

  const comparisons: PushComparison[] = [];
  for (const sizeMiB of options.sizesMiB) {
    for (const opponent of options.opponents) {
      const comparison: PushComparison = {
        opponent,
        sizeMiB,
        ours: [],
        theirs: [],
        others: opponent === 'docker' ? others.map((v) => ({ label: v.label, samples: [] })) : [],
      };
      const against = opponent === 'docker' ? (reference: string) => rawDocker(reference) : awsPipeline;
      for (let pair = 0; pair < options.pairs; pair++) {
        options.progress(`push ${sizeMiB} MiB vs ${opponent}: round ${pair + 1}/${options.pairs}`);
        // A B (A' A'' …): side A then B as a pair; the other builds, when measured, after them.
        await measure(sizeMiB, async (reference) => {
          const ms = await pluginPush(shipped, reference);
          comparison.ours.push(ms);
          return ms;
        });
        await measure(sizeMiB, async (reference) => {
          const ms = await against(reference);
          comparison.theirs.push(ms);
          return ms;
        });
        for (const [i, variant] of (opponent === 'docker' ? others : []).entries()) {
          comparison.others[i].samples.push(await measure(sizeMiB, (reference) => pluginPush(variant, reference)));
        }
      }
      comparisons.push(comparison);
    }
  }
  return { comparisons, breakdown: { columns } };
}
