'use strict';
/**
 * `node test/support/bin/require-each.js <file>…`: require()s each file in a fresh process, so a
 * test sees that every module of a built plugin loads by itself (exit code 0, nothing on stderr).
 */
for (const file of process.argv.slice(2)) require(file);
