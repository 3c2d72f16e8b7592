'use strict';
/**
 * `node test/support/bin/load-ecr-bundle.js <dist>`: loads the ECR client bundle of a built plugin
 * through its code cache (dist/agent/code-cache.js) in a fresh process and prints how it was loaded
 * ("cached" or "compiled") and whether the module works (the type of its export). With
 * SHOW_CACHE_FILES=1, also how many files the cache directory holds once the bundle is loaded (before
 * this process writes its own cache at exit).
 */
const fs = require('fs');
const path = require('path');

const dist = path.resolve(process.argv[2] ?? 'dist');
/** @type {unknown} */
const loadedCache = require(path.join(dist, 'agent', 'code-cache.js'));
const codeCache = /** @type {{ preloadWithCodeCache(name: string): string }} */ (loadedCache);
const use = codeCache.preloadWithCodeCache('aws/ecr-registry');
/** @type {unknown} */
const loadedEcr = require(path.join(dist, 'aws', 'ecr-registry.js'));
const ecr = /** @type {Record<string, unknown>} */ (loadedEcr);
const shown = [use, typeof ecr.openEcrRegistry];
if (process.env.SHOW_CACHE_FILES) shown.push(`files:${fs.readdirSync(path.join(dist, '.code-cache')).length}`);
console.log(...shown);
