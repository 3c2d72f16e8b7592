/**
 * The scripts the benchmarks run in fresh `node -e` processes. Their input comes through the
 * environment (BENCH_INPUT, JSON), never argv, since it carries the local secret key; they delete
 * it before calling the plugin, so docker never inherits it. Results come back on marked lines.
 */

export const RESULT_MARK = '@@bench-result ';
export const RSS_MARK = '@@bench-rss ';
export const PHASES_MARK = '@@bench-phases ';
export const SCALE_MARK = '@@bench-scale ';

/** What ACTION_CHILD and PHASE_CHILD read from BENCH_INPUT. */
export interface ActionInput {
  /** Absolute path of the module to require (config.json's main, or a variant of it). */
  main: string;
  /** A method (called as the agent does) or an autocomplete function. */
  kind: 'method' | 'autocomplete';
  name: string;
  params: Record<string, unknown>;
  settings: Record<string, unknown>;
}

/**
 * One plugin action in a fresh process, as the Kaholo agent runs it: require the module, call
 * `exports[name]({ method: { name }, params }, settings)`, print the result. Also reports its peak
 * RSS at exit (one line on stderr, after everything else).
 */
export const ACTION_CHILD = String.raw`'use strict';
const input = JSON.parse(process.env.BENCH_INPUT);
delete process.env.BENCH_INPUT;
process.on('exit', () => { process.stderr.write('\n${RSS_MARK}' + process.resourceUsage().maxRSS + '\n'); });
const plugin = require(input.main);
const call = input.kind === 'method'
  ? plugin[input.name]({ method: { name: input.name }, params: input.params }, input.settings)
  : plugin[input.name]('', [], []);
call.then(
  (result) => { process.stdout.write('\n${RESULT_MARK}' + JSON.stringify(result) + '\n'); },
  (error) => { process.stderr.write('bench child: ' + ((error && error.message) || String(error)) + '\n'); process.exitCode = 1; },
);
`;

/** `node -e 0` with only what it takes to report its boot and exit times, for the breakdown's first column. */
export const BARE_PHASE_CHILD = String.raw`const b = performance.now(); process.on('exit', () => process.stderr.write('\n${PHASES_MARK}' + JSON.stringify({ boot: b, requireMain: 0, lazyLoad: 0, setup: 0, request: 0, after: 0, exitAt: performance.now(), modules: 0, moduleBytes: 0 }) + '\n'));`;

/** Phases (ms) of one instrumented cold run, as PHASE_CHILD and SDK_CHILD report them. */
export interface Phases {
  /** From process start (performance.timeOrigin) to the first line of the script. */
  boot: number;
  /** require() of the plugin's main (everything it loads eagerly). */
  requireMain: number;
  /** Modules loaded during the method, before its first HTTP request (the lazy import of the SDK). */
  lazyLoad: number;
  /** In the method before the first request, less lazyLoad: client construction, region and
   * credential resolution, endpoint rules, serialization, signing (first-call JIT included). */
  setup: number;
  /** First HTTP request: from its creation to the end of the response body. */
  request: number;
  /** From the end of the response to the method's result (deserialization, the plugin's own work). */
  after: number;
  /** performance.now() at exit. */
  exitAt: number;
  /** Modules in require.cache at exit, and their total size on disk. */
  modules: number;
  moduleBytes: number;
  /** Bare SDK child only: the split of setup. */
  sdk?: { construct: number; region: number; credentials: number };
}

const PHASE_PROBES = String.raw`
const now = () => performance.now();
const bootAt = now();
const Module = require('module');
let depth = 0, loading = 0;
const originalLoad = Module._load;
Module._load = function (...args) {
  const start = depth === 0 ? now() : 0;
  depth++;
  try { return originalLoad.apply(this, args); } finally { depth--; if (depth === 0) loading += now() - start; }
};
const dc = require('diagnostics_channel');
let requestAt, responseEndAt, loadingAtRequest;
dc.subscribe('http.client.request.start', () => { if (requestAt === undefined) { requestAt = now(); loadingAtRequest = loading; } });
dc.subscribe('http.client.response.finish', (message) => {
  if (responseEndAt !== undefined || !message || !message.response) return;
  message.response.once('end', () => { if (responseEndAt === undefined) responseEndAt = now(); });
});
const moduleStats = () => {
  const fs = require('fs');
  const files = Object.keys(require.cache);
  let bytes = 0;
  for (const file of files) { try { bytes += fs.statSync(file).size; } catch (_) { /* not a file */ } }
  return { modules: files.length, moduleBytes: bytes };
};
`;

