/**
 * docker gets the agent's environment without AWS credentials. The agent here holds keys, a
 * session token (and its legacy name), the container credential variables and the web identity
 * ones; the action gives no keys, so the SDK's default chain signs its ECR calls with the
 * environment's keys. During a real push, the kit's stand-in docker holds `login` and `push` at a
 * gate (devkit/stand-ins.ts) while the test reads each docker process's environment from
 * /proc/<pid>/environ (the environment it was started with, which the real CLI it then runs
 * inherits): none of those variables, nor any of their values, may be there; the agent's other
 * variables are.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWithDocker } from '../support/e2e-environment';
import { makeImage, removeImage } from '../../devkit/images';
import { leftoversSince, takeSnapshot } from '../support/leftovers';
import { LOCAL_KEYS, LOCAL_REGION, startLocalEcr, type LocalEcr } from '../../devkit/local-ecr';
import { descendantsOf, dockerArguments, listProcesses, readEnvironment, readEnvironmentBlock } from '../support/processes';
import { agentEnvironment, startAgentAction } from '../../devkit/agent-process';
import { buildStandIns, makeGate, type Gate, type StandInBin } from '../../devkit/stand-ins';
import { sessionToken } from './support/secrets';

jest.setTimeout(90_000);

describeWithDocker('docker child processes get no AWS credentials', (e2e) => {
  let ecr: LocalEcr;
  let tmp: string;
  let bin: StandInBin;
  let gate: Gate | undefined;
  const tag = `env${process.pid}`;
  const localImage = `sec-env/app:${tag}`;
  let target: string;

  beforeAll(async () => {
    ecr = await startLocalEcr({ accounts: 1, startRegistry: (options) => e2e().startRegistry(options) });
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sec-env-'));
    bin = await buildStandIns({ docker: true });
    await makeImage(e2e().env, localImage, 64 * 1024);
    target = `${ecr.registries[0].host}/sec/env:${tag}`;
  });

  afterAll(async () => {
    await removeImage(e2e().env, localImage);
    await removeImage(e2e().env, target);
    await gate?.remove();
    await bin.remove();
    await ecr.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('while a real push runs, no docker process holds a credential variable or its value; the rest of the agent environment passes', async () => {
    const tokenFile = path.join(tmp, 'web-identity-token');
    await fs.writeFile(tokenFile, 'eyJ.web-identity.token');
    const token = sessionToken();
    // Variable → value; the values that are secrets must not show anywhere in docker's environment.
    const credentials: Record<string, string> = {
      AWS_ACCESS_KEY_ID: LOCAL_KEYS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_KEYS.secretAccessKey,
      AWS_SESSION_TOKEN: token,
      AWS_SECURITY_TOKEN: token,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:9/v2/credentials/full-uri-secret-path',
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/relative-uri-secret-path',
      AWS_CONTAINER_AUTHORIZATION_TOKEN: 'container-authorization-token-value',
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: path.join(tmp, 'container-authorization-token'),
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/web-identity-role',
      AWS_ROLE_SESSION_NAME: 'web-identity-session',
    };
    const secretValues = [LOCAL_KEYS.secretAccessKey, token, credentials.AWS_CONTAINER_AUTHORIZATION_TOKEN, 'full-uri-secret-path', 'relative-uri-secret-path'];
    gate = await makeGate(['login', 'push']);
    const env = agentEnvironment({
      ...e2e().env,
      ...ecr.env,
      ...credentials,
      AGENT_OWN_SETTING: 'kept-for-docker',
      TMPDIR: tmp,
      PATH: `${bin.dir}${path.delimiter}${process.env.PATH ?? ''}`,
      ...gate.env,
    });
    const before = await takeSnapshot({ tmpDir: tmp });
    // No keys in the action: the SDK's default chain takes the agent's.
    const agent = startAgentAction({ method: 'pushImgaeToRepo', params: { region: LOCAL_REGION, repoName: 'sec/env', imageName: localImage } }, env);

    const seen: string[] = [];
    for (const subcommand of ['login', 'push']) {
      await gate.reached(subcommand);
      const docker = descendantsOf(agent.pid, listProcesses()).filter((p) => dockerArguments(p)?.some((arg) => arg === subcommand));
      expect(docker).toHaveLength(1);
      const [held] = docker;
      const childEnv = readEnvironment(held.pid) ?? {};
      const block = readEnvironmentBlock(held.pid);
      expect(block).not.toBe(''); // it was read
      expect(Object.keys(childEnv).filter((name) => name in credentials)).toEqual([]);
      expect(secretValues.filter((value) => block.includes(value))).toEqual([]);
      expect(childEnv.AGENT_OWN_SETTING).toBe('kept-for-docker');
      expect(childEnv.DOCKER_CONFIG).toMatch(/kaholo-ecr-/); // the action's private config
      seen.push(subcommand);
      await gate.release(subcommand);
    }
    const outcome = await agent.finished;
    expect(seen).toEqual(['login', 'push']);
    expect(outcome.error).toBeUndefined();
    expect(outcome.result).toMatchObject({ image: target });
    // The keys did reach the plugin itself: its ECR calls were signed with them.
    expect(ecr.endpoint.calls.map((call) => call.accessKeyId)).toContain(LOCAL_KEYS.accessKeyId);
    expect(await leftoversSince(before)).toEqual([]);
  });
});
