import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PluginError } from './errors';

/**
 * The names config.json declares as `vault`: their values are secrets from
 * the moment the action starts. config.json sits beside the compiled code's
 * directory (dist/ in the plugin, src/ in the tests), as in the installed zip.
 */
export interface VaultNames {
  /** Vault params of each method, by method name. */
  params: Record<string, string[]>;
  /** Vault params of any method, for an action that names no known method. */
  anyParams: string[];
  settings: string[];
}

interface Declared {
  name?: unknown;
  type?: unknown;
}

interface Manifest {
  settings?: Declared[];
  methods?: Array<{ name?: unknown; params?: Declared[] }>;
}

const MANIFEST = path.join(__dirname, '..', 'config.json');
let cached: VaultNames | undefined;

export function vaultNames(manifestPath = MANIFEST): VaultNames {
  if (manifestPath === MANIFEST && cached) return cached;
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch (error) {
    throw new PluginError(`The plugin's config.json could not be read (${(error as Error).message}); reinstall the plugin`);
  }
  const vault = (declared: Declared[] | undefined): string[] =>
    (declared ?? []).flatMap((d) => (d.type === 'vault' && typeof d.name === 'string' ? [d.name] : []));
  const params: Record<string, string[]> = {};
  for (const method of manifest.methods ?? []) {
    if (typeof method.name === 'string') params[method.name] = vault(method.params);
  }
  const names = { params, anyParams: [...new Set(Object.values(params).flat())], settings: vault(manifest.settings) };
  if (manifestPath === MANIFEST) cached = names;
  return names;
}
