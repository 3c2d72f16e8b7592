/**
 * One agent, many actions: concurrent pushes and pulls of one name on one engine, and pushes and
 * tagImage actions that write one tag in the registry, each action in its own node process as an
 * agent runs it. The races are made deterministic by a `docker` stand-in on PATH
 * (devkit/bin/docker.js, its gate; devkit/stand-ins.ts) that holds a chosen subcommand of one
 * action until the test releases it, and then runs the real CLI against the real engine and
 * registry; and, for what happens in the registry alone, by the ECR stand-in holding one action's
 * PutImage until the test lets it go. Also on PATH: stand-in credential helpers (docker-credential-secretservice and -pass),
 * the stores the docker CLI falls back to; no action may use them.
 */
import execa from 'execa';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWithDocker } from '../support/e2e-environment';
import { makeImage, removeImage } from '../../devkit/images';
import { leftoversSince, takeSnapshot } from '../support/leftovers';
import { LOCAL_KEYS, LOCAL_REGION, startLocalEcr, type LocalEcr } from '../../devkit/local-ecr';
import { buildStandIns, makeGate, type Gate, type StandInBin } from '../../devkit/stand-ins';
import { agentEnvironment, startAgentAction, type AgentOutcome, type AgentProcess } from '../../devkit/agent-process';
import { DOCKER_MANIFEST, OCI_MANIFEST } from '../../src/registry/media-types';

jest.setTimeout(120_000);

interface Pushed {
  image: string;
  digest: string;
}

