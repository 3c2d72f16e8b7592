/**
 * Local test images made without any network: a single-layer image holding one file of random
 * bytes (so every image is unique and incompressible), built with `tar` and `docker import`.
 */
import execa from 'execa';
import { createWriteStream, promises as fs } from 'fs';
import { randomBytes } from 'crypto';
import * as os from 'os';
import * as path from 'path';
import { once } from 'events';

type Env = Readonly<Record<string, string | undefined>>;

const CHUNK = 1024 * 1024;

async function writeRandomFile(file: string, sizeBytes: number): Promise<void> {
  const out = createWriteStream(file, { mode: 0o644 });
  const failed = once(out, 'error').then(([error]) => Promise.reject(error as Error));
  failed.catch(() => undefined);
  try {
    for (let left = sizeBytes; left > 0; left -= CHUNK) {
      if (!out.write(randomBytes(Math.min(CHUNK, left)))) await Promise.race([once(out, 'drain'), failed]);
    }
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
  } finally {
    out.destroy();
  }
}

/**
 * Creates the image `name` (e.g. 'local/app:1.0') in the engine at `env.DOCKER_HOST`, holding
 * `/payload.bin` of `sizeBytes` random bytes. Returns the image id ('sha256:...').
 */
export async function makeImage(env: Env, name: string, sizeBytes: number): Promise<string> {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) throw new Error(`invalid image size ${sizeBytes}`);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kimg-'));
  try {
    const root = path.join(dir, 'root');
    await fs.mkdir(root);
    await writeRandomFile(path.join(root, 'payload.bin'), sizeBytes);
    const tarball = path.join(dir, 'rootfs.tar');
    await execa('tar', ['--create', '--file', tarball, '--directory', root, '--numeric-owner', '--owner=0', '--group=0', 'payload.bin']);
    const result = await execa('docker', ['import', '--message', 'kaholo-plugin-ecr test image', tarball, name], {
      env: { ...env },
      stdin: 'ignore',
    });
    const id = result.stdout.trim().split('\n').pop() ?? '';
    if (!/^sha256:[0-9a-f]{64}$/.test(id)) throw new Error(`docker import printed no image id: ${JSON.stringify(result.stdout)}`);
    return id;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Removes an image (all its tags when `ref` is an id); a missing image is not an error. */
export async function removeImage(env: Env, ref: string): Promise<void> {
  const result = await execa('docker', ['rmi', '--force', ref], { env: { ...env }, reject: false, stdin: 'ignore' });
  if (result.exitCode !== 0 && !/no such image/i.test(result.stderr)) {
    throw new Error(`docker rmi ${ref} failed: ${result.stderr.trim()}`);
  }
}
