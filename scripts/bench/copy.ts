/**
 * An image of 4 × 25 MiB layers from account A's registry to B's, three ways in rotating order,
 * each run a fresh image (written untimed) so that no layer is in B to mount: copyImage (one
 * action, fresh agent-style process), docker pull + tag + push (logins to both; the images removed
 * after, untimed) and skopeo copy. Then copyImage where every blob is already, and a promotion
 * inside one registry behind a front that counts the bytes through the agent.
 */
import { removeImage } from '../../devkit/images';
import { startLocalEcr } from '../../devkit/local-ecr';
import type { LocalStack } from '../../devkit/local-stack';
import { writeImage } from '../../devkit/oci-images';
import { startRegistry } from '../../devkit/registry';
import { skopeo } from '../../devkit/skopeo';
import { agentAction, childEnv, clock, median, spread, table, timed, withDockerConfig, type Samples } from './measure';

const LAYERS = Array.from({ length: 4 }, () => 25 * 1024 * 1024);

export async function copy(stack: LocalStack, options: { rounds: number; progress: (line: string) => void }): Promise<string> {
  const [a, b] = stack.ecr.registries;
  if (!stack.engine || !b) throw new Error(`copy needs an engine and two registries: ${stack.dockerSkipped ?? 'none'}`);
  const engine = stack.engine.env;
  const logins = stack.ecr.registries.map((r, i) => ({ host: r.host, user: r.user, password: stack.ecr.passwords[i] }));
  // Each run copies bench/copy:<run> of A to bench/copy-<run>:1.0 of B.
  const [from, to] = [(run: string) => `${a.host}/bench/copy:${run}`, (run: string) => `${b.host}/bench/copy-${run}:1.0`];
  const toB = (run: string): Promise<void> =>
    agentAction('copyImage', { repoName: 'bench/copy', imageName: run, targetRegistryId: stack.ecr.accountIds[1], targetRepoName: `bench/copy-${run}`, targetTags: '1.0', createRepository: true }, childEnv(stack.ecr.env));
  const sides: Record<string, (run: string) => Promise<unknown>> = {
    'copyImage (one action)': toB,
    'docker pull + tag + push': (run) =>
      withDockerConfig(childEnv(engine), async (env) => {
        for (const l of logins) await timed('docker', ['login', '--username', l.user, '--password-stdin', l.host], env, l.password);
        for (const args of [['pull', from(run)], ['tag', from(run), to(run)], ['push', to(run)], ...logins.map((l) => ['logout', l.host])]) await timed('docker', args, env);
      }),
    'skopeo copy': (run) => skopeo(['copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${from(run)}`, `docker://${to(run)}`], logins),
  };
  const names = Object.keys(sides);
  const samples: Samples[] = names.map(() => []);
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const [side, run] = [(i + round) % names.length, `${round}-${(i + round) % names.length}`];
      options.progress(`copy: round ${round + 1}/${options.rounds}, ${names[side]}`);
      await writeImage({ url: a.url, user: a.user, password: logins[0].password }, 'bench/copy', run, LAYERS);
      samples[side].push(await clock(() => sides[names[side]](run)));
      for (const pulled of [to(run), from(run)]) await removeImage(engine, pulled);
    }
  }
  const again: Samples = [];
  for (let round = 0; round < options.rounds; round++) again.push(await clock(() => toB('0-0')));

  const one = await startLocalEcr({ startRegistry, front: () => ({}) });
  try {
    const [place] = one.places;
    one.endpoint.createRepositories(['bench/copy', 'bench/prod']);
    const image = await writeImage({ url: place.url, user: 'AWS', password: place.password }, 'bench/copy', '1.0', LAYERS);
    const size = image.size + image.blobs.reduce((sum, blob) => sum + blob.size, 0);
    const mark = place.front?.requests.length ?? 0;
    const took = await clock(() => agentAction('copyImage', { repoName: 'bench/copy', imageName: '1.0', targetRepoName: 'bench/prod' }, childEnv(one.env)));
    const moved = (place.front?.requests.slice(mark) ?? []).reduce((sum, r) => sum + r.bytesIn + r.bytesOut, 0);
    const [ours, docker, skopeoCopy] = samples.map(median);
    return [
      `An image of 4 × 25 MiB layers (${size} bytes), account A's registry to account B's, ${options.rounds} rounds, order rotating.\n`,
      table(['route', 'time', '× docker route', '× skopeo'], names.map((name, i) => [name, spread(samples[i]), (median(samples[i]) / docker).toFixed(2), (median(samples[i]) / skopeoCopy).toFixed(2)])),
      `\ncopyImage again, every blob in the target already: ${spread(again)}, ${(median(again) / ours).toFixed(3)} × the first copy.`,
      `A promotion inside one registry (every blob mounted): ${(took / 1000).toFixed(2)} s, ${moved} bytes through the agent, ${((100 * moved) / size).toFixed(4)} % of the image.`,
    ].join('\n');
  } finally {
    await one.stop();
  }
}
