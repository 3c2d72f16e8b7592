import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * A name an action gives an image in the engine, written down in its private
 * config directory BEFORE `docker tag` runs, so that whoever cleans up (the
 * action itself, or the next action after a SIGKILL) knows what to undo.
 */
export interface AddedName {
  engine: string;
  /** The name the action points at its image. */
  target: string;
  /** The image the action points it at. */
  imageId: string;
  /** The image the name pointed at before, which gets it back; none: the name is removed. */
  previousId?: string;
}

const FILE = 'added-names.json';

export async function recordAddedName(dir: string, name: AddedName): Promise<void> {
  await write(dir, [...(await readAddedNames(dir)), name]);
}

export async function forgetAddedName(dir: string, name: AddedName): Promise<void> {
  await write(dir, (await readAddedNames(dir)).filter((n) => n.target !== name.target || n.imageId !== name.imageId));
}

export async function readAddedNames(dir: string): Promise<AddedName[]> {
  try {
    const parsed = JSON.parse(await fs.readFile(path.join(dir, FILE), 'utf8')) as unknown;
    return Array.isArray(parsed) ? (parsed as AddedName[]) : [];
  } catch {
    return [];
  }
}

/** Written whole and renamed into place, so a reader never sees half a list. */
async function write(dir: string, names: AddedName[]): Promise<void> {
  const file = path.join(dir, FILE);
  await fs.writeFile(`${file}.new`, JSON.stringify(names), { mode: 0o600 });
  await fs.rename(`${file}.new`, file);
}
