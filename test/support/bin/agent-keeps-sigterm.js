'use strict';
/**
 * `node --require test/support/bin/agent-keeps-sigterm.js …`: a process that handles SIGTERM
 * itself, as an agent that wants to report a stopped action does. The signal then no longer ends
 * the process by default: whether an action stops is up to the action, which a test can then see.
 */
process.on('SIGTERM', () => undefined);
