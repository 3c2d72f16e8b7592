/**
 * The params several methods share, declared once (shared-params.json) and
 * written into config.json, which the Kaholo agent reads and which stays the
 * source of truth for everything else: every method starts with the
 * `everyMethod` params (credentials, region, role), in that order, and any
 * other param named in `byName` is that one definition wherever a method
 * declares it. `npm run config:sync` writes them; the config contract test
 * fails when config.json differs from what it would write.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ParamDeclaration } from '../../devkit/agent';

interface SharedParams {
  everyMethod: ParamDeclaration[];
  byName: Record<string, ParamDeclaration>;
}

export const SHARED_PARAMS_FILE = path.join(__dirname, 'shared-params.json');

export function readSharedParams(file = SHARED_PARAMS_FILE): SharedParams {
  return JSON.parse(readFileSync(file, 'utf8')) as SharedParams;
}

/** The manifest with every shared param written from its one definition (the input is not changed). */
export function withSharedParams<T extends { methods: Array<{ params: ParamDeclaration[] }> }>(manifest: T, shared: SharedParams = readSharedParams()): T {
  const first = new Set(shared.everyMethod.map((p) => p.name));
  return {
    ...manifest,
    methods: manifest.methods.map((method) => ({
      ...method,
      params: [
        ...shared.everyMethod,
        ...method.params.filter((p) => !first.has(p.name)).map((p) => shared.byName[p.name] ?? p),
      ],
    })),
  };
}

/** config.json as the agent reads it: two-space JSON and a final newline. */
export function formatManifest(manifest: unknown): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
