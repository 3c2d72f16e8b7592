'use strict';
/**
 * Probes for the cold-start breakdown, preloaded into the kit's agent runner
 * (`node --require scripts/bench/probes.js devkit/agent-runner.js`). They note when the first line of
 * script ran (node's boot), how long require() of the plugin's main took, how long the modules
 * loaded after it and before the first HTTP request took (the lazily loaded SDK), when that request
 * started and its response ended, and the exit; one marked line on stderr at exit.
 */
const Module = require('module');
const diagnostics = require('diagnostics_channel');

const marks = { boot: performance.now(), mainStart: 0, mainEnd: 0, lazyMs: 0, requestStart: 0, responseEnd: 0 };
const loader = /** @type {{ _load: (request: string, parent: unknown, isMain: boolean) => unknown }} */ (/** @type {unknown} */ (Module));
const originalLoad = loader._load;
let depth = 0;
/** @param {string} request @param {unknown} parent @param {boolean} isMain */
loader._load = (request, parent, isMain) => {
  const start = performance.now();
  // The runner itself (the main module) does not count: what it requires runs at depth 0.
  const nested = isMain ? 0 : 1;
  depth += nested;
  try {
    return originalLoad.call(Module, request, parent, isMain);
  } finally {
    depth -= nested;
    const end = performance.now();
    if (depth === 0 && /dist[\\/]app(\.js)?$/.test(request)) Object.assign(marks, { mainStart: start, mainEnd: end });
    else if (depth === 0 && marks.mainEnd > 0 && marks.requestStart === 0) marks.lazyMs += end - start;
  }
};
diagnostics.subscribe('http.client.request.start', () => {
  if (marks.requestStart === 0) marks.requestStart = performance.now();
});
diagnostics.subscribe('http.client.response.finish', () => {
  if (marks.responseEnd === 0) marks.responseEnd = performance.now();
});
process.on('exit', () => {
  process.stderr.write(`\n@@probes ${JSON.stringify({ ...marks, exit: performance.now() })}\n`);
});
