#!/usr/bin/env node
'use strict';
/**
 * The kit's stand-in `docker` executable. devkit/docker-stand-in.ts puts it first on PATH (as
 * `docker`, a link in a directory of its own, beside a stand-in.json that picks the mode):
 *
 *   fake   answers as docker would, without an engine, for a scenario (ok, daemon-down,
 *          no-local-image, unknown-tag, login-denied, slow-push, push-missing, push-no-repository
 *          (ECR's answer to a push into a repository it does not have); quiet-pull and
 *          quiet-pull-elsewhere: a pull that prints no digest, after which the engine's record of
 *          the image names this repository's digest, or only another repository's)
 *   leaky  does its worst: repeats the registry password and its base64 auth in its own output,
 *          and in the error text of the commands named in `fail`
 *   real   waits where told (a delay, or until a file exists, per subcommand; or, per action, the
 *          gate its environment names: held before or after the real command until released),
 *          then runs the real docker CLI with the same arguments, stdin, stdout, stderr and exit code
 *
 * Every call is appended to the log as one JSON line (argv, DOCKER_CONFIG and its config.json, DOCKER_HOST,
 * the caller's pid, and, in fake mode, what `login` read on stdin) before any wait, so a test can wait until a
 * chosen step is reached. DEVKIT_DOCKER_SCENARIO, DEVKIT_DOCKER_LOCAL_IMAGES and DEVKIT_DOCKER_FAIL
 * in the environment override the file, for tests that switch per test. Calls of concurrent actions
 * share the docker config and the fake engine's state: those are written whole (devkit/whole-file.js).
 */
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const { readJsonFile, writeWhole } = require('../whole-file');

/**
 * @typedef {{ mode: 'fake' | 'leaky' | 'real', log: string, scenario?: string, localImages?: string[],
 *   fail?: string[], realDocker?: string, delays?: Record<string, number>, waits?: Record<string, string>,
 *   waitMs?: number }} Settings
 */

const DIGEST = `sha256:${'ab'.repeat(32)}`;
/** The one image the fake engine holds, whatever its names. */
const IMAGE_ID = `sha256:${'12'.repeat(32)}`;
const argv = process.argv.slice(2);
const command = argv.find((arg) => !arg.startsWith('-')) ?? '';
const ref = argv[argv.length - 1] ?? '';
// Like the plugin, the stand-in works only in a DOCKER_CONFIG it is given (never the caller's cwd).
const configFile = process.env.DOCKER_CONFIG ? path.join(process.env.DOCKER_CONFIG, 'config.json') : '';

/** @returns {Settings} */
function readSettings() {
  /** @type {unknown} */
  const parsed = JSON.parse(fs.readFileSync(path.join(path.dirname(process.argv[1] ?? ''), 'stand-in.json'), 'utf8'));
  const settings = /** @type {Settings} */ (parsed);
  const env = process.env;
  if (env.DEVKIT_DOCKER_SCENARIO) settings.scenario = env.DEVKIT_DOCKER_SCENARIO;
  if (env.DEVKIT_DOCKER_LOCAL_IMAGES !== undefined) settings.localImages = env.DEVKIT_DOCKER_LOCAL_IMAGES.split(',').filter(Boolean);
  if (env.DEVKIT_DOCKER_FAIL !== undefined) settings.fail = env.DEVKIT_DOCKER_FAIL.split(',').filter(Boolean);
  return settings;
}

/** @returns {{ auths?: Record<string, { auth: string }> } & Record<string, unknown>} */
function readConfig() {
  if (!configFile) fail('stand-in docker: DOCKER_CONFIG is not set');
  /** @type {unknown} */
  const parsed = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  return /** @type {{ auths?: Record<string, { auth: string }> }} */ (parsed);
}

/** @param {string} text @returns {never} */
function fail(text) {
  process.stderr.write(`${text}\n`);
  process.exit(1);
}

/** @param {string} host @param {string} auth */
function storeLogin(host, auth) {
  const config = readConfig();
  config.auths = { ...(config.auths ?? {}), [host]: { auth } };
  writeWhole(configFile, JSON.stringify(config));
}

/** @param {string} host */
function forgetLogin(host) {
  const config = readConfig();
  delete (config.auths ?? {})[host];
  writeWhole(configFile, JSON.stringify(config));
}

/**
 * The fake engine's state across calls: the names `tag` gave its one image, and the repositories
 * it was pushed to (so `image inspect` of the id lists their digests, as an engine does).
 * @param {Settings} settings @returns {{ names: string[], pushed: string[] }}
 */
function readState(settings) {
  /** @type {{ names: string[], pushed: string[] }} */
  const none = { names: [], pushed: [] };
  return readJsonFile(`${settings.log}.state.json`, none);
}

