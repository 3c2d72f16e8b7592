import { ParamError, quote } from '../errors';
import type { KaholoAction, KaholoSettings } from './contract';

/**
 * Reads parameter values the way Kaholo delivers them: form values are
 * strings, autocomplete values may be `{ id, value }`, values set from the
 * pipeline's code layer may be arrays or other types, and an empty string or a
 * missing key means "not set". Every read is by name, so the names a method
 * uses are exactly the ones it asks for here.
 */
export class ParamReader {
  constructor(
    private readonly params: Record<string, unknown>,
    private readonly settings: KaholoSettings,
  ) {}

  static from(action: KaholoAction, settings: KaholoSettings | undefined): ParamReader {
    if (typeof action !== 'object' || action === null) {
      throw new ParamError('action', 'the agent passed no action object');
    }
    const params = typeof action.params === 'object' && action.params !== null ? action.params : {};
    const pluginSettings = typeof settings === 'object' && settings !== null ? settings : {};
    return new ParamReader(params, pluginSettings);
  }

  /** A single string value, trimmed; `undefined` when not set. */
  string(name: string): string | undefined {
    return toText(name, this.params[name]);
  }

  /** A plugin setting's string value; `undefined` when not set. */
  setting(name: string): string | undefined {
    return toText(name, this.settings[name], 'plugin setting');
  }

  /** A single string value, falling back to the plugin setting of the same name. */
  stringOrSetting(name: string): string | undefined {
    return this.string(name) ?? this.setting(name);
  }

  /**
   * A number's value as text, trimmed: a string as the form sends it, or a
   * number set from the pipeline's code (900 reads as "900"); the caller checks
   * its range. Only for params that are numbers: ids stay strings (they may
   * start with 0).
   */
  numeral(name: string): string | undefined {
    return toText(name, numberAsText(this.params[name]));
  }

  /** A number's value as text from the plugin setting of that name (see `numeral`). */
  numeralSetting(name: string): string | undefined {
    return toText(name, numberAsText(this.settings[name]), 'plugin setting');
  }

  /** A number's value as text, falling back to the plugin setting of the same name. */
  numeralOrSetting(name: string): string | undefined {
    return this.numeral(name) ?? this.numeralSetting(name);
  }

  /** A single string value that must be set. */
  requiredString(name: string, expected: string): string {
    const value = this.string(name);
    if (value === undefined) throw new ParamError(name, `is required: ${expected}`);
    return value;
  }

  /**
   * A list: an array of strings, or one string with items separated by
   * newlines or commas. Blank items are dropped; an empty list is `[]`.
   */
  list(name: string): string[] {
    const value = this.params[name];
    if (value === undefined || value === null) return [];
    if (Array.isArray(value)) {
      return value.flatMap((item: unknown, index) => {
        if (typeof item !== 'string') {
          throw new ParamError(name, `item ${index} is ${describeType(item)}; expected a string`);
        }
        return splitList(item);
      });
    }
    const text = toText(name, value);
    return text === undefined ? [] : splitList(text);
  }

  /** true or false, as a boolean or as the strings Kaholo sends; `fallback` when not set. */
  boolean(name: string, fallback: boolean): boolean {
    const value = this.params[name];
    if (typeof value === 'boolean') return value;
    const text = typeof value === 'string' ? value.trim().toLowerCase() : value;
    if (text === undefined || text === null || text === '') return fallback;
    if (text === 'true' || text === 'false') return text === 'true';
    throw new ParamError(name, `is ${shown(value)}; expected true or false`);
  }

  /** One of `options`, exactly as written there; `fallback` when not set. */
  option<T extends string>(name: string, options: readonly T[], fallback: T): T {
    const value = this.string(name);
    if (value === undefined) return fallback;
    const chosen = options.find((option) => option === value);
    if (chosen === undefined) throw new ParamError(name, `is ${shown(value)}; expected one of ${options.join(', ')}`);
    return chosen;
  }
}

function splitList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function toText(name: string, value: unknown, kind = 'parameter'): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  // Autocomplete params arrive as { id, value }; the id is what was chosen.
  if (isAutocompleteItem(value)) return toText(name, value.id, kind);
  const hint = typeof value === 'number' ? ' (write numbers such as account ids as strings: they may start with 0)' : '';
  const where = kind === 'parameter' ? '' : ` (${kind})`;
  throw new ParamError(name, `is ${describeType(value)}${where}; expected a string${hint}`);
}

function numberAsText(value: unknown): unknown {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
}

function isAutocompleteItem(value: unknown): value is { id: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'id' in value;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** A value as an error may echo it: quoted, control characters escaped, shortened (errors.ts's one rule). */
export function shown(value: unknown): string {
  return typeof value === 'string' ? quote(value) : describeType(value);
}
