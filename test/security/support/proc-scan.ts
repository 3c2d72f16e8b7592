/**
 * Reads what every process on the machine exposes in /proc: its command line (readable by every
 * user) and, for the processes a test cares about, its environment. Used to catch a secret on a
 * command line while an action runs, and to see which DOCKER_CONFIG each docker process used.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  argv: string[];
  /** The raw /proc/<pid>/cmdline (arguments separated by NUL). */
  cmdline: string;
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined; // gone, or a kernel thread we may not read
  }
}

/** Every process right now (synchronous, so one sweep is one consistent-ish look). */
export function listProcesses(): ProcessInfo[] {
  const processes: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const cmdline = readProc(pid, 'cmdline');
    const stat = readProc(pid, 'stat');
    if (cmdline === undefined || stat === undefined) continue;
    // Fields after "(comm)": state, ppid, ...; comm itself may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    processes.push({ pid, ppid, cmdline, argv: cmdline.split('\0').filter((arg, i, all) => arg !== '' || i < all.length - 1) });
  }
  return processes;
}

/** The environment of a process as name → value, or undefined when it cannot be read. */
export function readEnvironment(pid: number): Record<string, string> | undefined {
  const raw = readProc(pid, 'environ');
  if (raw === undefined) return undefined;
  const env: Record<string, string> = {};
  for (const entry of raw.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** The raw environment block (NUL-separated), for searching; '' when unreadable. */
export function readEnvironmentBlock(pid: number): string {
  return readProc(pid, 'environ') ?? '';
}

/** Processes below `root` (children, grandchildren, ...) in one sweep. */
export function descendantsOf(root: number, processes: ProcessInfo[]): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  const parents = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of processes) {
      if (parents.has(p.ppid) && !parents.has(p.pid)) {
        parents.add(p.pid);
        found.push(p);
        grew = true;
      }
    }
  }
  return found;
}

/** Whether this is a docker CLI process (not the daemon, containerd or a shim). */
export function isDockerCli(p: ProcessInfo): boolean {
  return path.basename(p.argv[0] ?? '') === 'docker';
}

export interface Watch {
  /** Stops sweeping; resolves with the number of sweeps made. */
  stop(): Promise<number>;
}

/**
 * Calls `onSweep` with every process, again and again, a couple of milliseconds apart, until
 * stopped. Errors thrown by `onSweep` stop the watch and reject `stop()`.
 */
export function watchProcesses(onSweep: (processes: ProcessInfo[]) => void, intervalMs = 2): Watch {
  let stopped = false;
  let sweeps = 0;
  const loop = (async (): Promise<void> => {
    while (!stopped) {
      onSweep(listProcesses());
      sweeps += 1;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  loop.catch(() => undefined); // reported by stop()
  return {
    async stop() {
      stopped = true;
      await loop;
      return sweeps;
    },
  };
}