describeWithDocker('concurrent actions on one engine', (e2e) => {
  let ecr: LocalEcr;
  let tmp: string;
  let agentDir: string;
  let bin: StandInBin;
  let host: string;
  const password = `busy-agent-${process.pid}`;
  const repoName = 'busy/app';
  const run = `b${process.pid}`;
  const imageX = `busy-agent/x:${run}`;
  const imageY = `busy-agent/y:${run}`;
  /** A second tag in the registry, and Y under it as a local name (a push of it writes that tag). */
  const other = `o${process.pid}`;
  const imageYOther = `busy-agent/y:${other}`;
  let idX: string;
  let idY: string;
  const gates: Gate[] = [];
  const credStore = (): string => path.join(tmp, 'cred-store.json');
  const credLog = (): string => path.join(tmp, 'cred-calls.log');

  beforeAll(async () => {
    ecr = await startLocalEcr({ accounts: 1, startRegistry: (options) => e2e().startRegistry(options) });
    ecr.endpoint.createRepositories([repoName]); // what tagImage looks up (docker push needs none)
    host = ecr.registries[0].host;
    ecr.endpoint.setPassword(ecr.accountIds[0], password);
    await ecr.registries[0].setPassword(password);
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sec-busy-'));
    agentDir = path.join(tmp, 'agent-docker');
    await fs.mkdir(agentDir, { mode: 0o700 });
    await fs.writeFile(path.join(agentDir, 'config.json'), '{"psFormat":"table {{.ID}}"}\n');
    // The agent's own login for this very registry, in the store docker would fall back to.
    await fs.writeFile(credStore(), JSON.stringify({ [host]: { Username: 'agent', Secret: 'the-agent-own-secret' } }));
    bin = await buildStandIns({ docker: true, credentialHelpers: true });
    idX = await makeImage(e2e().env, imageX, 64 * 1024);
    idY = await makeImage(e2e().env, imageY, 64 * 1024);
    await execa('docker', ['tag', imageY, imageYOther], { env: e2e().env });
  });

  afterAll(async () => {
    for (const image of [imageX, imageY, imageYOther, `${host}/${repoName}:${run}`, `${host}/${repoName}:${other}`]) await removeImage(e2e().env, image);
    for (const gate of gates) await gate.remove();
    await bin.remove();
    await ecr.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const target = (): string => `${host}/${repoName}:${run}`;

  async function gate(holds: string[]): Promise<Gate> {
    const made = await makeGate(holds);
    gates.push(made);
    return made;
  }

  function start(
    method: 'pushImgaeToRepo' | 'pullImage' | 'tagImage',
    imageName: string,
    holds?: Gate,
    engine: Record<string, string> = e2e().env,
    extra: Record<string, string> = {},
  ): AgentProcess {
    const env = agentEnvironment({
      ...engine,
      ...ecr.env,
      TMPDIR: tmp,
      DOCKER_CONFIG: agentDir,
      PATH: `${bin.dir}${path.delimiter}${process.env.PATH ?? ''}`,
      STANDIN_CRED_STORE: credStore(),
      STANDIN_CRED_LOG: credLog(),
      ...(holds?.env ?? {}),
    });
    if (!('DOCKER_HOST' in engine)) delete env.DOCKER_HOST;
    return startAgentAction({ method, params: { ...LOCAL_KEYS, region: LOCAL_REGION, repoName, imageName, ...extra } }, env);
  }

  function succeeded(outcome: AgentOutcome): Pushed {
    expect({ error: outcome.error, exitCode: outcome.exitCode }).toEqual({ error: undefined, exitCode: 0 });
    return outcome.result as Pushed;
  }

  /** The config digest (= image id) of the manifest `reference` (a tag or digest) in the registry. */
  async function registryConfig(reference: string): Promise<string> {
    const response = await fetch(`http://${host}/v2/${repoName}/manifests/${reference}`, {
      headers: {
        Authorization: `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}`,
        Accept: `${DOCKER_MANIFEST}, ${OCI_MANIFEST}`,
      },
      signal: AbortSignal.timeout(10_000),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { config: { digest: string } }).config.digest;
  }

  async function localId(reference: string): Promise<string | undefined> {
    const result = await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', reference], { env: e2e().env, reject: false });
    return result.exitCode === 0 ? result.stdout.trim() : undefined;
  }

  /**
   * Holds push A at its gate (tagged, not yet pushed), starts B, which must wait for A's lock,
   * then lets A go; `between` runs while A is held. Both outcomes, in order.
   */
  async function secondWaitsForFirst(a: (hold: Gate) => AgentProcess, b: () => AgentProcess, between: () => Promise<void> = () => Promise.resolve()): Promise<[AgentOutcome, AgentOutcome]> {
    const hold = await gate(['push']);
    const first = a(hold);
    await hold.reached('push');
    await between();
    const second = b();
    await second.waitForOutput(/Waiting for another action on this agent that/, 60_000);
    await hold.release('push');
    return [await first.finished, await second.finished];
  }

  let before: Awaited<ReturnType<typeof takeSnapshot>>;
  beforeEach(async () => {
    await removeImage(e2e().env, target());
    before = await takeSnapshot({ tmpDir: tmp, agentConfigFile: path.join(agentDir, 'config.json') });
  });
  afterEach(async () => {
    expect(await leftoversSince(before)).toEqual([]);
  });

  it('two pushes of one image to one tag: the second waits for the first, both succeed, the tag is gone after', async () => {
    const [a, b] = await secondWaitsForFirst((hold) => start('pushImgaeToRepo', imageX, hold), () => start('pushImgaeToRepo', imageX));
    const [ra, rb] = [succeeded(a), succeeded(b)];
    expect(ra).toEqual(rb);
    expect(await registryConfig(ra.digest)).toBe(idX);
    expect(await localId(target())).toBeUndefined();
    expect(await localId(imageX)).toBe(idX);
  });

  it('two pushes to one tag naming the engine two ways (DOCKER_HOST; a docker context through a link to its socket): the second waits', async () => {
    // The context as the docker CLI records it, in the agent's config, picked by DOCKER_CONTEXT alone.
    const host = e2e().env.DOCKER_HOST;
    let contextHost = host;
    if (host.startsWith('unix://')) {
      const alias = path.join(tmp, 'engine-alias.sock');
      await fs.rm(alias, { force: true });
      await fs.symlink(host.slice('unix://'.length), alias);
      contextHost = `unix://${alias}`;
    }
    const contextEnv = { DOCKER_CONFIG: agentDir, PATH: process.env.PATH ?? '' };
    await execa('docker', ['context', 'create', 'busy-alias', '--docker', `host=${contextHost}`], { env: contextEnv, extendEnv: false });
    try {
      const [a, b] = await secondWaitsForFirst(
        (hold) => start('pushImgaeToRepo', imageX, hold),
        () => start('pushImgaeToRepo', imageX, undefined, { DOCKER_CONTEXT: 'busy-alias' }),
      );
      const [ra, rb] = [succeeded(a), succeeded(b)];
      expect(ra).toEqual(rb);
      expect(await registryConfig(ra.digest)).toBe(idX);
      expect(await localId(target())).toBeUndefined();
    } finally {
      await execa('docker', ['context', 'rm', '--force', 'busy-alias'], { env: contextEnv, extendEnv: false, reject: false });
    }
  });

  it('a pull of the tag that lands between a push\'s tag and push: the push ships X, the pull\'s image is there after', async () => {
    // The registry holds Y under the tag; the pull would re-point the local name to Y.
    succeeded(await start('pushImgaeToRepo', imageY).finished);
    expect(await registryConfig(run)).toBe(idY);

    const [push, pull] = await secondWaitsForFirst(
      (hold) => start('pushImgaeToRepo', imageX, hold),
      () => start('pullImage', run),
      async () => expect(await localId(target())).toBe(idX), // tagged, not yet pushed
    );
    const [pushed, pulled] = [succeeded(push), succeeded(pull)];

    expect(await registryConfig(pushed.digest)).toBe(idX);
    expect(await registryConfig(run)).toBe(idX);
    expect(pulled.digest).toBe(pushed.digest);
    expect(await localId(target())).toBe(idX); // the pull wrote the name; nothing removed it
  });

  it('two pushes of different images to one tag: each result names the image it pushed', async () => {
    const [a, b] = await secondWaitsForFirst((hold) => start('pushImgaeToRepo', imageX, hold), () => start('pushImgaeToRepo', imageY));
    const [ra, rb] = [succeeded(a), succeeded(b)];
    expect(await registryConfig(ra.digest)).toBe(idX);
    expect(await registryConfig(rb.digest)).toBe(idY);
    expect(await registryConfig(run)).toBe(idY); // the later push holds the tag, as in a sequential run
    expect(await localId(target())).toBeUndefined();
  });

  it('a tagImage of a tag a push is writing waits for the push, then writes it: the tag ends on tagImage\'s image', async () => {
    const base = `base-${run}`;
    succeeded(await start('pushImgaeToRepo', imageY, undefined, e2e().env, { additionalTags: base }).finished);
    expect(await registryConfig(base)).toBe(idY);

    const hold = await gate(['push']);
    const push = start('pushImgaeToRepo', imageX, hold); // X to the tag, held before its docker push
    await hold.reached('push');
    const tag = start('tagImage', base, undefined, e2e().env, { tags: run }); // Y to the same tag
    await tag.waitForOutput(new RegExp(`Waiting for another action on this agent that writes the tag ${host.replace(/\./g, '\\.')}/${repoName}:${run} `), 60_000);
    await hold.release('push');
    const [pushed, tagged] = [succeeded(await push.finished), await tag.finished];

    expect(await registryConfig(pushed.digest)).toBe(idX);
    expect(tagged.error).toBeUndefined();
    expect(tagged.result).toMatchObject({ tags: [base, run] });
    expect(await registryConfig(run)).toBe(idY); // the push, then the tagImage, as in a sequential run
  });

  /**
   * Holds the first PutImage that reaches the ECR stand-in after `a` starts (one of a's tags), starts
   * `b`, which must wait for a's tag lock, then lets a's PutImage go. Both outcomes, in order.
   */
  async function secondWaitsForFirstTag(a: () => AgentProcess, b: () => AgentProcess): Promise<[AgentOutcome, AgentOutcome]> {
    const hold = ecr.endpoint.hold('PutImage', 60_000);
    try {
      const first = a();
      await Promise.race([hold.reached, first.finished.then((outcome) => Promise.reject(new Error(`ended before its PutImage: ${outcome.error ?? ''}\n${outcome.output}`)))]);
      const second = b();
      await second.waitForOutput(/Waiting for another action on this agent that writes the tag /, 60_000);
      hold.release();
      return [await first.finished, await second.finished];
    } finally {
      hold.release();
    }
  }

  it('two pushes of different images to one tag, both with additionalTags latest: every tag ends on the later image', async () => {
    const latest = `latest-${run}`;
    const [a, b] = await secondWaitsForFirstTag(
      () => start('pushImgaeToRepo', imageX, undefined, e2e().env, { additionalTags: latest }),
      () => start('pushImgaeToRepo', imageY, undefined, e2e().env, { additionalTags: latest }),
    );
    const [ra, rb] = [succeeded(a), succeeded(b)] as Array<Pushed & { tags: string[] }>;
    expect([ra.tags, rb.tags]).toEqual([[run, latest], [run, latest]]);
    expect(await registryConfig(run)).toBe(idY);
    expect(await registryConfig(latest)).toBe(idY); // as a sequential run leaves it
  });

  it('two pushes whose tags overlap crosswise (X: r + o, Y: o + r): both tags end on the later image, and neither waits forever', async () => {
    const [a, c] = await secondWaitsForFirstTag(
      () => start('pushImgaeToRepo', imageX, undefined, e2e().env, { additionalTags: other }),
      () => start('pushImgaeToRepo', imageYOther, undefined, e2e().env, { additionalTags: run }),
    );
    const [ra, rc] = [succeeded(a), succeeded(c)] as Array<Pushed & { tags: string[] }>;
    expect([ra.tags, rc.tags]).toEqual([[run, other], [other, run]]);
    expect(await registryConfig(run)).toBe(idY);
    expect(await registryConfig(other)).toBe(idY);
  });

  it('two tagImage actions writing one tag: the second waits, and the tag ends on its image', async () => {
    const [bx, by] = [`bx-${run}`, `by-${run}`];
    succeeded(await start('pushImgaeToRepo', imageX, undefined, e2e().env, { additionalTags: bx }).finished);
    succeeded(await start('pushImgaeToRepo', imageY, undefined, e2e().env, { additionalTags: by }).finished);
    const promoted = `p-${run}`;
    const [first, second] = await secondWaitsForFirstTag(
      () => start('tagImage', bx, undefined, e2e().env, { tags: promoted }),
      () => start('tagImage', by, undefined, e2e().env, { tags: promoted }),
    );
    expect([first.error, second.error]).toEqual([undefined, undefined]);
    expect(await registryConfig(promoted)).toBe(idY);
  });

  it('a tagImage stopped by SIGTERM while it writes: it ends at once, by the signal, and its tag locks are gone', async () => {
    const bx = `bx-${run}`;
    succeeded(await start('pushImgaeToRepo', imageX, undefined, e2e().env, { additionalTags: bx }).finished);
    const locks = async (): Promise<string[]> => (await fs.readdir(tmp)).filter((e) => /^kaholo-ecr\.tag\.[0-9a-f]{32}\.lock$/.test(e));
    const hold = ecr.endpoint.hold('PutImage', 60_000); // never released before the end: the action must not need it
    try {
      const tagging = start('tagImage', bx, undefined, e2e().env, { tags: `s1-${run}, s2-${run}` });
      await Promise.race([hold.reached, tagging.finished.then(() => Promise.reject(new Error(`tagImage ended before its PutImage:\n${tagging.output()}`)))]);
      expect(await locks()).toHaveLength(2); // both of its tags, held while it writes the first
      const stopped = Date.now();
      tagging.kill('SIGTERM');
      const outcome = await tagging.finished;
      expect({ signal: outcome.signal, reported: outcome.reported }).toEqual({ signal: 'SIGTERM', reported: false });
      expect(outcome.output).toMatch(/^Interrupted \(SIGTERM\): stopping the work; cleaning up$/m);
      expect(Date.now() - stopped).toBeLessThan(5000); // not after a request timeout
      expect(await locks()).toEqual([]);
    } finally {
      hold.release();
    }
  });

  it('a name another program re-points during the push: an error, never a success, and that name is left alone', async () => {
    const hold = await gate(['push']);
    const push = start('pushImgaeToRepo', imageX, hold);
    await hold.reached('push');
    await execa('docker', ['tag', imageY, target()], { env: e2e().env }); // not through the plugin: no lock
    await hold.release('push');
    const outcome = await push.finished;
    expect(outcome.error).toMatch(
      new RegExp(`^docker pushed sha256:[0-9a-f]{64} to ${host.replace(/\./g, '\\.')}/${repoName}, which is not the image ${idX.slice(0, 19)} that "imageName" named when the action started`),
    );
    expect(await localId(target())).toBe(idY);
  });

  it('a name that existed before the push names the same image after it', async () => {
    await execa('docker', ['tag', imageY, target()], { env: e2e().env });
    const pushed = succeeded(await start('pushImgaeToRepo', imageX).finished);
    expect(await registryConfig(pushed.digest)).toBe(idX);
    expect(await localId(target())).toBe(idY);
  });

  it('the agent\'s credential store and docker config stay untouched by concurrent pushes and pulls', async () => {
    const storeBefore = await fs.readFile(credStore());
    const configBefore = await fs.readFile(path.join(agentDir, 'config.json'));
    succeeded(await start('pushImgaeToRepo', imageX).finished); // something to pull
    const outcomes = await Promise.all([
      start('pushImgaeToRepo', imageY).finished,
      start('pullImage', run).finished,
      start('pushImgaeToRepo', imageX).finished,
      start('pullImage', run).finished,
    ]);
    outcomes.forEach((outcome) => succeeded(outcome));
    expect((await fs.readFile(credStore())).equals(storeBefore)).toBe(true);
    expect((await fs.readFile(path.join(agentDir, 'config.json'))).equals(configBefore)).toBe(true);
    expect(await fs.readFile(credLog(), 'utf8').catch(() => '')).toBe('');
  });
});
