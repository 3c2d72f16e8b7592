'use strict';
/**
 * The one program that runs the plugin as the Kaholo agent does: read config.json in the
 * plugin's directory, require() the module its `main` names, and call
 * `exports[method]({ method: { name }, params }, settings)` or an autocomplete function
 * `exports[name](query, settings[], params[])` with Kaholo's `{ name, value }` arrays.
 *
 * In this process: `loadPlugin(root)` (devkit/agent.ts gives it its types).
 * In a process of its own, as an agent runs each action: `node devkit/agent-runner.js <plugin dir>`
 * reads one request as JSON on stdin (`{ method } | { autocomplete, query }`, with `params` and
 * `settings`), so secrets are never in argv or the environment; the activity log goes to stdout
 * and stderr; the outcome goes as one JSON object to file descriptor 3 when it is open:
 * `{ ok: true, result }` or `{ ok: false, error }` (the error as the agent shows it, String(error)),
 * with the process's peak RSS in KiB.
 * Plain JavaScript so that node starts it without a loader (the benchmark times its cold start);
 * tsconfig's checkJs type-checks it and ESLint lints it like the rest.
 */
const fs = require('fs');
const path = require('path');

/** @typedef {import('./agent').Manifest} Manifest */
/** @typedef {import('./agent').LoadedPlugin} LoadedPlugin */
/** @typedef {(...args: unknown[]) => Promise<unknown>} Exported */

/** This repository: the plugin as built here. */
const REPO_ROOT = path.join(__dirname, '..');

/**
 * @param {string} [root] the plugin's directory (config.json, and the module `main` names)
 * @returns {Manifest}
 */
function readManifest(root = REPO_ROOT) {
  /** @type {unknown} */
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'config.json'), 'utf8'));
  return /** @type {Manifest} */ (manifest);
}

/**
 * @param {Record<string, unknown>} values
 * @returns {Array<{ name: string, value: unknown }>}
 */
function asNamedValues(values) {
  return Object.entries(values).map(([name, value]) => ({ name, value }));
}

/**
 * @param {string} [root]
 * @returns {LoadedPlugin}
 */
function loadPlugin(root = REPO_ROOT) {
  const manifest = readManifest(root);
  const mainPath = path.join(root, manifest.main);
  if (!fs.existsSync(mainPath)) throw new Error(`${mainPath} does not exist: run "npm run build" first`);
  /** @type {unknown} */
  const loaded = require(mainPath);
  const exported = /** @type {Record<string, unknown>} */ (loaded);
  /** @param {string} name @returns {Exported} */
  const exportedFunction = (name) => {
    const fn = exported[name];
    if (typeof fn !== 'function') throw new Error(`${manifest.main} does not export "${name}"`);
    return /** @type {Exported} */ (fn);
  };
  return {
    manifest,
    run(method, params, settings = {}) {
      if (!manifest.methods.some((m) => m.name === method)) throw new Error(`config.json declares no method "${method}"`);
      return exportedFunction(method)({ method: { name: method }, params }, settings);
    },
    async autocomplete(functionName, query, settings = {}, params = {}) {
      const items = await exportedFunction(functionName)(query, asNamedValues(settings), asNamedValues(params));
      return /** @type {Array<{ id: string, value: string }>} */ (items);
    },
  };
}

/**
 * The request a process reads on stdin.
 * `modules: true` adds the files this process loaded to the outcome (where the code came from).
 * @typedef {{ method?: string, autocomplete?: string, query?: string, modules?: boolean,
 *   params?: Record<string, unknown>, settings?: Record<string, unknown> }} Request
 */

/** @param {Record<string, unknown>} outcome @param {Request} request */
function report(outcome, request) {
  const modules = request.modules ? { modules: Object.keys(require.cache) } : {};
  const line = JSON.stringify({ ...outcome, ...modules, maxRssKiB: process.resourceUsage().maxRSS });
  try {
    fs.writeSync(3, line);
  } catch {
    // fd 3 not open: whoever started us reads only the exit code and the activity log
  }
}

/**
 * Reads the request from stdin at once (synchronously: a stdin stream would load node's stream and
 * socket machinery, time that the agent, which reads no stdin, does not spend), then runs it.
 * @param {string} root
 */
function runOnce(root) {
  /** @type {unknown} */
  const parsed = JSON.parse(fs.readFileSync(0, 'utf8'));
  const request = /** @type {Request} */ (parsed);
  const plugin = loadPlugin(root);
  const { params = {}, settings = {} } = request;
  const call = request.autocomplete
    ? plugin.autocomplete(request.autocomplete, request.query ?? '', settings, params)
    : plugin.run(request.method ?? '', params, settings);
  call.then(
    (result) => report({ ok: true, result }, request),
    (/** @type {unknown} */ error) => {
      // What the agent shows of a failed action: String(error), that is error.toString().
      report({ ok: false, error: String(error) }, request);
      process.exitCode = 1;
    },
  );
}

module.exports = { readManifest, loadPlugin };

if (require.main === module) runOnce(path.resolve(process.argv[2] ?? REPO_ROOT));
