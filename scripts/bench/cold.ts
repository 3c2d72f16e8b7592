/**
 * Cold start: a fresh agent-style process (devkit/agent-runner.js) running describeRepositories for
 * one page, and listRegions, against node running a script that does nothing, and against the same
 * page signed by hand with no SDK (the floor); rounds rotate the order. Then instrumented runs
 * (scripts/bench/probes.js) say where the time goes.
 */
import path from 'node:path';
import { runAgentAction, type AgentAction } from '../../devkit/agent-process';
import { LOCAL_KEYS, LOCAL_REGION, startLocalEcr } from '../../devkit/local-ecr';
import { childEnv, clock, median, ms, spread, table, timed, type Samples } from './measure';

const NOTHING = path.join(__dirname, 'nothing.js');
const PROBES = path.join(__dirname, 'probes.js');
const SIGNED_BY_HAND = path.join(__dirname, 'signed-by-hand.js');

interface Marks {
  boot: number;
  mainStart: number;
  mainEnd: number;
  lazyMs: number;
  requestStart: number;
  responseEnd: number;
  exit: number;
}

export async function coldStart(rounds: number, progress: (line: string) => void): Promise<string> {
  const ecr = await startLocalEcr();
  try {
    ecr.endpoint.createRepositories(Array.from({ length: 10 }, (_, i) => `cold/repo-${i}`));
    const env = childEnv({ AWS_ENDPOINT_URL_ECR: ecr.env.AWS_ENDPOINT_URL_ECR });
    const describe: AgentAction = { method: 'describeRepositories', params: {}, settings: { ...LOCAL_KEYS, region: LOCAL_REGION } };
    const regions: AgentAction = { autocomplete: 'listRegions', query: 'eu', params: {} };
    const rss: Samples = [];
    const run = async (action: AgentAction, nodeArgs: string[] = []): Promise<{ wall: number; output: string }> => {
      let output = '';
      const wall = await clock(async () => {
        const outcome = await runAgentAction(action, env, { nodeArgs });
        if (outcome.exitCode !== 0) throw new Error(`${action.method ?? action.autocomplete ?? ''} failed: ${outcome.error ?? outcome.output}`);
        if (action === describe && outcome.maxRssKiB) rss.push(outcome.maxRssKiB);
        output = outcome.output;
      });
      return { wall, output };
    };
    const sides: Array<[string, () => Promise<number>]> = [
      ['node running a script that does nothing', () => timed(process.execPath, [NOTHING], env)],
      ['describeRepositories, one page of 10', async () => (await run(describe)).wall],
      // The floor: the same page with no SDK and no plugin, signed by hand.
      ['the same page signed by hand, no SDK (scripts/bench/signed-by-hand.js)', () => timed(process.execPath, [SIGNED_BY_HAND], env, JSON.stringify(describe.settings))],
      ['listRegions (autocomplete, loads no SDK)', async () => (await run(regions)).wall],
    ];
    const samples = sides.map((): Samples => []);
    for (const side of sides) await side[1](); // warm-up: file cache, and a check that each runs
    for (let round = 0; round < rounds; round++) {
      if (round % 5 === 0) progress(`cold start: round ${round + 1}/${rounds}`);
      for (let i = 0; i < sides.length; i++) {
        const index = (round + i) % sides.length;
        samples[index].push(await sides[index][1]());
      }
    }
    const baseline = median(samples[0]);
    const timing = table(
      ['process', 'wall time', '× baseline'],
      sides.map(([label], i) => [label, spread(samples[i]), (median(samples[i]) / baseline).toFixed(2)]),
    );

    progress('cold start: instrumented runs for the breakdown');
    const marks: Marks[] = [];
    for (let i = 0; i < Math.max(5, Math.ceil(rounds / 4)); i++) {
      const { output } = await run(describe, ['--require', PROBES]);
      const line = output.split('\n').find((l) => l.startsWith('@@probes '));
      if (line) marks.push(JSON.parse(line.slice('@@probes '.length)) as Marks);
    }
    const phase = (of: (m: Marks) => number): string => ms(median(marks.map(of)));
    const breakdown = table(
      ['phase (medians of instrumented runs)', 'ms'],
      [
        ['node boot, to the first line of script', phase((m) => m.boot)],
        ['runner reads its request', phase((m) => m.mainStart - m.boot)],
        ['require() of the plugin main', phase((m) => m.mainEnd - m.mainStart)],
        ['modules loaded lazily by the method (the SDK side)', phase((m) => m.lazyMs)],
        ['client, region, credentials, signing', phase((m) => m.requestStart - m.mainEnd - m.lazyMs)],
        ['the request, to the end of the response', phase((m) => m.responseEnd - m.requestStart)],
        ['after the response, to exit', phase((m) => m.exit - m.responseEnd)],
      ],
    );
    return [
      `${rounds} rounds, the order rotating; peak RSS of describeRepositories: ${(median(rss) / 1024).toFixed(1)} MiB (median).`,
      '',
      timing,
      '',
      breakdown,
    ].join('\n');
  } finally {
    await ecr.stop();
  }
}
