import type { Redactor } from './redact';

/**
 * Streams whose reader went away. A write to a closed pipe fails with EPIPE,
 * reported as an 'error' event that would crash the process if nobody
 * listened, before the action could log out, remove its tag and its
 * credentials; the log then goes on silently instead.
 */
const closed = new WeakSet<NodeJS.WriteStream>();
const guarded = new WeakSet<NodeJS.WriteStream>();

function guard(stream: NodeJS.WriteStream): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', () => closed.add(stream));
}

function write(stream: NodeJS.WriteStream, text: string): void {
  guard(stream);
  if (closed.has(stream) || stream.destroyed) return;
  try {
    stream.write(text);
  } catch {
    closed.add(stream);
  }
}

/** The action's activity log (the agent shows stdout and stderr); every line passes the redactor. */
export class ActivityLog {
  constructor(private readonly redactor: Redactor) {}

  info(line: string): void {
    write(process.stdout, `${this.redactor.redact(line)}\n`);
  }

  error(line: string): void {
    write(process.stderr, `${this.redactor.redact(line)}\n`);
  }
}
