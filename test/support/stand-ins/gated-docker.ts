/**
 * A `docker` stand-in for races and faults with deterministic timing: it runs
 * the real docker CLI (STANDIN_REAL_DOCKER, else the next docker on PATH), but holds the subcommands named
 * in STANDIN_HOLD (comma-separated, e.g. "push", "tag:after", "rmi") until the
 * test says go. Holding "before" waits ahead of the real command; ":after"
 * runs it first and then waits, so the command has taken effect when the test
 * acts. On reaching a hold it creates `<STANDIN_GATE_DIR>/<subcommand>.reached`;
 * it goes on once `<subcommand>.release` exists there. Every call is logged to
 * `<STANDIN_GATE_DIR>/calls.log`. SIGTERM is passed on to the real docker.
 *
 * Built into an executable by stand-ins.ts; nothing else imports it.
 */
import { spawn } from 'node:child_process';
import { accessSync, appendFileSync, constants, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const gateDir = process.env.STANDIN_GATE_DIR ?? '';
const realDocker = process.env.STANDIN_REAL_DOCKER ?? findRealDocker();
const waitLimitMs = Number(process.env.STANDIN_WAIT_MS) || 60_000;
const subcommand = args[0] ?? '';
const holds = (process.env.STANDIN_HOLD ?? '').split(',').filter(Boolean);
const hold = holds.find((h) => h.split(':')[0] === subcommand);
const holdAfter = hold?.endsWith(':after') ?? false;

if (gateDir) appendFileSync(path.join(gateDir, 'calls.log'), `${args.join(' ')}\n`);

/** The first docker on PATH that is not this stand-in (never itself: that would recurse). */
function findRealDocker(): string {
  const own = path.dirname(process.argv[1] ?? '');
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== '' && path.resolve(d) !== path.resolve(own))) {
    try {
      accessSync(path.join(dir, 'docker'), constants.X_OK);
      return path.join(dir, 'docker');
    } catch {
      // not here
    }
  }
  process.stderr.write('stand-in docker: no real docker on PATH\n');
  return process.exit(127);
}

/** Marks the hold reached, then resolves once the test releases it (bounded). */
function waitForRelease(): Promise<void> {
  writeFileSync(path.join(gateDir, `${subcommand}.reached`), String(process.pid));
  const release = path.join(gateDir, `${subcommand}.release`);
  const deadline = Date.now() + waitLimitMs;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (existsSync(release)) resolve();
      else if (Date.now() > deadline) reject(new Error(`stand-in docker: ${subcommand} was never released`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}

function runReal(): Promise<number> {
  const child = spawn(realDocker, args, { stdio: 'inherit' });
  const forward = (): void => {
    child.kill('SIGTERM');
  };
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 128 + 15 : 1));
    });
  });
}

async function main(): Promise<number> {
  if (hold && !holdAfter) await waitForRelease();
  const code = await runReal();
  if (hold && holdAfter) await waitForRelease();
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  },
);
