import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_DOCKER_HOST, engineEndpoint } from '../../src/docker/engine-endpoint';

let dir: string;
let configDir: string;
let socket: string;
beforeEach(async () => {
  dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'engine-endpoint-')));
  configDir = path.join(dir, 'docker-config');
  socket = path.join(dir, 'engine.sock');
  await fs.writeFile(socket, ''); // stands for the socket: only its path is looked at
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

/** A context as `docker context create NAME --docker host=HOST` records it. */
async function createContext(name: string, host: string): Promise<void> {
  const metaDir = path.join(configDir, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'));
  await fs.mkdir(metaDir, { recursive: true });
  const meta = { Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } };
  await fs.writeFile(path.join(metaDir, 'meta.json'), JSON.stringify(meta));
}

describe('engineEndpoint: one name per engine, however the agent names it', () => {
  it('DOCKER_HOST through a link to the socket names the socket itself', async () => {
    const alias = path.join(dir, 'alias.sock');
    await fs.symlink(socket, alias);
    expect(engineEndpoint({ DOCKER_HOST: `unix://${alias}` }, configDir, undefined)).toBe(`unix://${socket}`);
    expect(engineEndpoint({ DOCKER_HOST: `unix://${socket}` }, configDir, undefined)).toBe(`unix://${socket}`);
  });

  it('a context, from DOCKER_CONTEXT or from the config, names the engine its record points at', async () => {
    await createContext('builder', `unix://${socket}`);
    const expected = `unix://${socket}`;
    expect(engineEndpoint({ DOCKER_CONTEXT: 'builder' }, configDir, undefined)).toBe(expected);
    expect(engineEndpoint({}, configDir, 'builder')).toBe(expected);
    expect(engineEndpoint({ DOCKER_HOST: `unix://${socket}` }, configDir, undefined)).toBe(expected);
  });

  it('DOCKER_HOST comes before DOCKER_CONTEXT, and DOCKER_CONTEXT before the config, as in the docker CLI', async () => {
    await createContext('one', 'tcp://one.example:2376');
    await createContext('two', 'tcp://two.example:2376');
    expect(engineEndpoint({ DOCKER_HOST: 'tcp://host.example:2375', DOCKER_CONTEXT: 'one' }, configDir, 'two')).toBe('tcp://host.example:2375');
    expect(engineEndpoint({ DOCKER_CONTEXT: 'one' }, configDir, 'two')).toBe('tcp://one.example:2376');
    expect(engineEndpoint({}, configDir, 'two')).toBe('tcp://two.example:2376');
  });

  it('no DOCKER_HOST and no context, or the context "default": the default socket, by its real path', () => {
    const byDefault = engineEndpoint({}, configDir, undefined);
    expect(byDefault).toMatch(/^unix:\/\/\//);
    expect(engineEndpoint({}, configDir, 'default')).toBe(byDefault);
    expect(engineEndpoint({ DOCKER_CONTEXT: 'default' }, configDir, 'other')).toBe(byDefault);
    expect(engineEndpoint({ DOCKER_HOST: DEFAULT_DOCKER_HOST }, configDir, undefined)).toBe(byDefault);
  });

  it('other endpoints as written, less case in the scheme and a trailing slash', () => {
    expect(engineEndpoint({ DOCKER_HOST: 'TCP://Build-Host.example:2376/' }, configDir, undefined)).toBe('tcp://Build-Host.example:2376');
    expect(engineEndpoint({ DOCKER_HOST: 'ssh://ci@build-host' }, configDir, undefined)).toBe('ssh://ci@build-host');
  });

  it('a context with no readable record keeps its name; two unknown contexts stay apart', () => {
    expect(engineEndpoint({ DOCKER_CONTEXT: 'gone' }, configDir, undefined)).toBe('context gone');
    expect(engineEndpoint({ DOCKER_CONTEXT: 'other' }, configDir, undefined)).toBe('context other');
  });
});
