/**
 * `npm run config:sync`: writes the shared params (scripts/lib/shared-params.json)
 * into every method of config.json. With `--check` it writes nothing and
 * exits 1 when config.json is not in sync.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatManifest, withSharedParams } from './lib/manifest-params';

const CONFIG = path.resolve(__dirname, '..', 'config.json');

const current = readFileSync(CONFIG, 'utf8');
const synced = formatManifest(withSharedParams(JSON.parse(current)));
if (synced === current) {
  console.log('config.json: the shared params are in sync');
} else if (process.argv.includes('--check')) {
  console.error('config.json: the shared params differ from scripts/lib/shared-params.json; run `npm run config:sync`');
  process.exitCode = 1;
} else {
  writeFileSync(CONFIG, synced);
  console.log('config.json: shared params written');
}
