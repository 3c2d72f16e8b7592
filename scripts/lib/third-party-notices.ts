/**
 * The licence notices of the third-party code the build bundles, from esbuild's metafile: each
 * package an input file belongs to, with its name, version, licence and its own licence (and
 * NOTICE) files, as the zip must carry them.
 */
import type { Metafile } from 'esbuild';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export const NOTICES_FILE = 'THIRD-PARTY-NOTICES.txt';

export interface BundledPackage {
  name: string;
  version: string;
  license: string;
  /** The package's licence and notice files, by file name. */
  texts: Array<{ file: string; text: string }>;
}

/** The package directory an input path lies in (the innermost node_modules/<name> or node_modules/@scope/<name>). */
export function packageDirOf(input: string): string | undefined {
  const parts = input.split(/[\\/]/);
  const at = parts.lastIndexOf('node_modules');
  if (at < 0 || at + 1 >= parts.length) return undefined;
  const scoped = parts[at + 1]?.startsWith('@');
  return parts.slice(0, at + (scoped ? 3 : 2)).join('/');
}

const LICENCE_FILE = /^(licen[cs]e|copying|notice)(\.(md|txt|markdown))?$/i;

async function readPackage(root: string, dir: string): Promise<BundledPackage> {
  const absolute = path.resolve(root, dir);
  const pkg = JSON.parse(await fs.readFile(path.join(absolute, 'package.json'), 'utf8')) as { name: string; version: string; license?: unknown };
  const files = (await fs.readdir(absolute)).filter((file) => LICENCE_FILE.test(file)).sort();
  const texts = await Promise.all(files.map(async (file) => ({ file, text: (await fs.readFile(path.join(absolute, file), 'utf8')).trimEnd() })));
  const license = typeof pkg.license === 'string' ? pkg.license : 'UNKNOWN';
  return { name: pkg.name, version: pkg.version, license, texts };
}

/** The packages whose code esbuild put into the bundles, sorted by name and version. */
export async function bundledPackages(metafile: Metafile, root: string): Promise<BundledPackage[]> {
  const dirs = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const input of Object.keys(output.inputs)) {
      const dir = packageDirOf(input);
      if (dir !== undefined) dirs.add(dir);
    }
  }
  const packages = await Promise.all([...dirs].map((dir) => readPackage(root, dir)));
  const unique = new Map(packages.map((p) => [`${p.name}@${p.version}`, p]));
  return [...unique.values()].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

/**
 * The notices file: a list of the packages, then each one's licence texts. A text word for word
 * the same as one given earlier (the Apache licence of every SDK package) is given once and
 * referred to after that; NOTICE files and every text that differs are given in full.
 */
export async function noticesFromMetafile(metafile: Metafile, root: string): Promise<string> {
  const packages = await bundledPackages(metafile, root);
  const missing = packages.filter((p) => p.texts.length === 0 && p.license === 'UNKNOWN');
  if (missing.length > 0) throw new Error(`no licence found for ${missing.map((p) => p.name).join(', ')}`);
  const lines = [
    'Third-party software bundled in dist/ of this plugin',
    '',
    ...packages.map((p) => `- ${p.name} ${p.version} (${p.license})`),
  ];
  const given = new Map<string, { name: string; file: string }>();
  for (const p of packages) {
    lines.push('', '='.repeat(78), `${p.name} ${p.version}`, `License: ${p.license}`, '='.repeat(78));
    if (p.texts.length === 0) {
      const sameLicence = packages.find((other) => other.license === p.license && other.texts.length > 0);
      const where = sameLicence ? `; the ${p.license} text is given above with ${sameLicence.name}` : '';
      lines.push('', `(The package ships no licence file: its package.json declares ${p.license}${where}.)`);
    }
    for (const { file, text } of p.texts) {
      const words = text.replace(/\s+/g, ' ').trim(); // the same words, however the lines are wrapped
      const earlier = given.get(words);
      lines.push('', `--- ${file} ---`, '', earlier ? `(Word for word the ${earlier.file} of ${earlier.name}, given above.)` : text);
      if (!earlier) given.set(words, { name: `${p.name} ${p.version}`, file });
    }
  }
  return `${lines.join('\n')}\n`;
}
