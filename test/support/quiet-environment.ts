/**
 * The test environment of every project: node's, with what a test writes to stdout and stderr
 * (the plugin's activity log, docker's output) held back and shown only when the test fails.
 * KAHOLO_TEST_VERBOSE=1 shows everything as it comes.
 */
import type { Circus } from '@jest/types';
import NodeEnvironment from 'jest-environment-node';

type Write = typeof process.stdout.write;

export default class QuietEnvironment extends NodeEnvironment {
  private held: string[] = [];
  private restore: (() => void) | undefined;

  handleTestEvent(event: Circus.Event): void {
    if (process.env.KAHOLO_TEST_VERBOSE) return;
    if (event.name === 'test_start') this.hold();
    else if (event.name === 'test_done') this.release(event.test.errors.length > 0, event.test.name);
    // A skipped test (-t, .skip) or a todo starts but never gets test_done: stop holding there too,
    // or what follows (jest's own report, when it runs in this process) is never shown.
    else if (event.name === 'test_skip' || event.name === 'test_todo') this.release(false, event.test.name);
  }

  private hold(): void {
    this.held = [];
    const streams = [process.stdout, process.stderr];
    const originals = streams.map((stream) => stream.write.bind(stream));
    const keep = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      this.held.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as Write;
    for (const stream of streams) stream.write = keep;
    this.restore = () => streams.forEach((stream, i) => (stream.write = originals[i]));
  }

  private release(failed: boolean, name: string): void {
    this.restore?.();
    this.restore = undefined;
    if (failed && this.held.length > 0) {
      process.stderr.write(`\n── output of the failed test "${name}" ──\n${this.held.join('')}\n── end of output ──\n`);
    }
    this.held = [];
  }
}
