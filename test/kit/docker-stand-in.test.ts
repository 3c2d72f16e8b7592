/**
 * The kit's stand-in docker: each mode does what the tests that use it rely on. The real mode,
 * which runs the real CLI after a wait, needs a docker CLI (no engine: `docker --version`).
 * Concurrent actions share its files: a write held half done (support/pause-writes.js) shows
 * that another call reading meanwhile sees a whole file.
 */
import execa from 'execa';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installDockerStandIn, type DockerStandIn } from '../../devkit/docker-stand-in';
import { describeWithDocker } from '../support/e2e-environment';

let standIn: DockerStandIn;
const held: Array<() => Promise<unknown>> = [];
let config: string;
beforeEach(async () => {
  config = await fs.mkdtemp(path.join(os.tmpdir(), 'kdk-standin-config-'));
  await fs.writeFile(path.join(config, 'config.json'), '{}');
});
afterEach(async () => {
  for (const finish of [...held]) await finish(); // a held write a failed test did not let go
  await standIn.remove();
  await fs.rm(config, { recursive: true, force: true });
});

const docker = (args: string[], input?: string, env: Record<string, string> = {}) =>
  execa('docker', args, {
    env: { ...process.env, PATH: standIn.path, DOCKER_CONFIG: config, ...env },
    extendEnv: false,
    reject: false,
    input,
    stdin: input === undefined ? 'ignore' : undefined,
  });

const PAUSE_WRITES = path.join(__dirname, 'support', 'pause-writes.js');
const CREDENTIAL_HELPER = path.join(__dirname, '..', '..', 'devkit', 'bin', 'docker-credential.js');

/**
 * Starts `program` (a stand-in) with its write of `file` held half done: the file it writes
 * emptied, nothing written yet. Resolves once it is held there, with the call that lets it finish.
 */
