import { readFileSync } from 'node:fs';

/**
 * A process as the kernel knows it: its pid and when it started. A pid alone
 * is reused once its process is gone; with the start time, a running process
 * that merely got the same pid is not mistaken for the one that is gone.
 */
export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot (from /proc), or "0" where the platform does not tell. */
  start: string;
}

let self: ProcessIdentity | undefined;

export function currentProcess(): ProcessIdentity {
  self ??= { pid: process.pid, start: startTimeOf(process.pid) ?? '0' };
  return self;
}

/** True while the process that had this identity still runs (a zombie no longer does). */
export function isRunning(identity: ProcessIdentity): boolean {
  const start = startTimeOf(identity.pid);
  if (start !== undefined) return identity.start === '0' || start === identity.start;
  if (procAvailable()) return false;
  // No /proc: only whether some process has that pid can be told.
  try {
    process.kill(identity.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat (after the command name, which may hold spaces and parentheses). */
function startTimeOf(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined; // exited, not yet reaped
  return fields[19];
}

function procAvailable(): boolean {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}
