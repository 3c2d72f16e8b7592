import fs from 'node:fs';
import path from 'node:path';

/**
 * Loads the built plugin the way the Kaholo agent does: read config.json,
 * require() the module its `main` names, call `exports[method](action,
 * settings)` and `exports[functionName](query, settings, params)`.
 */

export interface ParamDeclaration {
  name: string;
  viewName: string;
  type: string;
  description?: string;
  placeholder?: string;
  learnUrl?: string;
  required?: boolean;
  default?: unknown;
  autocompleteType?: string;
  functionName?: string;
}

export interface MethodDeclaration {
  name: string;
  viewName: string;
  description?: string;
  params: ParamDeclaration[];
}

export interface Manifest {
  name: string;
  viewName: string;
  type: string;
  execProgram: string;
  main: string;
  version: string;
  imgUrl: string;
  settings: ParamDeclaration[];
  methods: MethodDeclaration[];
}

export const REPO_ROOT = path.resolve(__dirname, '..');

export interface LoadedPlugin {
  manifest: Manifest;
  /** Runs a method as an action: `params` and `settings` by name, as Kaholo sends them. */
  run(method: string, params: Record<string, unknown>, settings?: Record<string, unknown>): Promise<unknown>;
  /** Calls an autocomplete function with Kaholo's `{ name, value }` arrays. */
  autocomplete(
    functionName: string,
    query: string,
    settings?: Record<string, unknown>,
    params?: Record<string, unknown>,
  ): Promise<Array<{ id: string; value: string }>>;
}

export function readManifest(root = REPO_ROOT): Manifest {
  return JSON.parse(fs.readFileSync(path.join(root, 'config.json'), 'utf8')) as Manifest;
}

export function loadPlugin(root = REPO_ROOT): LoadedPlugin {
  const manifest = readManifest(root);
  const mainPath = path.join(root, manifest.main);
  if (!fs.existsSync(mainPath)) throw new Error(`${mainPath} does not exist: run "npm run build" first`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exported = require(mainPath) as Record<string, unknown>;
  const exportedFunction = (name: string): ((...args: unknown[]) => Promise<unknown>) => {
    const fn = exported[name];
    if (typeof fn !== 'function') throw new Error(`${manifest.main} does not export "${name}"`);
    return fn as (...args: unknown[]) => Promise<unknown>;
  };
  const asNamedValues = (values: Record<string, unknown>): Array<{ name: string; value: unknown }> =>
    Object.entries(values).map(([name, value]) => ({ name, value }));
  return {
    manifest,
    run(method, params, settings = {}) {
      if (!manifest.methods.some((m) => m.name === method)) throw new Error(`config.json declares no method "${method}"`);
      return exportedFunction(method)({ method: { name: method }, params }, settings);
    },
    async autocomplete(functionName, query, settings = {}, params = {}) {
      const items = await exportedFunction(functionName)(query, asNamedValues(settings), asNamedValues(params));
      return items as Array<{ id: string; value: string }>;
    },
  };
}
