'use strict';
/**
 * The watchdog of devkit/docker-engine.ts's startSupervised(), run as
 * `node devkit/bin/watchdog.js <spec json>`: it starts the command under coreutils `timeout` (so it
 * stops by itself after its lifetime, whatever else is killed), reports events on stdout as JSON
 * lines, and reads commands on stdin ("stop", "stop-rm"). End-of-file on stdin without a command
 * means the test process is gone: stop and remove the directory. After the command ends it kills
 * leftovers whose argv names the private directory, lazily unmounts what is mounted under it, and
 * removes it when asked to.
 */
const fs = require('fs');
const execa = require('execa');

/**
 * @typedef {{ command: string, args: string[], dir: string, logFile: string, lifetimeSeconds: number,
 *   graceMs: number }} Spec
 */

/** @type {unknown} */
const parsed = JSON.parse(process.argv[process.argv.length - 1] ?? '{}');
const spec = /** @type {Spec} */ (parsed);
process.stdout.on('error', () => undefined);
/** @param {Record<string, unknown>} event */
const report = (event) => {
  try {
    process.stdout.write(`${JSON.stringify(event)}\n`);
  } catch {
    // parent gone
  }
};
const started = Date.now();
const log = fs.openSync(spec.logFile, 'a');
const timeoutArgs = [`--kill-after=${Math.ceil(spec.graceMs / 1000)}s`, '--signal=TERM', `${spec.lifetimeSeconds}s`, spec.command, ...spec.args];
const child = execa('timeout', timeoutArgs, {
  cwd: spec.dir,
  detached: true,
  cleanup: false,
  buffer: false,
  reject: false,
  stdio: ['ignore', log, log],
});
fs.closeSync(log);
const pgid = child.pid;
let stopping = false;
let removeDir = false;
let commanded = false;

/** @param {NodeJS.Signals} signal */
function killGroup(signal) {
  if (!pgid) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone
  }
}

/** @param {boolean} rm */
function stop(rm) {
  if (rm) removeDir = true;
  if (stopping || !pgid) return;
  stopping = true;
  try {
    process.kill(pgid, 'SIGTERM');
  } catch {
    // gone
  }
  setTimeout(() => killGroup('SIGKILL'), spec.graceMs).unref();
}

function killStrays() {
  const marker = `${spec.dir}/`;
  let pids = /** @type {string[]} */ ([]);
  try {
    pids = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  } catch {
    return;
  }
  for (const pid of pids) {
    let argv = '';
    try {
      argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!argv.includes(marker)) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** @param {string} dir */
function unmountUnder(dir) {
  let lines = /** @type {string[]} */ ([]);
  try {
    lines = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  } catch {
    return;
  }
  const points = lines
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(parseInt(String(octal), 8))))
    .filter((point) => point === dir || point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of points) execa.sync('umount', ['-l', point], { reject: false, stdio: 'ignore' });
}

/** @param {number | null} code @param {string | null} signal */
function finish(code, signal) {
  killGroup('SIGKILL');
  killStrays();
  unmountUnder(spec.dir);
  if (Date.now() - started >= spec.lifetimeSeconds * 1000) removeDir = true;
  report({ event: 'exit', code, signal });
  if (removeDir) {
    try {
      fs.rmSync(spec.dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (error) {
      report({ event: 'rm-failed', message: String(error) });
    }
  }
  report({ event: 'done' });
  process.exit(0);
}

if (!pgid) {
  void child.on('error', (error) => {
    report({ event: 'spawn-failed', message: String(error) });
    finish(null, null);
  });
} else {
  report({ event: 'started', pid: pgid });
  void child.on('exit', (code, signal) => finish(code, signal));
}

let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += String(chunk);
  let newline;
  while ((newline = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, newline).trim();
    buffered = buffered.slice(newline + 1);
    if (line === 'stop' || line === 'stop-rm') {
      commanded = true;
      stop(line === 'stop-rm');
    }
  }
});
process.stdin.on('end', () => {
  if (!commanded) stop(true);
});
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => stop(true));