/**
 * ACTION_CHILD with probes: module loading (Module._load, outermost calls), the first HTTP
 * request (diagnostics_channel, which loads nothing), and the method's own span. Used only for the
 * breakdown; the timed runs use ACTION_CHILD, which has no probes.
 */
export const PHASE_CHILD = String.raw`'use strict';
${PHASE_PROBES}
const input = JSON.parse(process.env.BENCH_INPUT);
delete process.env.BENCH_INPUT;
const requireStart = now();
const plugin = require(input.main);
const requireMain = now() - requireStart;
const loadingAfterMain = loading;
const callStart = now();
let phases;
plugin[input.name]({ method: { name: input.name }, params: input.params }, input.settings).then(
  () => {
    const done = now();
    const lazyLoad = (loadingAtRequest ?? loading) - loadingAfterMain;
    phases = {
      boot: bootAt, requireMain, lazyLoad,
      setup: (requestAt ?? done) - callStart - lazyLoad,
      request: requestAt === undefined ? 0 : (responseEndAt ?? done) - requestAt,
      after: done - (responseEndAt ?? requestAt ?? done),
    };
  },
  (error) => { process.stderr.write('bench child: ' + ((error && error.message) || String(error)) + '\n'); process.exitCode = 1; },
);
process.on('exit', () => {
  if (!phases) return;
  process.stderr.write('\n${PHASES_MARK}' + JSON.stringify({ ...phases, exitAt: now(), ...moduleStats() }) + '\n');
});
`;

/** A push action's timeline, as PUSH_PHASE_CHILD reports it (ms since process start). */
export interface PushTimeline {
  boot: number;
  requireMain: number;
  /** The first HTTP request (GetAuthorizationToken): start and end of its response body. */
  requestAt?: number;
  responseEndAt?: number;
  /** Every process the plugin started: its first two argv words, spawn and exit times. */
  processes: { name: string; start: number; end?: number }[];
  doneAt: number;
  exitAt: number;
}

/**
 * ACTION_CHILD for a method, with probes for a timeline: the HTTP request (diagnostics_channel)
 * and every child process (ChildProcess.prototype.spawn, which execa goes through).
 */
export const PUSH_PHASE_CHILD = String.raw`'use strict';
const now = () => performance.now();
const bootAt = now();
const dc = require('diagnostics_channel');
let requestAt, responseEndAt;
dc.subscribe('http.client.request.start', () => { if (requestAt === undefined) requestAt = now(); });
dc.subscribe('http.client.response.finish', (message) => {
  if (responseEndAt !== undefined || !message || !message.response) return;
  message.response.once('end', () => { if (responseEndAt === undefined) responseEndAt = now(); });
});
const { ChildProcess } = require('child_process');
const processes = [];
const originalSpawn = ChildProcess.prototype.spawn;
ChildProcess.prototype.spawn = function (options) {
  const entry = { name: [require('path').basename(String(options.file)), ...(options.args || []).slice(1, 3)].join(' '), start: now() };
  processes.push(entry);
  this.once('exit', () => { entry.end = now(); });
  return originalSpawn.call(this, options);
};
const input = JSON.parse(process.env.BENCH_INPUT);
delete process.env.BENCH_INPUT;
const requireStart = now();
const plugin = require(input.main);
const requireMain = now() - requireStart;
let doneAt;
plugin[input.name]({ method: { name: input.name }, params: input.params }, input.settings).then(
  () => { doneAt = now(); },
  (error) => { process.stderr.write('bench child: ' + ((error && error.message) || String(error)) + '\n'); process.exitCode = 1; },
);
process.on('exit', () => {
  if (doneAt === undefined) return;
  process.stderr.write('\n${PHASES_MARK}' + JSON.stringify({ boot: bootAt, requireMain, requestAt, responseEndAt, processes, doneAt, exitAt: now() }) + '\n');
});
`;

