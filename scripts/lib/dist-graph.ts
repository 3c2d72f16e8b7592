/**
 * What dist/ can load, followed from its entry: every require() of a file it reaches. The build
 * checks that each one resolves inside dist/ (a relative path to a file there, or a Node.js
 * built-in), so the plugin runs with no node_modules anywhere, and removes the compiled files
 * nothing reaches (modules that esbuild inlined into a bundle, type-only modules).
 */
import { promises as fs } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

/** The string literal of each require() in compiled code (tsc's and esbuild's output both write require("…")). */
const REQUIRE = /\brequire\(\s*["']([^"']+)["']\s*\)/g;

const BUILTINS = new Set(builtinModules);

export function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0] ?? '');
}

/** The specifiers a compiled file requires. */
export function requiredSpecifiers(code: string): string[] {
  return [...new Set([...code.matchAll(REQUIRE)].map((match) => match[1]))];
}

/** The .js files of `dir` reachable from `entry`, and the specifiers that do not resolve inside it. */
export async function followRequires(dir: string, entry: string): Promise<{ reached: Set<string>; outside: string[] }> {
  const reached = new Set<string>();
  const outside: string[] = [];
  const pending = [entry];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (reached.has(file)) continue;
    reached.add(file);
    const code = await fs.readFile(path.join(dir, file), 'utf8');
    for (const specifier of requiredSpecifiers(code)) {
      if (isBuiltin(specifier)) continue;
      const target = specifier.startsWith('.') ? path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)) : undefined;
      const candidate = target === undefined ? undefined : target.endsWith('.js') ? target : `${target}.js`;
      const inside = candidate !== undefined && !candidate.startsWith('..') && (await fs.stat(path.join(dir, candidate)).then((s) => s.isFile(), () => false));
      if (inside) pending.push(candidate);
      else outside.push(`${file}: require("${specifier}")`);
    }
  }
  return { reached, outside };
}

/** Fails when dist/ reaches code outside itself; removes the .js files its entry never reaches. */
export async function checkSelfContained(dir: string, entry: string): Promise<void> {
  const { reached, outside } = await followRequires(dir, entry);
  if (outside.length > 0) throw new Error(`the build loads code from outside dist/ (bundle it): ${outside.join('; ')}`);
  for (const file of await jsFiles(dir)) {
    if (!reached.has(file)) await fs.rm(path.join(dir, file));
  }
  // Folders the compiler made for modules that were all inlined into bundles go too.
  for (const folder of (await folders(dir)).reverse()) {
    if ((await fs.readdir(folder)).length === 0) await fs.rmdir(folder);
  }
}

/** Every folder under `dir` but the code cache's, parents before their children. */
async function folders(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
      .map(async (entry) => [path.join(dir, entry.name), ...(await folders(path.join(dir, entry.name)))]),
  );
  return nested.flat();
}

/** The .js files under `dir`, by their path from it (with "/"), the code cache's directory left out. */
async function jsFiles(dir: string, sub = ''): Promise<string[]> {
  const entries = await fs.readdir(path.join(dir, sub), { withFileTypes: true });
  const nested = await Promise.all(
    entries.map(async (entry): Promise<string[]> => {
      const file = sub === '' ? entry.name : `${sub}/${entry.name}`;
      if (entry.isDirectory()) return entry.name.startsWith('.') ? [] : jsFiles(dir, file);
      return entry.name.endsWith('.js') ? [file] : [];
    }),
  );
  return nested.flat();
}
