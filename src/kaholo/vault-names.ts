import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PluginError } from '../errors';

/**
 * The names config.json declares as `vault`: their values are secrets from
 * the moment the action starts. config.json is the nearest one above the
 * compiled code (beside dist/ in the installed zip, beside src/ in the tests).
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

let cached: VaultNames | undefined;

/** The plugin's manifest: the nearest config.json with methods, above this module's directory. */
function readManifest(): Manifest {
  for (let dir = path.dirname(__dirname), depth = 0; depth < 4; dir = path.dirname(dir), depth++) {
    let manifest: Manifest;
    try {
      manifest = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Manifest;
    } catch {
      continue;
    }
    if (Array.isArray(manifest.methods)) return manifest;
  }
  throw new PluginError(`The plugin's config.json was not found above ${__dirname}; reinstall the plugin`);
}

export function vaultNames(): VaultNames {
  if (cached) return cached;
  const manifest = readManifest();
  const vault = (declared: Declared[] | undefined): string[] =>
    (declared ?? []).flatMap((d) => (d.type === 'vault' && typeof d.name === 'string' ? [d.name] : []));
  const params: Record<string, string[]> = {};
  for (const method of manifest.methods ?? []) {
    if (typeof method.name === 'string') params[method.name] = vault(method.params);
  }
  cached = { params, anyParams: [...new Set(Object.values(params).flat())], settings: vault(manifest.settings) };
  return cached;
}
