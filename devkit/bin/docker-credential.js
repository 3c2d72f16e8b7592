#!/usr/bin/env node
'use strict';
/**
 * A docker credential helper stand-in, put on PATH as docker-credential-secretservice and
 * docker-credential-pass (the stores the docker CLI falls back to on Linux) by devkit/stand-ins.ts:
 * a real store in the JSON file STANDIN_CRED_STORE, and every call logged to STANDIN_CRED_LOG
 * (never a secret), so a test can tell whether any action used it. The store is written whole
 * (devkit/whole-file.js): actions may call it at once.
 */
const fs = require('fs');
const { readJsonFile, writeWhole } = require('../whole-file');

const action = process.argv[2] ?? '';
const storeFile = process.env.STANDIN_CRED_STORE ?? '';
const logFile = process.env.STANDIN_CRED_LOG ?? '';

/** @typedef {Record<string, { Username: string, Secret: string }>} Store */

/** @returns {Store} */
function readStore() {
  /** @type {Store} */
  const none = {};
  return readJsonFile(storeFile, none);
}

const input = action === 'list' ? '' : fs.readFileSync(0, 'utf8').trim();
if (logFile) fs.appendFileSync(logFile, `${action} ${action === 'store' ? '(credentials)' : input}\n`);
const store = readStore();
switch (action) {
  case 'store': {
    /** @type {unknown} */
    const parsed = JSON.parse(input);
    const { ServerURL, Username, Secret } = /** @type {{ ServerURL: string, Username: string, Secret: string }} */ (parsed);
    store[ServerURL] = { Username, Secret };
    writeWhole(storeFile, JSON.stringify(store));
    break;
  }
  case 'get': {
    const found = store[input];
    if (!found) {
      process.stdout.write('credentials not found in native keychain\n');
      process.exit(1);
    }
    process.stdout.write(JSON.stringify({ ServerURL: input, ...found }));
    break;
  }
  case 'erase':
    delete store[input];
    writeWhole(storeFile, JSON.stringify(store));
    break;
  case 'list':
    process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(store).map(([url, c]) => [url, c.Username]))));
    break;
  default:
    process.exit(1);
}
