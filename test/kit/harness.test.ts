/**
 * Proves the real-parts harness: engine, registry with htpasswd auth, images made offline.
 * Skips with one line without Docker; fails under CI=true.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { describeWithDocker } from '../support/e2e-environment';
import { httpStatus, type Registry } from '../../devkit/registry';
import { makeImage, removeImage } from '../../devkit/images';
import { DOCKER_MANIFEST } from '../../src/registry/media-types';

jest.setTimeout(60_000);

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function manifestStatus(registry: Registry, password: string, repository: string, tag: string): Promise<number | undefined> {
  const url = new URL(`${registry.url}/v2/${repository}/manifests/${tag}`);
  url.username = registry.user;
  url.password = password;
  return httpStatus(url.toString(), { headers: { Accept: DOCKER_MANIFEST } });
}

describeWithDocker('test harness (real Docker engine and registry)', (e2e) => {
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  let registry: Registry;
  let dockerConfig: string;
  let env: Record<string, string>;
  const localName = `local/harness-${process.pid}:1.0`;

  const login = (pass: string) =>
    execa('docker', ['login', '--username', registry.user, '--password-stdin', registry.host], {
      env,
      input: pass,
      reject: false,
    });

  beforeAll(async () => {
    registry = await e2e().startRegistry({ password });
    dockerConfig = await fs.mkdtemp(path.join(os.tmpdir(), 'kcfg-'));
    await fs.chmod(dockerConfig, 0o700);
    env = { ...e2e().env, DOCKER_CONFIG: dockerConfig };
  });

  afterAll(async () => {
    await removeImage(e2e().env, localName);
    await removeImage(e2e().env, `${registry.host}/harness/app:1.0`);
    await fs.rm(dockerConfig, { recursive: true, force: true });
  });

  test('the engine answers docker version', async () => {
    const { stdout } = await execa('docker', ['version', '--format', '{{.Server.Version}}'], { env: e2e().env });
    expect(stdout.trim()).toMatch(/^\d+\.\d+/);
  });

  test('the registry listens on 127.0.0.1 and asks for credentials', async () => {
    expect(registry.url).toBe(`http://${registry.host}`);
    expect(registry.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await httpStatus(`${registry.url}/v2/`)).toBe(401);
  });

  test('docker login rejects a wrong password and accepts the right one', async () => {
    const wrong = await login(`${password}-wrong`);
    expect(wrong.exitCode).not.toBe(0);
    expect(`${wrong.stdout}\n${wrong.stderr}`).toMatch(/unauthorized|401|incorrect/i);

    const right = await login(password);
    expect(right.stderr).not.toContain(password);
    expect(right.exitCode).toBe(0);
    const config = await fs.readFile(path.join(dockerConfig, 'config.json'), 'utf8');
    expect(config).toContain(registry.host);
  });

  test('an image made offline can be tagged and pushed', async () => {
    const id = await makeImage(e2e().env, localName, 1024 * 1024);
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const target = `${registry.host}/harness/app:1.0`;
    await execa('docker', ['tag', localName, target], { env });
    const push = await execa('docker', ['push', target], { env, reject: false });
    expect(push.stderr).toBe('');
    expect(push.exitCode).toBe(0);
    expect(push.stdout).toMatch(/digest: sha256:[0-9a-f]{64}/);
    expect(await manifestStatus(registry, password, 'harness/app', '1.0')).toBe(200);
  });

  test('setPassword rotates the credentials', async () => {
    const next = `${password}-2`;
    await registry.setPassword(next);
    expect((await login(password)).exitCode).not.toBe(0);
    expect((await login(next)).exitCode).toBe(0);
    await registry.setPassword(password);
    expect((await login(password)).exitCode).toBe(0);
  });

  test('after stop() the port refuses connections; start() brings it back with its data', async () => {
    const port = Number(registry.host.split(':')[1]);
    await registry.stop();
    expect(registry.running()).toBe(false);
    expect(await connects(port)).toBe(false);

    await registry.start();
    expect(await connects(port)).toBe(true);
    expect(await manifestStatus(registry, password, 'harness/app', '1.0')).toBe(200);
  });

  test('dispose() stops it and removes its directory', async () => {
    const port = Number(registry.host.split(':')[1]);
    await registry.dispose();
    expect(await connects(port)).toBe(false);
    await expect(fs.access(registry.dir)).rejects.toThrow();
  });
});
