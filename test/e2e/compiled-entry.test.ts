/**
 * The compiled entry, as the agent meets it: config.json's `main` loaded with require() exports
 * every method and autocomplete function config.json names, and a fresh node process running the
 * kit's agent runner gets an answer from it.
 */
import path from 'node:path';
import { readManifest, REPO_ROOT } from '../../devkit/agent';
import { runAgentAction } from '../../devkit/agent-process';
import { withoutAwsSettings } from '../../devkit/aws-env';

const manifest = readManifest();
const names = [
  ...manifest.methods.map((m) => m.name),
  ...new Set(manifest.methods.flatMap((m) => m.params).flatMap((p) => (p.functionName ? [p.functionName] : []))),
];

test('require() of the compiled main gives every function config.json names', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const compiled = require(path.join(REPO_ROOT, manifest.main)) as Record<string, unknown>;
  expect(names.filter((name) => typeof compiled[name] !== 'function')).toEqual([]);
});

test('a fresh node process runs an autocomplete function through it', async () => {
  const outcome = await runAgentAction({ autocomplete: 'listRegions', query: 'london', params: {} }, withoutAwsSettings());
  expect(outcome).toMatchObject({ exitCode: 0, reported: true, result: [{ id: 'eu-west-2' }] });
}, 30_000);
