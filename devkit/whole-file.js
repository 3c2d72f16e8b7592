'use strict';
/**
 * Files the kit's stand-in programs share between processes (the docker config a stand-in docker
 * logs in to, its fake engine's state, its settings, a stand-in credential store). Concurrent
 * actions run them at once: a logout writes the docker config while an `image inspect` reads it.
 * So a file is written whole to a temporary file beside it and renamed into place (as the real
 * docker CLI writes its config): a reader sees the old text or the new, never an emptied or half
 * written file. Plain JavaScript, for the programs in devkit/bin as well as the TypeScript kit.
 */
const fs = require('fs');
const path = require('path');

/**
 * Replaces `file` with `text` at once, keeping the file's mode (0600 for a new one).
 * @param {string} file @param {string} text
 */
function writeWhole(file, text) {
  let mode = 0o600;
  try {
    mode = fs.statSync(file).mode & 0o777;
  } catch {
    // a new file
  }
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(temp, text, { mode });
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * The JSON in `file`, or `missing` when there is no such file. Anything else (a file that does not
 * parse) is an error: it is never read as empty.
 * @template T
 * @param {string} file @param {T} missing @returns {T}
 */
function readJsonFile(file, missing) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === 'ENOENT') return missing;
    throw error;
  }
  /** @type {unknown} */
  const parsed = JSON.parse(text);
  return /** @type {T} */ (parsed);
}

/**
 * The complete lines of a log that others append to, one write per line: a last line still being
 * written (no newline yet) is left for the next read.
 * @param {string} text @returns {string[]}
 */
function completeLines(text) {
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean);
}

module.exports = { writeWhole, readJsonFile, completeLines };
