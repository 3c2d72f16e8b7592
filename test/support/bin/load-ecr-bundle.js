'use strict';
/**
 * `node test/support/bin/load-ecr-bundle.js <dist>`: loads the ECR client bundle of a built plugin
 * through its code cache (dist/code-cache.js) in a fresh process and prints how it was loaded
 * ("cached" or "compiled") and whether the module works (the types of two of its exports). With
 * SHOW_CACHE_FILES=1, also how many files the cache directory holds once the bundle is loaded (before
 * this process writes its own cache at exit).
 */
const fs = require('fs');
const path = require('path');

const dist = path.resolve(process.argv[2] ?? 'dist');
/** @type {unknown} */
const loadedCache = require(path.join(dist, 'code-cache.js'));
const codeCache = /** @type {{ preloadWithCodeCache(name: string): string }} */ (loadedCache);
const use = codeCache.preloadWithCodeCache('ecr-client');
/** @type {unknown} */
const loadedEcr = require(path.join(dist, 'ecr-client.js'));
const ecr = /** @type {Record<string, unknown>} */ (loadedEcr);
const shown = [use, typeof ecr.createEcrClient, typeof ecr.describeAllRepositories];
if (process.env.SHOW_CACHE_FILES) shown.push(`files:${fs.readdirSync(path.join(dist, '.code-cache')).length}`);
console.log(...shown);
