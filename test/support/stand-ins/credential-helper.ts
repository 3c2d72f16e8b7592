/**
 * A docker credential helper stand-in (installed as docker-credential-secretservice
 * and docker-credential-pass, the platform stores the docker CLI falls back to on
 * Linux): a real store in the JSON file STANDIN_CRED_STORE, and every call logged
 * to STANDIN_CRED_LOG, so a test can tell whether any action used it.
 *
 * Built into an executable by stand-ins.ts; nothing else imports it.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';

const action = process.argv[2] ?? '';
const storeFile = process.env.STANDIN_CRED_STORE ?? '';
const logFile = process.env.STANDIN_CRED_LOG ?? '';

type Store = Record<string, { Username: string; Secret: string }>;

function readStore(): Store {
  try {
    return JSON.parse(readFileSync(storeFile, 'utf8')) as Store;
  } catch {
    return {};
  }
}

const input = action === 'list' ? '' : readFileSync(0, 'utf8').trim();
if (logFile) appendFileSync(logFile, `${action} ${action === 'store' ? '(credentials)' : input}\n`);
const store = readStore();
switch (action) {
  case 'store': {
    const { ServerURL, Username, Secret } = JSON.parse(input) as { ServerURL: string; Username: string; Secret: string };
    store[ServerURL] = { Username, Secret };
    writeFileSync(storeFile, JSON.stringify(store));
    break;
  }
  case 'get':
    if (!store[input]) {
      process.stdout.write('credentials not found in native keychain\n');
      process.exit(1);
    }
    process.stdout.write(JSON.stringify({ ServerURL: input, ...store[input] }));
    break;
  case 'erase':
    delete store[input];
    writeFileSync(storeFile, JSON.stringify(store));
    break;
  case 'list':
    process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(store).map(([url, c]) => [url, c.Username]))));
    break;
  default:
    process.exit(1);
}
