/**
 * An upgrade of the original plugin must install over it and keep its pipelines working: the same
 * plugin name (Kaholo tells plugins apart by it), a higher version, and every method, param and
 * setting the original declared, with the same type. The one type change allowed is `string` to
 * `text` (a larger input box for the same string value).
 */
import fs from 'node:fs';
import path from 'node:path';

interface ManifestParam {
  name: string;
  type: string;
  functionName?: string;
}

interface Manifest {
  name: string;
  version: string;
  type: string;
  execProgram: string;
  imgUrl: string;
  settings: ManifestParam[];
  methods: Array<{ name: string; params: ManifestParam[] }>;
}

const ROOT = path.join(__dirname, '..', '..');
const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;
const original = readJson<Manifest>(path.join(ROOT, 'test', 'fixtures', 'original-manifest.json'));

/** What breaks an existing action when the original's manifest becomes `current`; empty when nothing does. */
function upgradeProblems(before: Manifest, current: Manifest): string[] {
  const problems: string[] = [];
  for (const key of ['name', 'type', 'execProgram', 'imgUrl'] as const) {
    if (current[key] !== before[key]) problems.push(`${key} is ${JSON.stringify(current[key])}, the original's is ${JSON.stringify(before[key])}`);
  }
  if (compareVersions(current.version, before.version) <= 0) {
    problems.push(`version ${current.version} is not above the original's ${before.version}`);
  }
  problems.push(...paramProblems('settings', before.settings, current.settings ?? []));
  for (const method of before.methods) {
    const now = current.methods?.find((m) => m.name === method.name);
    if (!now) {
      problems.push(`method ${method.name} is gone`);
      continue;
    }
    problems.push(...paramProblems(`method ${method.name}`, method.params, now.params ?? []));
  }
  return problems;
}

function paramProblems(where: string, before: ManifestParam[], current: ManifestParam[]): string[] {
  const problems: string[] = [];
  for (const param of before) {
    const now = current.find((p) => p.name === param.name);
    if (!now) {
      problems.push(`${where}: param ${param.name} is gone`);
      continue;
    }
    const allowed = now.type === param.type || (param.type === 'string' && now.type === 'text');
    if (!allowed) problems.push(`${where}: param ${param.name} changed type ${param.type} -> ${now.type}`);
    if (param.functionName !== undefined && now.functionName !== param.functionName) {
      problems.push(`${where}: param ${param.name} calls ${String(now.functionName)} instead of ${param.functionName}`);
    }
  }
  return problems;
}

/** Compares two `major.minor.patch` versions (pre-release suffixes rank below the release). */
function compareVersions(a: string, b: string): number {
  const parse = (v: string): [number[], string] => {
    const match = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/.exec(v);
    if (!match) throw new Error(`not a semantic version: ${v}`);
    return [[Number(match[1]), Number(match[2]), Number(match[3])], match[4] ?? ''];
  };
  const [[a1, a2, a3], aPre] = parse(a);
  const [[b1, b2, b3], bPre] = parse(b);
  const diff = a1 - b1 || a2 - b2 || a3 - b3;
  if (diff !== 0) return diff;
  if (aPre === bPre) return 0;
  if (aPre === '') return 1;
  if (bPre === '') return -1;
  return aPre < bPre ? -1 : 1;
}

describe('config.json installs as an upgrade of the original AWS-ECR plugin', () => {
  const current = readJson<Manifest>(path.join(ROOT, 'config.json'));

  it('keeps the identity, methods, params, types and settings of the original', () => {
    expect(upgradeProblems(original, current)).toEqual([]);
  });

  it('carries a new major version, the same in package.json (push and pull results changed shape)', () => {
    const pkg = readJson<{ version: string }>(path.join(ROOT, 'package.json'));
    expect(pkg.version).toBe(current.version);
    expect(Number(current.version.split('.')[0])).toBeGreaterThan(Number(original.version.split('.')[0]));
  });

  it('would notice a removal, a rename, a type change, a lower version or another name', () => {
    const copy = (): Manifest => JSON.parse(JSON.stringify(current)) as Manifest;
    const renamed = copy();
    renamed.name = 'ECR';
    expect(upgradeProblems(original, renamed)).toEqual(['name is "ECR", the original\'s is "AWS-ECR"']);

    const older = copy();
    older.version = '2.0.2';
    expect(upgradeProblems(original, older)).toEqual(['version 2.0.2 is not above the original\'s 2.0.2']);

    const noPull = copy();
    noPull.methods = noPull.methods.filter((m) => m.name !== 'pullImage');
    expect(upgradeProblems(original, noPull)).toEqual(['method pullImage is gone']);

    const paramRenamed = copy();
    const push = paramRenamed.methods.find((m) => m.name === 'pushImgaeToRepo');
    push!.params = push!.params.map((p) => (p.name === 'repoName' ? { ...p, name: 'repositoryName' } : p));
    expect(upgradeProblems(original, paramRenamed)).toEqual(['method pushImgaeToRepo: param repoName is gone']);

    const retyped = copy();
    const setting = retyped.settings.find((s) => s.name === 'secretAccessKey');
    setting!.type = 'string';
    expect(upgradeProblems(original, retyped)).toEqual(['settings: param secretAccessKey changed type vault -> string']);

    const textToString = copy();
    const login = textToString.methods.find((m) => m.name === 'getEcrLogin');
    login!.params = login!.params.map((p) => (p.name === 'registryIds' ? { ...p, type: 'options' } : p));
    expect(upgradeProblems(original, textToString)).toEqual(['method getEcrLogin: param registryIds changed type string -> options']);
  });

  it('compares versions by number, not as text', () => {
    expect(compareVersions('10.0.0', '9.9.9')).toBeGreaterThan(0);
    expect(compareVersions('2.0.10', '2.0.2')).toBeGreaterThan(0);
    expect(compareVersions('2.0.2', '2.0.2')).toBe(0);
    expect(compareVersions('3.0.0-rc.1', '3.0.0')).toBeLessThan(0);
    expect(compareVersions('2.0.1', '2.0.2')).toBeLessThan(0);
  });
});
