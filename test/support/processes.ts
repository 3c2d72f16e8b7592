/**
 * Reads what every process on the machine exposes in /proc: its command line (readable by every
 * user), its parent, and, for the processes a test cares about, its environment. Used to catch a
 * secret on a command line or in an environment while an action runs, to see which docker
 * commands ran and with which DOCKER_CONFIG, and to find docker processes left behind.
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

/**
 * The arguments of a docker CLI process: the real CLI, or the kit's stand-in (a node script named
 * docker); undefined for any other process (the daemon, containerd, a shim).
 */
export function dockerArguments(p: ProcessInfo): string[] | undefined {
  const program = path.basename(p.argv[0] ?? '');
  if (program === 'docker') return p.argv.slice(1);
  if (program === 'node' && path.basename(p.argv[1] ?? '') === 'docker') return p.argv.slice(2);
  return undefined;
}

/** Whether this is a docker CLI process (not the daemon, containerd or a shim). */
export function isDockerCli(p: ProcessInfo): boolean {
  return dockerArguments(p) !== undefined;
}

/** Every running docker CLI process of the machine, as `['docker', ...its arguments]` (the stand-in's too). */
export function dockerCliArgvs(): string[][] {
  return listProcesses().flatMap((p) => {
    const args = dockerArguments(p);
    return args ? [['docker', ...args]] : [];
  });
}

export interface Watch {
  /** Stops sweeping (after one last sweep); resolves with the number of sweeps made. */
  stop(): Promise<number>;
}

/**
 * Calls `onSweep` with every process, again and again, a couple of milliseconds apart, until
 * stopped, and once more then. Errors thrown by `onSweep` stop the watch and reject `stop()`.
 */
export function watchProcesses(onSweep: (processes: ProcessInfo[]) => void, intervalMs = 2): Watch {
  let stopped = false;
  let sweeps = 0;
  const sweep = (): void => {
    onSweep(listProcesses());
    sweeps += 1;
  };
  const loop = (async (): Promise<void> => {
    while (!stopped) {
      sweep();
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  loop.catch(() => undefined); // reported by stop()
  return {
    async stop() {
      stopped = true;
      await loop;
      sweep();
      return sweeps;
    },
  };
}

/** A value that must never show, and the name to report it by. */
export interface NamedSecret {
  name: string;
  value: string;
}

export interface SecretWatchReport {
  sweeps: number;
  /** Each distinct docker CLI command line seen below the roots, its program given as plain `docker`. */
  dockerArgvs: string[][];
  /** Where a secret showed: on any process's command line, or in the environment of a process below the roots. */
  violations: string[];
}

/**
 * Watches every process's command line, and the environment of every process below `roots()`
 * (the processes that run the actions: this process for an action run in-process, or the agent
 * processes), for `secrets`, every couple of milliseconds until stopped. Also records the docker
 * commands run below the roots, so a test can show that the watch saw the action at work.
 */
export interface SecretWatch {
  /** Resolves once a docker `subcommand` below `root` was seen; rejects after `timeoutMs`. */
  sawDocker(root: number, subcommand: string, timeoutMs: number): Promise<void>;
  stop(): Promise<SecretWatchReport>;
}

export function watchForSecrets(secrets: NamedSecret[], roots: () => Iterable<number>): SecretWatch {
  const leaked = (text: string): string[] => secrets.filter((s) => s.value !== '' && text.includes(s.value)).map((s) => s.name);
  const violations = new Set<string>();
  const docker = new Map<string, string[]>();
  const subcommandsBelow = new Map<number, Set<string>>();
  const watch = watchProcesses((processes) => {
    for (const p of processes) {
      const inArgv = leaked(p.cmdline);
      if (inArgv.length > 0) violations.add(`pid ${p.pid} argv ${JSON.stringify(p.argv)} holds ${inArgv.join(', ')}`);
    }
    for (const root of roots()) {
      for (const p of descendantsOf(root, processes)) {
        const args = dockerArguments(p);
        if (args) {
          docker.set(args.join('\0'), ['docker', ...args]);
          const seen = subcommandsBelow.get(root) ?? new Set<string>();
          subcommandsBelow.set(root, seen.add(args.find((a) => !a.startsWith('-')) ?? ''));
        }
        const inEnvironment = leaked(readEnvironmentBlock(p.pid));
        if (inEnvironment.length > 0) violations.add(`pid ${p.pid} (${p.argv.join(' ')}) environment holds ${inEnvironment.join(', ')}`);
      }
    }
  });
  return {
    async sawDocker(root, subcommand, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!subcommandsBelow.get(root)?.has(subcommand)) {
        if (Date.now() > deadline) throw new Error(`the watch saw no docker ${subcommand} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async stop() {
      const sweeps = await watch.stop();
      return { sweeps, dockerArgvs: [...docker.values()], violations: [...violations] };
    },
  };
}
