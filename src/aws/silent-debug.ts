/**
 * Stands in for the `debug` library in the bundles (scripts/build.ts points
 * its import here). The proxy libraries log through it, and with DEBUG=* on
 * the agent it would print their requests' headers (the proxy's login, the
 * AWS signature) to the activity log, past the plugin's redaction. The
 * plugin's own log lines say what an action does.
 */
interface Debugger {
  (...args: unknown[]): void;
  enabled: boolean;
  namespace: string;
  extend(namespace: string): Debugger;
}

function createDebug(namespace: string): Debugger {
  const debug = (() => undefined) as unknown as Debugger;
  debug.enabled = false;
  debug.namespace = namespace;
  debug.extend = (more: string) => createDebug(`${namespace}:${more}`);
  return debug;
}

createDebug.enable = (): void => undefined;
createDebug.disable = (): string => '';
createDebug.enabled = (): boolean => false;

export default createDebug;
