import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A stand-in `docker` executable for unit tests: it records each call (argv,
 * stdin, DOCKER_CONFIG and that directory's config.json at the time) to a
 * JSON-lines file and answers like docker does for the scenario it is given.
 * End-to-end tests use the real CLI and engine instead.
 */
export type FakeDockerScenario = 'ok' | 'daemon-down' | 'no-local-image' | 'unknown-tag' | 'login-denied' | 'slow-push' | 'push-missing';

export interface FakeDockerCall {
  argv: string[];
  stdin: string;
  dockerConfig: string | undefined;
  configJson: string | undefined;
}

export interface FakeDocker {
  /** Directory to put first on PATH. */
  binDir: string;
  calls(): Promise<FakeDockerCall[]>;
  remove(): Promise<void>;
}

export const FAKE_DIGEST = `sha256:${'ab'.repeat(32)}`;

const SCRIPT = String.raw`#!/usr/bin/env node
const fs = require('fs');
const path = require('path');
const argv = process.argv.slice(2);
const scenario = process.env.FAKE_DOCKER_SCENARIO || 'ok';
const localImages = (process.env.FAKE_DOCKER_LOCAL_IMAGES || '').split(',').filter(Boolean);
let stdin = '';
try { if (argv[0] === 'login') stdin = fs.readFileSync(0, 'utf8'); } catch {}
const dockerConfig = process.env.DOCKER_CONFIG;
let configJson;
try { configJson = fs.readFileSync(path.join(dockerConfig, 'config.json'), 'utf8'); } catch {}
fs.appendFileSync(process.env.FAKE_DOCKER_LOG, JSON.stringify({ argv, stdin, dockerConfig, configJson }) + '\n');
const fail = (text) => { process.stderr.write(text + '\n'); process.exit(1); };
if (scenario === 'daemon-down') fail('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?');
const [command] = argv;
const ref = argv[argv.length - 1];
const digest = '${FAKE_DIGEST}';
// The one image the stand-in knows, the names 'tag' gave it, and the repositories it was pushed to.
const imageId = 'sha256:' + '12'.repeat(32);
const stateFile = process.env.FAKE_DOCKER_LOG + '.state.json';
let state = { names: [], pushed: [] };
try { state = JSON.parse(fs.readFileSync(stateFile, 'utf8')); } catch {}
const saveState = (next) => fs.writeFileSync(stateFile, JSON.stringify(next));
switch (command) {
  case 'login': {
    if (scenario === 'login-denied') fail('Error response from daemon: login attempt to https://' + ref + '/v2/ failed with status: 401 Unauthorized');
    const file = path.join(dockerConfig, 'config.json');
    const config = JSON.parse(fs.readFileSync(file, 'utf8'));
    config.auths = { ...(config.auths || {}), [ref]: { auth: Buffer.from(argv[2] + ':' + stdin).toString('base64') } };
    fs.writeFileSync(file, JSON.stringify(config));
    console.log('Login Succeeded');
    break;
  }
  case 'logout': {
    const file = path.join(dockerConfig, 'config.json');
    const config = JSON.parse(fs.readFileSync(file, 'utf8'));
    delete (config.auths || {})[ref];
    fs.writeFileSync(file, JSON.stringify(config));
    console.log('Removing login credentials for ' + ref);
    break;
  }
  case 'image':
    if (scenario === 'no-local-image' || !(localImages.includes(ref) || state.names.includes(ref) || ref === imageId)) fail('Error: No such image: ' + ref);
    console.log(argv.includes('{{json .RepoDigests}}') ? JSON.stringify(ref === imageId ? state.pushed.map((r) => r + '@' + digest) : [ref.replace(/[:@].*$/, '') + '@' + digest]) : imageId);
    break;
  case 'tag':
    saveState({ ...state, names: [...state.names, ref] });
    break;
  case 'rmi':
    saveState({ ...state, names: state.names.filter((name) => name !== ref) });
    break;
  case 'push':
    saveState({ ...state, pushed: [...state.pushed, ref.replace(/:[^:/]*$/, '')] });
    console.log('The push refers to repository [' + ref.replace(/:[^:/]*$/, '') + ']');
    if (scenario === 'push-missing') fail('An image does not exist locally with the tag: ' + ref.replace(/:[^:/]*$/, ''));
    console.log('5f70bf18a086: Pushed');
    if (scenario === 'slow-push') { setTimeout(() => {}, 60000); break; }
    console.log(ref.split(':').pop() + ': digest: ' + digest + ' size: 528');
    break;
  case 'pull':
    if (scenario === 'unknown-tag') fail('Error response from daemon: manifest for ' + ref + ' not found: manifest unknown: manifest unknown');
    console.log(ref.split(':').pop() + ': Pulling from ' + ref);
    console.log('Digest: ' + digest);
    console.log('Status: Downloaded newer image for ' + ref);
    break;
  default:
    fail('fake docker: unexpected command ' + argv.join(' '));
}
`;

export async function installFakeDocker(): Promise<FakeDocker> {
  const binDir = await fs.mkdtemp(path.join(os.tmpdir(), 'fake-docker-'));
  const logFile = path.join(binDir, 'calls.jsonl');
  await fs.writeFile(path.join(binDir, 'docker'), SCRIPT, { mode: 0o755 });
  await fs.writeFile(logFile, '');
  process.env.FAKE_DOCKER_LOG = logFile;
  return {
    binDir,
    async calls() {
      const text = await fs.readFile(logFile, 'utf8');
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as FakeDockerCall);
    },
    remove: () => fs.rm(binDir, { recursive: true, force: true }),
  };
}
