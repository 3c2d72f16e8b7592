/**
 * An image of 4 layers (of each size asked for) from account A's registry to B's, three ways in
 * rotating order, each run a fresh image (written untimed) so that none is in B to mount: copyImage
 * (one action, fresh agent-style process), docker pull + tag + push (logins to both; the images
 * removed after, untimed), skopeo copy. Then copyImage where every blob is already, and a promotion
 * inside one registry behind a front that counts the bytes through the agent.
 */
import { removeImage } from '../../devkit/images';
import { startLocalEcr } from '../../devkit/local-ecr';
import type { LocalStack } from '../../devkit/local-stack';
import { writeImage, type WrittenImage } from '../../devkit/oci-images';
import { startRegistry } from '../../devkit/registry';
import { skopeo } from '../../devkit/skopeo';
import { agentAction, childEnv, clock, median, spread, table, timed, withDockerConfig, type Samples } from './measure';

type CopyOptions = { rounds: number; layerMiB: number[]; progress: (line: string) => void };
const fourLayers = (mib: number): number[] => Array.from({ length: 4 }, () => mib * 1024 * 1024);
const totalBytes = (image: WrittenImage): number => image.size + image.blobs.reduce((sum, blob) => sum + blob.size, 0); // manifest and blobs

/** A table per layer size (MiB), then the promotion at the first size. */
export async function copy(stack: LocalStack, options: CopyOptions): Promise<string> {
  const sections: string[] = [];
  for (const [i, mib] of options.layerMiB.entries()) sections.push(await acrossAccounts(stack, mib, `${i}`, options));
  return [...sections, await promotion(fourLayers(options.layerMiB[0]))].join('\n\n');
}

/** The three routes side by side for one image size, then copyImage again with every blob there. */
async function acrossAccounts(stack: LocalStack, layerMiB: number, prefix: string, options: CopyOptions): Promise<string> {
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
  const [names, samples] = [Object.keys(sides), Object.keys(sides).map((): Samples => [])];
  let size = 0;
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const [side, run] = [(i + round) % names.length, `${prefix}-${round}-${(i + round) % names.length}`];
      options.progress(`copy: 4 × ${layerMiB} MiB, round ${round + 1}/${options.rounds}, ${names[side]}`);
      size = totalBytes(await writeImage({ url: a.url, user: a.user, password: logins[0].password }, 'bench/copy', run, fourLayers(layerMiB)));
      samples[side].push(await clock(() => sides[names[side]](run)));
      for (const pulled of [to(run), from(run)]) await removeImage(engine, pulled);
    }
  }
  const again: Samples = [];
  for (let round = 0; round < options.rounds; round++) again.push(await clock(() => toB(`${prefix}-0-0`)));
  const [ours, docker, skopeoCopy] = samples.map(median);
  return [
    `An image of 4 × ${layerMiB} MiB layers (${size} bytes), account A's registry to account B's, ${options.rounds} rounds, order rotating.\n`,
    table(['route', 'time', '× docker route', '× skopeo'], names.map((name, i) => [name, spread(samples[i]), (median(samples[i]) / docker).toFixed(2), (median(samples[i]) / skopeoCopy).toFixed(2)])),
    `\ncopyImage again, every blob in the target already: ${spread(again)}, ${(median(again) / ours).toFixed(3)} × the first copy.`,
  ].join('\n');
}

/** copyImage inside one registry behind a front that counts the bytes through the agent. */
async function promotion(layers: number[]): Promise<string> {
  const one = await startLocalEcr({ startRegistry, front: () => ({}) });
  try {
    const [place] = one.places;
    one.endpoint.createRepositories(['bench/copy', 'bench/prod']);
    const bytes = totalBytes(await writeImage({ url: place.url, user: 'AWS', password: place.password }, 'bench/copy', '1.0', layers));
    const mark = place.front?.requests.length ?? 0;
    const took = await clock(() => agentAction('copyImage', { repoName: 'bench/copy', imageName: '1.0', targetRepoName: 'bench/prod' }, childEnv(one.env)));
    const moved = (place.front?.requests.slice(mark) ?? []).reduce((sum, r) => sum + r.bytesIn + r.bytesOut, 0);
    return `A promotion inside one registry (every blob mounted, ${bytes} bytes): ${(took / 1000).toFixed(2)} s, ${moved} bytes through the agent, ${((100 * moved) / bytes).toFixed(4)} % of the image.`;
  } finally {
    await one.stop();
  }
}
