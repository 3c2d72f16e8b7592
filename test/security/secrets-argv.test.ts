/**
 * No secret in argv: while every method config.json declares runs (agent-style, in a node process
 * of its own, against the real engine and registry; a method declared there without a run here
 * fails the test), every process's command line is read from /proc every few milliseconds. None may contain the registry password, its base64
 * token, the secret key or the session token; nor may the environment of any process the action
 * started. The scan must have seen docker login, push and pull at work, or it proves nothing: the
 * kit's stand-in docker (real mode) holds each of them at a gate until the scan has seen it, then
 * runs the real CLI, so the scan sees them however busy the machine is.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWithDocker } from '../support/e2e-environment';
import { makeImage, removeImage } from '../../devkit/images';
import { leftoversSince, takeSnapshot } from '../support/leftovers';
import { LOCAL_KEYS, LOCAL_PUBLIC_ALIAS, LOCAL_REGION, startLocalEcr, type LocalEcr } from '../../devkit/local-ecr';
import { watchForSecrets, type SecretWatchReport } from '../support/processes';
import { agentEnvironment, startAgentAction, type AgentOutcome, type AgentProcess } from '../../devkit/agent-process';
import { buildStandIns, makeGate, type Gate, type StandInBin } from '../../devkit/stand-ins';
import { leakedSecrets, registrySecrets, sessionToken, type Secret } from './support/secrets';
import { PRIVATE_CONFIG_PREFIX } from '../../src/docker/docker-config';
import { readManifest } from '../../devkit/agent';

/** Every method config.json declares, the push first: what pull and tagImage read, it puts there. */
const METHODS = readManifest()
  .methods.map((method) => method.name)
  .sort((a, b) => Number(b === 'pushImgaeToRepo') - Number(a === 'pushImgaeToRepo'));

jest.setTimeout(90_000);

