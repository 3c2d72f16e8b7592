'use strict';
/**
 * Preloaded (NODE_OPTIONS=--require) into one run of a stand-in program, to hold its write of a
 * file at the worst moment for a reader in another process: when the program first writes the
 * file PAUSE_WRITE_OF names, or a file beside it whose name holds that name (a temporary one), the
 * file it writes is opened and emptied, nothing written yet. It says so by creating
 * `<PAUSE_GATE>/paused` and goes on once `<PAUSE_GATE>/go` exists (bounded: 20 s), so a test can
 * run a reader in between, deterministically.
 */
const fs = require('fs');
const path = require('path');

const target = path.resolve(process.env.PAUSE_WRITE_OF ?? '');
const gate = process.env.PAUSE_GATE ?? '';
const writeFileSync = fs.writeFileSync;
let held = false;

/** @param {unknown} file */
function isTarget(file) {
  if (typeof file !== 'string') return false;
  const resolved = path.resolve(file);
  return path.dirname(resolved) === path.dirname(target) && path.basename(resolved).includes(path.basename(target));
}

/** @param {Parameters<typeof fs.writeFileSync>} args */
fs.writeFileSync = (...args) => {
  if (!held && gate !== '' && isTarget(args[0])) {
    held = true;
    fs.closeSync(fs.openSync(/** @type {string} */ (args[0]), 'w'));
    writeFileSync(path.join(gate, 'paused'), '');
    const deadline = Date.now() + 20_000;
    while (!fs.existsSync(path.join(gate, 'go'))) {
      if (Date.now() > deadline) throw new Error('pause-writes: never told to go on');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  writeFileSync(...args);
};
