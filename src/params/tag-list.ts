import { ParamError } from '../errors';
import { isValidTag } from './image-reference';
import { shown, type ParamReader } from '../kaholo/param-reader';

/**
 * A list of image tags (one a line, comma-separated, or an array), each
 * checked as docker checks a tag, repeats dropped. `required`: an empty list
 * is an error.
 */
export function readTags(params: ParamReader, name: string, required: boolean): string[] {
  const tags = [...new Set(params.list(name))];
  if (required && tags.length === 0) {
    throw new ParamError(name, 'is required: one or more tags, one a line or comma-separated, such as "1.4.2" and "prod"');
  }
  for (const tag of tags) {
    if (!isValidTag(tag)) {
      throw new ParamError(name, `${shown(tag)} is not a tag; expected 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-"`);
    }
  }
  return tags;
}
