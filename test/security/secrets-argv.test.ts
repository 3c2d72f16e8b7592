/**
 * Issue 4, item 1 — no secret in argv: while a real push and a real pull run (agent-style, in a
 * node process of their own, against the real engine and registry), every process's command line
 * is read from /proc every few milliseconds. None may contain the registry password, its base64
 * token, the secret key or the session token; nor may the environment of any process the action
 * started. The scan must have seen docker login, push and pull at work, or it proves nothing.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWithDocker } from '../support/e2e-environment';
import { makeImage, removeImage } from '../support/images';
import { LOCAL_KEYS, LOCAL_REGION, startLocalEcr, type LocalEcr } from '../support/local-ecr';
import { agentEnvironment, startAgentAction, type AgentOutcome } from './support/agent-process';
import { ownLeftovers, ownSnapshot } from './support/own-leftovers';
import { descendantsOf, isDockerCli, readEnvironmentBlock, watchProcesses, type ProcessInfo } from './support/proc-scan';
import { leakedSecrets, registrySecrets, sessionToken, type Secret } from './support/secrets';

jest.setTimeout(90_000);

describeWithDocker('no secret in any process argv while push and pull run', (e2e) => {
  let ecr: LocalEcr;
  let tmp: string;
  let secrets: Secret[];
  const token = sessionToken();
  const tag = `t${process.pid}`;
  const localImage = `sec-argv/app:${tag}`;
  let target: string;

  beforeAll(async () => {
    ecr = await startLocalEcr({ accounts: 1, startRegistry: (options) => e2e().startRegistry(options) });
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sec-argv-'));
    // Big enough that docker push and pull run for a while (compressing and sending 16 MB).
    await makeImage(e2e().env, localImage, 16 * 1024 * 1024);
    target = `${ecr.registries[0].host}/sec/argv:${tag}`;
  });

  afterAll(async () => {
    await removeImage(e2e().env, localImage);
    await removeImage(e2e().env, target);
    await ecr.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('push and pull: no password, token, secret key or session token on any command line', async () => {
    // The password is known only to the endpoint and the registry: learn it the way a user would.
    const env = agentEnvironment({ ...e2e().env, ...ecr.env, TMPDIR: tmp });
    const params = { ...LOCAL_KEYS, sessionToken: token, region: LOCAL_REGION, repoName: 'sec/argv' };
    const login = await startAgentAction({ method: 'getEcrLogin', params }, env).finished;
    const password = (login.result as { authorizationData: Array<{ decodedToken: { password: string } }> }).authorizationData[0]
      .decodedToken.password;
    secrets = [{ name: 'secret key', value: LOCAL_KEYS.secretAccessKey }, { name: 'session token', value: token }, ...registrySecrets(password)];

    const violations = new Set<string>();
    const dockerSeen = new Map<string, number>();
    const agents = new Set<number>();
    const check = (processes: ProcessInfo[]): void => {
      for (const p of processes) {
        const leaked = leakedSecrets(p.cmdline, secrets);
        if (leaked.length > 0) violations.add(`pid ${p.pid} argv ${JSON.stringify(p.argv)} holds ${leaked.join(', ')}`);
      }
      for (const agent of agents) {
        for (const p of descendantsOf(agent, processes)) {
          if (isDockerCli(p)) {
            const command = p.argv.slice(1).join(' ');
            dockerSeen.set(command, (dockerSeen.get(command) ?? 0) + 1);
          }
          const leaked = leakedSecrets(readEnvironmentBlock(p.pid), secrets);
          if (leaked.length > 0) violations.add(`pid ${p.pid} (${p.argv.join(' ')}) environment holds ${leaked.join(', ')}`);
        }
      }
    };

    const before = await ownSnapshot(tmp);
    const watch = watchProcesses(check);
    let push: AgentOutcome;
    let pull: AgentOutcome;
    try {
      const pushing = startAgentAction({ method: 'pushImgaeToRepo', params: { ...params, imageName: localImage } }, env);
      agents.add(pushing.pid);
      push = await pushing.finished;
      // Make the pull download the layer rather than find it.
      await removeImage(e2e().env, localImage);
      const pulling = startAgentAction({ method: 'pullImage', params: { ...params, imageName: tag } }, env);
      agents.add(pulling.pid);
      pull = await pulling.finished;
    } finally {
      const sweeps = await watch.stop();
      expect(sweeps).toBeGreaterThan(20);
    }

    expect({ push: push.error, pull: pull.error }).toEqual({ push: undefined, pull: undefined });
    expect(push.result).toMatchObject({ image: target, digest: expect.stringMatching(/^sha256:[a-f0-9]{64}$/) as string });
    expect(pull.result).toMatchObject({ image: target });
    expect([...violations]).toEqual([]);
    // The scan caught docker at work, with the password going to stdin, so it could have failed.
    const seen = [...dockerSeen.keys()];
    expect(seen).toEqual(expect.arrayContaining([`push ${target}`, `pull ${target}`]));
    expect(seen).toContainEqual(expect.stringMatching(/^login --username AWS --password-stdin 127\.0\.0\.1:\d+$/));
    // And nothing of it reached the activity log either.
    expect(leakedSecrets(push.output + pull.output, secrets)).toEqual([]);
    expect(await ownLeftovers(tmp, before)).toEqual([]);
    expect((await fs.readdir(tmp)).filter((e) => e.startsWith('kaholo-ecr-'))).toEqual([]);
  });
});
