/**
 * Debian's skopeo, a registry client the plugin did not write: what the tests use to see for
 * themselves what a copy left in a registry, and what the benchmark compares copyImage with.
 * Credentials go in an auth file of a private directory (mode 0700), removed as soon as skopeo is
 * done, never in argv; the kit's registries are plain http, hence --tls-verify=false.
 */
import execa from 'execa';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface SkopeoLogin {
  /** '127.0.0.1:PORT' */
  host: string;
  user: string;
  password: string;
}

const TIMEOUT_MS = 300_000;

/** Runs skopeo with an auth file holding `logins`; its stdout. */
export async function skopeo(args: string[], logins: SkopeoLogin[]): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kskopeo-'));
  try {
    const authfile = path.join(dir, 'auth.json');
    const auths = Object.fromEntries(logins.map((l) => [l.host, { auth: Buffer.from(`${l.user}:${l.password}`).toString('base64') }]));
    await fs.writeFile(authfile, JSON.stringify({ auths }), { mode: 0o600 });
    const [command, ...rest] = args;
    const result = await execa('skopeo', [command, '--authfile', authfile, ...rest], { stdin: 'ignore', timeout: TIMEOUT_MS, reject: false, env: { ...process.env, TMPDIR: dir } });
    if (result.exitCode !== 0) throw new Error(`skopeo ${command} failed (exit ${String(result.exitCode)}): ${result.stderr.trim().slice(-500)}`);
    return result.stdout;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** The manifest a reference names, byte for byte (`skopeo inspect --raw`). */
export async function inspectRaw(login: SkopeoLogin, reference: string): Promise<Buffer> {
  return Buffer.from(await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${login.host}/${reference}`], [login]), 'utf8');
}

/** Whether skopeo finds the reference at all. */
export async function exists(login: SkopeoLogin, reference: string): Promise<boolean> {
  return inspectRaw(login, reference).then(
    () => true,
    () => false,
  );
}

/**
 * Copies every platform of a reference into an OCI layout of a temporary directory, skopeo
 * checking every blob's digest on the way; the digests of the blobs it fetched (the layout is removed).
 */
export async function fetchAll(login: SkopeoLogin, reference: string): Promise<string[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kskopeo-oci-'));
  try {
    await skopeo(['copy', '--all', '--quiet', '--src-tls-verify=false', `docker://${login.host}/${reference}`, `oci:${path.join(dir, 'layout')}:copy`], [login]);
    return (await fs.readdir(path.join(dir, 'layout', 'blobs', 'sha256'))).map((hex) => `sha256:${hex}`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