export interface SdkInput {
  /** Resolved path of @aws-sdk/client-ecr. */
  sdk: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/**
 * The bare SDK doing what describeRepositories does for one page, with each step timed: require
 * the SDK, construct the client, resolve region and credentials, send. The floor the plugin stands on.
 */
export const SDK_CHILD = String.raw`'use strict';
${PHASE_PROBES}
const input = JSON.parse(process.env.BENCH_INPUT);
delete process.env.BENCH_INPUT;
const t0 = now();
const sdk = require(input.sdk);
const t1 = now();
const client = new sdk.ECRClient({ region: input.region, credentials: input.credentials });
const t2 = now();
let phases;
(async () => {
  await client.config.region();
  const t3 = now();
  await client.config.credentials();
  const t4 = now();
  const loadingBeforeSend = loading;
  const pages = sdk.paginateDescribeRepositories({ client, pageSize: 1000 }, {});
  let count = 0;
  for await (const page of pages) count += (page.repositories || []).length;
  const done = now();
  const lazyLoad = (loadingAtRequest ?? loading) - loadingBeforeSend;
  phases = {
    boot: bootAt, requireMain: t1 - t0, lazyLoad,
    setup: (requestAt ?? done) - t4 - lazyLoad,
    request: (responseEndAt ?? done) - (requestAt ?? done),
    after: done - (responseEndAt ?? done),
    sdk: { construct: t2 - t1, region: t3 - t2, credentials: t4 - t3 },
  };
  process.stdout.write('${RESULT_MARK}' + JSON.stringify({ count }) + '\n');
})().catch((error) => { process.stderr.write('bench child: ' + ((error && error.message) || String(error)) + '\n'); process.exitCode = 1; });
process.on('exit', () => {
  if (!phases) return;
  process.stderr.write('\n${PHASES_MARK}' + JSON.stringify({ ...phases, exitAt: now(), ...moduleStats() }) + '\n');
});
`;

export interface ScaleInput {
  main: string;
  sdk: string;
  settings: { accessKeyId: string; secretAccessKey: string; region: string };
  expected: number;
  warmups: number;
  pairs: number;
}

export interface ScaleSamples {
  plugin: number[];
  bare: number[];
}

/**
 * Scale, in one fresh process per repository count: the plugin's describeRepositories (as the
 * agent calls it) and a bare SDK paginator loop (pageSize 1000, a client with the same region,
 * keys and endpoint), warmed up, then timed alternately in the same process. Both build a new
 * client per run, as the plugin does per action; both must see every repository. Run with
 * --expose-gc: a full collection before every timed run keeps one side's garbage off the other's clock.
 */
export const SCALE_CHILD = String.raw`'use strict';
const input = JSON.parse(process.env.BENCH_INPUT);
delete process.env.BENCH_INPUT;
const plugin = require(input.main);
const sdk = require(input.sdk);
const { accessKeyId, secretAccessKey, region } = input.settings;
const viaPlugin = async () => {
  const result = await plugin.describeRepositories({ method: { name: 'describeRepositories' }, params: {} }, input.settings);
  return result.repositories.length;
};
const viaSdk = async () => {
  const client = new sdk.ECRClient({ region, credentials: { accessKeyId, secretAccessKey } });
  const repositories = [];
  for await (const page of sdk.paginateDescribeRepositories({ client, pageSize: 1000 }, {})) repositories.push(...(page.repositories || []));
  return repositories.length;
};
const timeOne = async (fn) => {
  // Both sides start from a collected heap, so neither pays for the other's garbage.
  if (typeof global.gc === 'function') global.gc();
  const start = performance.now();
  const count = await fn();
  const elapsed = performance.now() - start;
  if (count !== input.expected) throw new Error('expected ' + input.expected + ' repositories, got ' + count);
  return elapsed;
};
(async () => {
  for (let i = 0; i < input.warmups; i++) { await timeOne(viaPlugin); await timeOne(viaSdk); }
  const samples = { plugin: [], bare: [] };
  for (let i = 0; i < input.pairs; i++) {
    samples.plugin.push(await timeOne(viaPlugin));
    samples.bare.push(await timeOne(viaSdk));
  }
  process.stderr.write('\n${SCALE_MARK}' + JSON.stringify(samples) + '\n');
})().catch((error) => { process.stderr.write('bench child: ' + ((error && error.message) || String(error)) + '\n'); process.exitCode = 1; });
`;

/** The JSON after `mark` on the last line that has it. */
export function marked<T>(text: string, mark: string): T {
  const line = text.split('\n').reverse().find((l) => l.startsWith(mark));
  if (line === undefined) throw new Error(`child printed no ${mark.trim()} line`);
  return JSON.parse(line.slice(mark.length)) as T;
}
