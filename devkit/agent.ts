/**
 * The plugin as the Kaholo agent sees it: config.json's shape, and the plugin loaded in this
 * process (`loadPlugin`) to call its methods and autocomplete functions as the agent does.
 * devkit/agent-process.ts runs the same runner in a process of its own.
 */
import path from 'node:path';

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

/** The runner itself is devkit/agent-runner.js (plain JavaScript, so node runs it without a loader). */
export { loadPlugin, readManifest } from './agent-runner';
