import type { Redactor } from './redact';

/** The action's activity log (the agent shows stdout and stderr); every line passes the redactor. */
export class ActivityLog {
  constructor(private readonly redactor: Redactor) {}

  info(line: string): void {
    process.stdout.write(`${this.redactor.redact(line)}\n`);
  }

  error(line: string): void {
    process.stderr.write(`${this.redactor.redact(line)}\n`);
  }
}