async function heldWriting(file: string, program: (env: Record<string, string>) => execa.ExecaChildProcess): Promise<() => Promise<execa.ExecaReturnValue>> {
  const gate = await fs.mkdtemp(path.join(os.tmpdir(), 'kdk-pause-'));
  const running = program({ NODE_OPTIONS: `--require ${JSON.stringify(PAUSE_WRITES)}`, PAUSE_WRITE_OF: file, PAUSE_GATE: gate });
  let ended = false;
  void running.finally(() => (ended = true));
  const deadline = Date.now() + 10_000;
  while (!existsSync(path.join(gate, 'paused'))) {
    if (ended || Date.now() > deadline) {
      const result = await running;
      throw new Error(`the write of ${file} was never held: ${result.stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const finish = async (): Promise<execa.ExecaReturnValue> => {
    held.splice(held.indexOf(finish), 1);
    await fs.writeFile(path.join(gate, 'go'), '');
    const result = await running;
    await fs.rm(gate, { recursive: true, force: true });
    return result;
  };
  held.push(finish);
  return finish;
}

test('fake: a login keeps the password read on stdin in the config it was given, and is logged', async () => {
  standIn = await installDockerStandIn({ mode: 'fake' });
  const login = await docker(['login', '--username', 'AWS', '--password-stdin', 'r.example'], 'pw');
  expect(login).toMatchObject({ exitCode: 0, stdout: 'Login Succeeded' });
  const stored = JSON.parse(await fs.readFile(path.join(config, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
  expect(Buffer.from(stored.auths['r.example'].auth, 'base64').toString()).toBe('AWS:pw');
  expect(await standIn.calls()).toMatchObject([{ argv: ['login', '--username', 'AWS', '--password-stdin', 'r.example'], stdin: 'pw', dockerConfig: config }]);
});

test('fake: a scenario set for the calls that follow', async () => {
  standIn = await installDockerStandIn({ mode: 'fake' });
  await standIn.set({ mode: 'fake', scenario: 'daemon-down' });
  const pull = await docker(['pull', 'r.example/app:1']);
  expect(pull.exitCode).toBe(1);
  expect(pull.stderr).toContain('Cannot connect to the Docker daemon');
});

test('leaky: repeats the password of the login in its output, and fails the commands named', async () => {
  standIn = await installDockerStandIn({ mode: 'leaky', fail: ['push'] });
  await docker(['login', '--username', 'AWS', '--password-stdin', 'r.example'], 's3cret');
  const push = await docker(['push', 'r.example/app:1']);
  expect(push.exitCode).toBe(1);
  expect(push.stdout).toContain('password=s3cret again s3cret');
  expect(push.stderr).toContain('https://AWS:s3cret@r.example');
});

test('leaky: a logout rewriting the docker config never shows an image inspect run meanwhile a half-written file', async () => {
  standIn = await installDockerStandIn({ mode: 'leaky' });
  expect((await docker(['login', '--username', 'AWS', '--password-stdin', 'r.example'], 's3cret')).exitCode).toBe(0);
  const finishLogout = await heldWriting(path.join(config, 'config.json'), (env) => docker(['logout', 'r.example'], undefined, env));
  const inspect = await docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', 'r.example/app:1']);
  expect({ exitCode: inspect.exitCode, error: inspect.exitCode === 0 ? undefined : inspect.stderr }).toEqual({ exitCode: 0, error: undefined });
  expect(inspect.stdout).toContain('password=s3cret'); // it read the config as it was before the logout, whole
  expect((await finishLogout()).exitCode).toBe(0);
  expect(JSON.parse(await fs.readFile(path.join(config, 'config.json'), 'utf8'))).toEqual({ auths: {} });
  expect(await fs.readdir(config)).toEqual(['config.json']); // no temporary file left beside it
});

test('fake: a tag rewriting the engine state never shows an image inspect run meanwhile a half-written state', async () => {
  standIn = await installDockerStandIn({ mode: 'fake' });
  const image = `sha256:${'12'.repeat(32)}`;
  expect((await docker(['tag', image, 'r.example/app:1'])).exitCode).toBe(0);
  const finishTag = await heldWriting(path.join(standIn.binDir, 'calls.jsonl.state.json'), (env) => docker(['tag', image, 'r.example/app:2'], undefined, env));
  const inspect = await docker(['image', 'inspect', '--format', '{{.Id}}', 'r.example/app:1']);
  expect({ exitCode: inspect.exitCode, stdout: inspect.stdout, stderr: inspect.stderr }).toEqual({ exitCode: 0, stdout: image, stderr: '' });
  expect((await finishTag()).exitCode).toBe(0);
  expect((await docker(['image', 'inspect', '--format', '{{.Id}}', 'r.example/app:2'])).exitCode).toBe(0); // and the tag took effect
});

test('calls(): a line still being appended is left for the next read', async () => {
  standIn = await installDockerStandIn({ mode: 'fake' });
  expect((await docker(['pull', 'r.example/app:1'])).exitCode).toBe(0);
  await fs.appendFile(path.join(standIn.binDir, 'calls.jsonl'), '{"argv":["pu'); // another call's line, half written
  expect((await standIn.calls()).map((call) => call.argv)).toEqual([['pull', 'r.example/app:1']]);
});

test('credential helper: a store rewriting the store never shows a get run meanwhile a half-written store', async () => {
  standIn = await installDockerStandIn({ mode: 'fake' }); // removed after the test; the store lives in its directory
  const helper = (action: string, input: string, env: Record<string, string> = {}) =>
    execa(process.execPath, [CREDENTIAL_HELPER, action], {
      env: { ...process.env, STANDIN_CRED_STORE: path.join(standIn.binDir, 'store.json'), ...env },
      extendEnv: false,
      reject: false,
      input,
    });
  const credentials = (url: string) => JSON.stringify({ ServerURL: url, Username: 'AWS', Secret: `secret-of-${url}` });
  expect((await helper('store', credentials('a.example'))).exitCode).toBe(0);
  const finishStore = await heldWriting(path.join(standIn.binDir, 'store.json'), (env) => helper('store', credentials('b.example'), env));
  const get = await helper('get', 'a.example');
  expect({ exitCode: get.exitCode, stdout: get.stdout }).toEqual({ exitCode: 0, stdout: credentials('a.example') });
  expect((await finishStore()).exitCode).toBe(0);
  expect((await helper('get', 'b.example')).stdout).toBe(credentials('b.example'));
});

describeWithDocker('real mode (the real docker CLI)', () => {
  test('real: waits for the file named for a subcommand, is logged before it waits, then runs the real CLI', async () => {
    const gate = path.join(config, 'go');
    standIn = await installDockerStandIn({ mode: 'real', waits: { version: gate }, delays: { version: 100 } });
    const running = docker(['version', '--format', '{{.Client.Version}}']);
    let ended = false;
    void running.then(() => (ended = true));
    const call = await standIn.waitForCall('version', 10_000);
    expect(call.argv[0]).toBe('version');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ended).toBe(false); // still waiting for the file
    const before = Date.now();
    await fs.writeFile(gate, '');
    const result = await running;
    expect(Date.now() - before).toBeLessThan(5_000);
    // The real CLI answered (no engine is needed for the client's own version).
    expect(result.stdout).toMatch(/^\d+\.\d+/);
  });

  test('real: a wait has a bound, and the command then fails saying so', async () => {
    standIn = await installDockerStandIn({ mode: 'real', waits: { version: path.join(config, 'never') }, waitMs: 200 });
    const result = await docker(['version']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('did not appear within 200 ms');
  });
});
