'use strict';
/**
 * `node --require test/support/bin/own-warning.js …`: once the process has nothing left to do (the
 * action is over), emits one warning of its own, as an agent's process might. It must reach stderr:
 * the plugin leaves node's warnings alone (only the AWS SDK's Node-version warning is built out).
 */
process.once('beforeExit', () => process.emitWarning("a warning of the agent's own", 'AgentWarning'));
