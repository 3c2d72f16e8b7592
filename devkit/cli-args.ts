/**
 * The one command-line parser of the kit's programs (demo, action runner, package, bench): node's
 * util.parseArgs for the syntax (`--name value`, `--name=value`, `-n value`, in order), and usage
 * errors that never echo a value (it may be a secret typed in the wrong place).
 */
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
}

export interface CommandLine {
  /** Every option as given, in order (a string option's value; undefined for a boolean). */
  options: Array<{ name: string; value: string | undefined }>;
  positionals: string[];
  /** Whether a boolean option was given, or the last value of a string option. */
  has(name: string): boolean;
  last(name: string): string | undefined;
}

/** Parses `argv` against `specs`; `hint` ends every usage error (say where the help is). */
export function parseCommandLine(argv: string[], specs: Record<string, OptionSpec>, hint: string): CommandLine {
  const { tokens } = parseArgs({ args: argv, options: specs, strict: false, allowPositionals: true, tokens: true });
  const options: CommandLine['options'] = [];
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    else if (token.kind === 'option-terminator') continue;
    else {
      const spec = Object.prototype.hasOwnProperty.call(specs, token.name) ? specs[token.name] : undefined;
      const option = token.rawName.startsWith('--') ? `--${token.name}` : token.rawName;
      if (!spec) throw new UsageError(`unknown option ${token.rawName}; ${hint}`);
      if (spec.type === 'string' && token.value === undefined) throw new UsageError(`${option} needs a value; ${hint}`);
      if (spec.type === 'boolean' && token.value !== undefined) throw new UsageError(`${option} takes no value; ${hint}`);
      options.push({ name: token.name, value: token.value });
    }
  }
  return {
    options,
    positionals,
    has: (name) => options.some((o) => o.name === name),
    last: (name) => options.filter((o) => o.name === name).pop()?.value,
  };
}
