import type { Redactor } from './redactor';

/**
 * A write to a pipe whose reader went away fails with EPIPE, reported as an
 * 'error' event that would crash the process if nobody listened, before the
 * action could log out, remove its tag and its credentials; the log then goes
 * on silently instead. The mark lives on the stream itself (a global symbol),
 * so the listener is added once per stream however often this module loads.
 */
const CLOSED = Symbol.for('kaholo-plugin-ecr.output-closed');

type GuardedStream = NodeJS.WriteStream & { [CLOSED]?: boolean };

function write(stream: GuardedStream, text: string): void {
  if (stream[CLOSED] === undefined) {
    stream[CLOSED] = false;
    stream.on('error', () => {
      stream[CLOSED] = true;
    });
  }
  if (stream[CLOSED] || stream.destroyed) return;
  try {
    stream.write(text);
  } catch {
    stream[CLOSED] = true;
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