/** @param {Settings} settings @param {{ names: string[], pushed: string[] }} state */
function saveState(settings, state) {
  writeWhole(`${settings.log}.state.json`, JSON.stringify(state));
}

/** @param {Settings} settings @param {string} stdin */
function fake(settings, stdin) {
  const scenario = settings.scenario ?? 'ok';
  const state = readState(settings);
  if (scenario === 'daemon-down') fail('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?');
  const repository = ref.replace(/:[^:/]*$/, '');
  switch (command) {
    case 'login':
      if (scenario === 'login-denied') fail(`Error response from daemon: login attempt to https://${ref}/v2/ failed with status: 401 Unauthorized`);
      storeLogin(ref, Buffer.from(`${argv[2] ?? ''}:${stdin}`).toString('base64'));
      console.log('Login Succeeded');
      break;
    case 'logout':
      forgetLogin(ref);
      console.log(`Removing login credentials for ${ref}`);
      break;
    case 'image': {
      const known = (settings.localImages ?? []).includes(ref) || state.names.includes(ref) || ref === IMAGE_ID;
      if (scenario === 'no-local-image' || !known) fail(`Error: No such image: ${ref}`);
      // The repository the engine records the image's digest for: its own, or in quiet-pull-elsewhere another one.
      const recorded = scenario === 'quiet-pull-elsewhere' ? `${ref.replace(/\/.*$/, '')}/other/repository` : ref.replace(/[:@][^/]*$/, '');
      const digests = ref === IMAGE_ID ? state.pushed.map((r) => `${r}@${DIGEST}`) : [`${recorded}@${DIGEST}`];
      console.log(argv.includes('{{json .RepoDigests}}') ? JSON.stringify(digests) : IMAGE_ID);
      break;
    }
    case 'tag':
      saveState(settings, { ...state, names: [...state.names, ref] });
      break;
    case 'rmi':
      saveState(settings, { ...state, names: state.names.filter((name) => name !== ref) });
      break;
    case 'push':
      saveState(settings, { ...state, pushed: [...state.pushed, repository] });
      console.log(`The push refers to repository [${repository}]`);
      if (scenario === 'push-missing') fail(`An image does not exist locally with the tag: ${repository}`);
      if (scenario === 'push-no-repository') {
        const name = repository.replace(/^[^/]*\//, '');
        fail(`name unknown: The repository with name '${name}' does not exist in the registry with id '123456789012'`);
      }
      console.log('5f70bf18a086: Pushed');
      if (scenario === 'slow-push') {
        setTimeout(() => undefined, 60_000);
        break;
      }
      console.log(`${ref.split(':').pop() ?? ''}: digest: ${DIGEST} size: 528`);
      break;
    case 'pull':
      if (scenario === 'unknown-tag') fail(`Error response from daemon: manifest for ${ref} not found: manifest unknown: manifest unknown`);
      saveState(settings, { ...state, names: [...state.names, ref] });
      console.log(`${ref.split(':').pop() ?? ''}: Pulling from ${ref}`);
      if (!scenario.startsWith('quiet-pull')) console.log(`Digest: ${DIGEST}`);
      console.log(`Status: Downloaded newer image for ${ref}`);
      break;
    default:
      fail(`stand-in docker: unexpected command ${argv.join(' ')}`);
  }
}

/** @param {Settings} settings @param {string} stdin */
function leaky(settings, stdin) {
  const config = readConfig();
  let host = ref;
  let password = '';
  let auth = '';
  if (command === 'login') {
    password = stdin;
    auth = Buffer.from(`${argv[2] ?? ''}:${password}`).toString('base64');
  } else {
    const hosts = Object.keys(config.auths ?? {}).filter((h) => config.auths?.[h]?.auth);
    host = hosts[0] ?? host;
    auth = hosts.length > 0 ? (config.auths?.[host]?.auth ?? '') : '';
    const decoded = Buffer.from(auth, 'base64').toString('utf8');
    password = decoded.slice(decoded.indexOf(':') + 1);
  }
  const leak = `password=${password} again ${password} auth=${auth}`;
  console.log(`stand-in docker ${command}: ${leak}`);
  console.error(`stand-in docker ${command} warning: ${leak}`);
  if ((settings.fail ?? []).includes(command)) {
    fail(`Error response from daemon: Get "https://AWS:${password}@${host}/v2/": unauthorized: ${leak}`);
  }
  if (command === 'login') {
    storeLogin(host, auth);
    console.log('Login Succeeded');
  } else if (command === 'logout') forgetLogin(host);
  else if (command === 'image') {
    // As an engine does, the image knows the repository it was pushed to (recorded by push below).
    const pushed = fs.existsSync(`${configFile}.pushed`) ? fs.readFileSync(`${configFile}.pushed`, 'utf8') : `${host}/x`;
    console.log(argv.includes('{{json .RepoDigests}}') ? JSON.stringify([`${pushed}@${DIGEST}`]) : IMAGE_ID);
  } else if (command === 'push') {
    writeWhole(`${configFile}.pushed`, (argv[1] ?? '').replace(/:[^:/]*$/, ''));
    console.log(`latest: digest: ${DIGEST} size: 528`);
  }
  else if (command === 'pull') console.log(`Digest: ${DIGEST}`);
}

/** Waits as told for this subcommand, bounded by waitMs. @param {Settings} settings */
async function waitAsTold(settings) {
  const delay = settings.delays?.[command] ?? 0;
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  const file = settings.waits?.[command];
  if (!file) return;
  const deadline = Date.now() + (settings.waitMs ?? 30_000);
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) fail(`stand-in docker: ${file} did not appear within ${settings.waitMs ?? 30_000} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A gate of one action, from its environment (devkit/stand-ins.ts makeGate): the subcommands named
 * in STANDIN_HOLD are held before the real command (`push`) or after it (`tag:after`, so it has
 * taken effect when the test acts). On reaching a hold it creates `<STANDIN_GATE_DIR>/<sub>.reached`
 * and goes on once `<sub>.release` exists there, within STANDIN_WAIT_MS (default 60 s).
 * @returns {{ before: boolean, after: boolean, wait: () => Promise<void> }}
 */
function gate() {
  const dir = process.env.STANDIN_GATE_DIR ?? '';
  const hold = (process.env.STANDIN_HOLD ?? '').split(',').find((h) => h.split(':')[0] === command);
  if (dir) fs.appendFileSync(path.join(dir, 'calls.log'), `${argv.join(' ')}\n`);
  const limitMs = Number(process.env.STANDIN_WAIT_MS) || 60_000;
  const wait = async () => {
    fs.writeFileSync(path.join(dir, `${command}.reached`), String(process.pid));
    const deadline = Date.now() + limitMs;
    while (!fs.existsSync(path.join(dir, `${command}.release`))) {
      if (Date.now() > deadline) fail(`stand-in docker: ${command} was never released`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { before: Boolean(dir && hold && !hold.endsWith(':after')), after: Boolean(dir && hold?.endsWith(':after')), wait };
}

/**
 * Runs the real CLI in our place with our stdio, passing SIGTERM, SIGINT and SIGHUP on.
 * @param {string} realDocker @returns {Promise<{ code: number | null, signal: NodeJS.Signals | null }>}
 */
function runReal(realDocker) {
  const child = spawn(realDocker, argv, { stdio: 'inherit' });
  /** @type {Array<[NodeJS.Signals, () => void]>} */
  const forwards = [];
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    const forward = () => void child.kill(signal);
    forwards.push([signal, forward]);
    process.on(signal, forward);
  }
  return new Promise((resolve) => {
    child.on('error', (error) => fail(`stand-in docker: cannot run ${realDocker}: ${error.message}`));
    child.on('exit', (code, signal) => {
      for (const [name, forward] of forwards) process.off(name, forward);
      resolve({ code, signal });
    });
  });
}

/** Waits as told, runs the real CLI, and ends as it ended. @param {Settings} settings */
async function real(settings) {
  // Never `docker` from PATH: that would be this stand-in again.
  const realDocker = process.env.STANDIN_REAL_DOCKER || settings.realDocker;
  if (!realDocker) fail('stand-in docker: no real docker CLI was found when the stand-in was installed');
  const gated = gate();
  await waitAsTold(settings);
  if (gated.before) await gated.wait();
  const { code, signal } = await runReal(realDocker);
  if (gated.after) await gated.wait();
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
}

async function main() {
  const settings = readSettings();
  // The real CLI reads its own stdin (the password of a login): leave it alone in real mode.
  const stdin = settings.mode !== 'real' && command === 'login' ? fs.readFileSync(0, 'utf8') : '';
  const config = configFile && fs.existsSync(configFile) ? fs.readFileSync(configFile, 'utf8') : undefined;
  const call = {
    argv,
    stdin,
    dockerConfig: process.env.DOCKER_CONFIG,
    configJson: config,
    dockerHost: process.env.DOCKER_HOST,
    pid: process.pid,
    ppid: process.ppid,
    at: Date.now(),
  };
  fs.appendFileSync(settings.log, `${JSON.stringify(call)}\n`);
  if (settings.mode === 'fake') fake(settings, stdin);
  else if (settings.mode === 'leaky') leaky(settings, stdin);
  else await real(settings);
}

main().catch((/** @type {unknown} */ error) => fail(`stand-in docker: ${error instanceof Error ? error.message : String(error)}`));
