/**
 * A real forward proxy for the tests: Debian's `tinyproxy`, on 127.0.0.1 only, with its own config
 * and log in a private temporary directory, optionally demanding basic auth. Its log is the proof
 * of which requests went through it: tinyproxy writes one `Request` line per proxied request
 * (`GET http://host:port/path`) and one `CONNECT host:port` request line per tunnel.
 *
 * It runs under the same watchdog as the registry (docker-engine.ts): it stops by itself after its
 * lifetime, and when the test process dies.
 */
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { findExecutable, startSupervised, waitFor, type Availability, type Supervised } from './docker-engine';
import { freePort } from './ports';

export interface TinyproxyOptions {
  /** Demand basic auth with this user and password (tinyproxy's BasicAuth). */
  auth?: { user: string; password: string };
}

export interface Tinyproxy {
  /** 'http://127.0.0.1:PORT' (no credentials). */
  readonly url: string;
  readonly port: number;
  /** The request lines tinyproxy logged so far, such as 'POST http://127.0.0.1:4000/ HTTP/1.1'. */
  requests(): Promise<string[]>;
  /** Stops it and removes its directory. Idempotent. */
  dispose(): Promise<void>;
}

const LIFETIME_SECONDS = 1800;
const START_TIMEOUT_MS = 15_000;

async function tinyproxyBinary(): Promise<string | undefined> {
  return findExecutable('tinyproxy');
}

export async function tinyproxyAvailability(): Promise<Availability> {
  return (await tinyproxyBinary()) ? { ok: true } : { ok: false, reason: 'tinyproxy is not installed (apt-get install tinyproxy)' };
}

/** Whether tinyproxy is installed where Debian puts it (synchronous, for test gating). */
export function tinyproxyInstalled(): boolean {
  return ['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy', '/usr/local/bin/tinyproxy'].some((file) => existsSync(file));
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000, () => socket.destroy());
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

function config(dir: string, port: number, options: TinyproxyOptions): string {
  const q = (s: string): string => JSON.stringify(s);
  const lines = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 30',
    `LogFile ${q(path.join(dir, 'tinyproxy.log'))}`,
    'LogLevel Connect',
    'MaxClients 20',
    'Allow 127.0.0.1',
    // CONNECT to any port (the tests' endpoints are on random ports).
    'DisableViaHeader Yes',
  ];
  if (options.auth) {
    if (/\s/.test(options.auth.user) || /\s/.test(options.auth.password)) throw new Error('tinyproxy basic auth takes no whitespace');
    lines.push(`BasicAuth ${options.auth.user} ${options.auth.password}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<Tinyproxy> {
  const binary = await tinyproxyBinary();
  if (!binary) throw new Error('Cannot start a proxy: tinyproxy is not installed');
  const dir = await fs.mkdtemp('/tmp/ktinyproxy-');
  const logFile = path.join(dir, 'tinyproxy.log');
  let proc: Supervised | undefined;
  let port = 0;
  try {
    // The port is free when we look, but may be taken before tinyproxy binds it: retry.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      await fs.writeFile(path.join(dir, 'tinyproxy.conf'), config(dir, port, options), { mode: 0o600 });
      const current = await startSupervised({
        command: binary,
        args: ['-d', '-c', path.join(dir, 'tinyproxy.conf')],
        dir,
        logFile: path.join(dir, 'stdout.log'),
        lifetimeSeconds: LIFETIME_SECONDS,
        graceMs: 2_000,
      });
      proc = current;
      try {
        await waitFor(() => accepts(port), { timeoutMs: START_TIMEOUT_MS, what: `tinyproxy on 127.0.0.1:${port}`, stillRunning: () => current.running(), logFile, intervalMs: 50 });
        break;
      } catch (error) {
        await current.stop(false);
        if (attempt >= 3) throw error;
      }
    }
  } catch (error) {
    await proc?.stop(true);
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
  const running = proc;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async requests() {
      const text = await fs.readFile(logFile, 'utf8').catch(() => '');
      return text.split('\n').flatMap((line) => {
        const match = /\]: Request \(file descriptor \d+\): (.+)$/.exec(line);
        return match ? [match[1].trim()] : [];
      });
    },
    async dispose() {
      await running.stop(true);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