describeWithDocker('no secret in any process argv while each method runs', (e2e) => {
  let ecr: LocalEcr;
  let tmp: string;
  let secrets: Secret[];
  let bin: StandInBin;
  const gates: Gate[] = [];
  const token = sessionToken();
  const tag = `t${process.pid}`;
  const localImage = `sec-argv/app:${tag}`;
  const targets: string[] = [];

  beforeAll(async () => {
    ecr = await startLocalEcr({ accounts: 1, startRegistry: (options) => e2e().startRegistry(options), publicRegistry: true });
    ecr.endpoint.createRepositories(['sec/argv']); // for tagImage and checkImageScan (docker push needs none)
    ecr.publicRegistry?.state.add('sec/argv'); // ECR Public's registry takes pushes into existing repositories only
    ecr.endpoint.scans.set({ repositoryName: 'sec/argv', digest: `sha256:${'f'.repeat(64)}`, tags: [tag], scan: [{ status: 'COMPLETE', findings: [] }] });
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sec-argv-'));
    bin = await buildStandIns({ docker: true });
  });

  afterAll(async () => {
    await removeImage(e2e().env, localImage);
    for (const target of targets) await removeImage(e2e().env, target);
    await ecr.stop();
    for (const gate of gates) await gate.remove();
    await bin.remove();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  /** Each method's params beyond the keys, and the docker commands it runs (held until the scan has seen each). */
  const runs = (): Record<string, { params: Record<string, string>; docker: string[] }> => ({
    pushImgaeToRepo: { params: { imageName: localImage }, docker: ['login', 'push'] },
    describeRepositories: { params: {}, docker: [] },
    getEcrLogin: { params: {}, docker: [] },
    pullImage: { params: { imageName: tag }, docker: ['login', 'pull'] },
    tagImage: { params: { imageName: tag, tags: `${tag}-prod` }, docker: [] },
    checkImageScan: { params: { imageName: tag, failOnSeverity: 'NONE' }, docker: [] },
    // Registry to registry over HTTP: no process at all.
    copyImage: { params: { imageName: tag, targetRepoName: 'sec/argv-copy', createRepository: 'true' }, docker: [] },
  });

  it('has a run for every method config.json declares, and for no other', () => {
    expect(Object.keys(runs()).sort()).toEqual([...METHODS].sort());
  });

  /** The methods a registry type runs: ECR Public scans no images (checkImageScan refuses it before any call). */
  const methodsOf = (registryType: string): string[] => (registryType === 'public' ? METHODS.filter((m) => m !== 'checkImageScan') : METHODS);

  it.each([['private'], ['public']])('every method (registryType %s): no password, token, secret key or session token on any command line', async (registryType) => {
    const target = registryType === 'public' ? `${ecr.publicRegistry?.state.host ?? ''}/${LOCAL_PUBLIC_ALIAS}/sec/argv:${tag}` : `${ecr.registries[0].host}/sec/argv:${tag}`;
    targets.push(target);
    // Big enough that docker push and pull run for a while (compressing and sending 16 MB).
    await makeImage(e2e().env, localImage, 16 * 1024 * 1024);
    // The password is known only to the endpoint and the registry: learn it the way a user would.
    const env = agentEnvironment({ ...e2e().env, ...ecr.env, TMPDIR: tmp });
    const params = { ...LOCAL_KEYS, sessionToken: token, region: LOCAL_REGION, repoName: 'sec/argv', registryType };
    const methods = methodsOf(registryType);
    const login = await startAgentAction({ method: 'getEcrLogin', params }, env).finished;
    const password = (login.result as { authorizationData: Array<{ decodedToken: { password: string } }> }).authorizationData[0]
      .decodedToken.password;
    secrets = [{ name: 'secret key', value: LOCAL_KEYS.secretAccessKey }, { name: 'session token', value: token }, ...registrySecrets(password)];

    // Every command line; the environment of every process the actions start; the docker commands they run.
    const agents = new Set<number>();
    const before = await takeSnapshot({ tmpDir: tmp });
    const watch = watchForSecrets(secrets, () => agents);
    let seen: SecretWatchReport;
    const outcomes: Record<string, AgentOutcome> = {};
    // Each action's docker commands wait at its gate until the scan has seen them running.
    const runThroughGate = async (method: string): Promise<AgentOutcome> => {
      const run = runs()[method] as ReturnType<typeof runs>[string] | undefined;
      if (run === undefined) throw new Error(`config.json declares the method "${method}", but this test has no run for it: add one`);
      const gate = await makeGate(run.docker);
      gates.push(gate);
      const gatedEnv = { ...env, ...gate.env, PATH: `${bin.dir}${path.delimiter}${env.PATH ?? ''}` };
      const action: AgentProcess = startAgentAction({ method, params: { ...params, ...run.params } }, gatedEnv);
      agents.add(action.pid);
      let ended = false;
      void action.finished.then(() => (ended = true));
      for (const subcommand of run.docker) {
        // An action that fails before a command (the assertions below say why) is not waited for.
        const deadline = Date.now() + 60_000;
        while (!gate.hasReached(subcommand) && !ended) {
          if (Date.now() > deadline) throw new Error(`docker ${subcommand} did not reach its gate within 60 s:\n${action.output()}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        if (ended) break;
        await watch.sawDocker(action.pid, subcommand, 30_000);
        await gate.release(subcommand);
      }
      return action.finished;
    };
    try {
      for (const method of methods) {
        outcomes[method] = await runThroughGate(method);
        // Make the pull download the layer rather than find it.
        if (method === 'pushImgaeToRepo') await removeImage(e2e().env, localImage);
      }
    } finally {
      seen = await watch.stop();
      expect(seen.sweeps).toBeGreaterThan(20);
    }

    expect(Object.fromEntries(methods.map((method) => [method, outcomes[method].error]))).toEqual(Object.fromEntries(methods.map((method) => [method, undefined])));
    const { pushImgaeToRepo: push, pullImage: pull } = outcomes;
    expect(push.result).toMatchObject({ image: target, digest: expect.stringMatching(/^sha256:[a-f0-9]{64}$/) as string });
    expect(pull.result).toMatchObject({ image: target });
    expect(seen.violations).toEqual([]);
    // The scan caught docker at work, with the password going to stdin, so it could have failed.
    const commands = seen.dockerArgvs.map((argv) => argv.slice(1).join(' '));
    expect(commands).toEqual(expect.arrayContaining([`push ${target}`, `pull ${target}`]));
    expect(commands).toContainEqual(expect.stringMatching(/^login --username AWS --password-stdin 127\.0\.0\.1:\d+$/));
    if (methods.includes('tagImage')) expect(outcomes.tagImage.result).toMatchObject({ tags: [tag, `${tag}-prod`] });
    // And nothing of it reached the activity log either.
    expect(leakedSecrets(Object.values(outcomes).map((outcome) => outcome.output).join('\n'), secrets)).toEqual([]);
    expect(await leftoversSince(before)).toEqual([]);
    expect((await fs.readdir(tmp)).filter((e) => e.startsWith(PRIVATE_CONFIG_PREFIX))).toEqual([]);
  });
});
