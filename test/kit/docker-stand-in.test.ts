/**
 * The kit's stand-in docker: each mode does what the tests that use it rely on. The real mode,
 * which runs the real CLI after a wait, needs a docker CLI (no engine: `docker --version`).
 */
import execa from 'execa';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installDockerStandIn, type DockerStandIn } from '../../devkit/docker-stand-in';
import { describeWithDocker } from '../support/e2e-environment';

let standIn: DockerStandIn;
let config: string;
beforeEach(async () => {
  config = await fs.mkdtemp(path.join(os.tmpdir(), 'kdk-standin-config-'));
  await fs.writeFile(path.join(config, 'config.json'), '{}');
});
afterEach(async () => {
  await standIn.remove();
  await fs.rm(config, { recursive: true, force: true });
});

const docker = (args: string[], input?: string) =>
  execa('docker', args, { env: { ...process.env, PATH: standIn.path, DOCKER_CONFIG: config }, extendEnv: false, reject: false, input, stdin: input === undefined ? 'ignore' : undefined });

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
