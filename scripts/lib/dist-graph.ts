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
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries.filter((e) => e.isFile() && e.name.endsWith('.js'))) {
    const name = path.relative(dir, path.join(entry.parentPath ?? entry.path, entry.name)).split(path.sep).join('/');
    if (!reached.has(name)) await fs.rm(path.join(dir, name));
  }
  // Folders the compiler made for modules that were all inlined into bundles go too.
  for (const entry of entries.filter((e) => e.isDirectory()).reverse()) {
    const folder = path.join(entry.parentPath ?? entry.path, entry.name);
    if ((await fs.readdir(folder)).length === 0) await fs.rmdir(folder);
  }
}
