/**
 * The command line of the Kaholo-style runner (scripts/action.ts), checked against config.json.
 *
 *   <method|autocompleteFunction> [--param name=value]... [--setting name=value]...
 *       [--param-env name=ENV_VAR]... [--setting-env name=ENV_VAR]... [--params-file file.json]
 *       [--query text] [--local] [--log-to-stderr] [--help]
 *
 * Where values come from, later sources winning over earlier ones for the same name:
 *   1. --params-file: `{ "params": {...}, "settings": {...} }`, or a flat object of params.
 *      Values are passed as they are (arrays, `{ id, value }` objects: what the code layer sends).
 *   2. For every vault param and setting: the environment variable KAHOLO_PARAM_<name> /
 *      KAHOLO_SETTING_<name> (e.g. KAHOLO_PARAM_secretAccessKey), when set and not empty.
 *   3. --param / --setting (strings), --param-env / --setting-env (the value of an environment
 *      variable). Giving the same name more than once makes an array, in order, as the pipeline's
 *      code layer may pass one (the plugin decides whether that param takes a list).
 * A vault param or setting given with --param / --setting is refused: its value would be in argv
 * (visible in `ps`, in shell history). Names not declared in config.json are refused too.
 */
import { statSync, readFileSync } from 'node:fs';
import type { Manifest, MethodDeclaration, ParamDeclaration } from './agent';
import { parseCommandLine, UsageError } from './cli-args';

export { UsageError };

const OPTIONS = {
  param: { type: 'string', short: 'p' },
  setting: { type: 'string', short: 's' },
  'param-env': { type: 'string' },
  'setting-env': { type: 'string' },
  'params-file': { type: 'string' },
  query: { type: 'string', short: 'q' },
  local: { type: 'boolean' },
  'log-to-stderr': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const PARAM_ENV_PREFIX = 'KAHOLO_PARAM_';
export const SETTING_ENV_PREFIX = 'KAHOLO_SETTING_';

export type Target =
  | { kind: 'method'; name: string; method: MethodDeclaration }
  | { kind: 'autocomplete'; name: string; methods: MethodDeclaration[] };

/** Where a value came from, for the runner's printout (never the value of a vault field). */
export type Source = 'command line' | 'params file' | '--local' | `environment ${string}`;

export interface Invocation {
  target: Target;
  params: Record<string, unknown>;
  settings: Record<string, unknown>;
  paramSources: Record<string, Source>;
  settingSources: Record<string, Source>;
  /** Autocomplete only. */
  query: string;
  /** Start the local ECR stack for this one call. */
  local: boolean;
  /** Send the activity log to stderr, so that stdout holds only the result JSON. */
  logToStderr: boolean;
  warnings: string[];
}

export type Parsed = { help: string } | { invocation: Invocation };

interface Io {
  env: NodeJS.ProcessEnv;
  readFile: (file: string) => string;
  /** Permission bits of a file, to warn about a params file with secrets that others can read. */
  fileMode: (file: string) => number | undefined;
}

const defaultIo: Io = {
  env: process.env,
  readFile: (file) => readFileSync(file, 'utf8'),
  fileMode: (file) => {
    try {
      return statSync(file).mode & 0o777;
    } catch {
      return undefined;
    }
  },
};

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Every autocomplete function config.json names, with the methods whose params use it. */
export function autocompleteFunctions(manifest: Manifest): Map<string, MethodDeclaration[]> {
  const functions = new Map<string, MethodDeclaration[]>();
  for (const method of manifest.methods) {
    for (const param of method.params) {
      if (param.type === 'autocomplete' && param.functionName) {
        const users = functions.get(param.functionName) ?? [];
        if (!users.includes(method)) users.push(method);
        functions.set(param.functionName, users);
      }
    }
  }
  return functions;
}

function findTarget(manifest: Manifest, name: string): Target {
  const method = manifest.methods.find((m) => m.name === name);
  if (method) return { kind: 'method', name, method };
  const functions = autocompleteFunctions(manifest);
  const users = functions.get(name);
  if (users) return { kind: 'autocomplete', name, methods: users };
  throw new UsageError(
    `config.json declares no method or autocomplete function "${name}". ` +
      `Methods: ${manifest.methods.map((m) => m.name).join(', ')}. Autocomplete functions: ${[...functions.keys()].join(', ') || 'none'}.`,
  );
}

/** The params a target accepts: the method's, or for an autocomplete function those of the methods using it. */
function declaredParams(target: Target): ParamDeclaration[] {
  if (target.kind === 'method') return target.method.params;
  const byName = new Map<string, ParamDeclaration>();
  for (const method of target.methods) for (const param of method.params) if (!byName.has(param.name)) byName.set(param.name, param);
  return [...byName.values()];
}

function splitAssignment(option: string, text: string, what: string): [string, string] {
  const eq = text.indexOf('=');
  // Never echo the text: it may be a secret typed in the wrong place.
  if (eq <= 0) throw new UsageError(`${option} expects ${what} (name, then "=", then the ${what.endsWith('ENV_VAR') ? 'variable' : 'value'})`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

class Fields {
  readonly values: Record<string, unknown> = {};
  readonly sources: Record<string, Source> = {};
  /** Names already set from the command line, so a repeat appends instead of replacing. */
  private readonly fromCommandLine = new Set<string>();

  constructor(
    readonly kind: 'param' | 'setting',
    readonly declared: ParamDeclaration[],
    readonly where: string,
  ) {}

  declaration(name: string): ParamDeclaration {
    const found = this.declared.find((p) => p.name === name);
    if (!found) {
      const valid = this.declared.map((p) => p.name).join(', ') || 'none';
      throw new UsageError(`"${name}" is not a ${this.kind} of ${this.where} in config.json. Valid ${this.kind}s: ${valid}.`);
    }
    return found;
  }

  set(name: string, value: unknown, source: Source): void {
    this.declaration(name);
    this.values[name] = value;
    this.sources[name] = source;
  }

  /** From the command line: a repeated name collects an array. */
  add(name: string, value: string, source: Source): void {
    this.declaration(name);
    if (this.fromCommandLine.has(name)) {
      const previous = this.values[name];
      this.values[name] = Array.isArray(previous) ? [...(previous as unknown[]), value] : [previous, value];
    } else {
      this.fromCommandLine.add(name);
      this.values[name] = value;
    }
    this.sources[name] = source;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readParamsFile(file: string, params: Fields, settings: Fields, io: Io, warnings: string[]): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(io.readFile(file));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new UsageError(`--params-file ${file}: ${reason}`);
  }
  if (!isPlainObject(parsed)) throw new UsageError(`--params-file ${file}: expected a JSON object`);
  const keys = Object.keys(parsed);
  const structured = keys.length > 0 && keys.every((k) => (k === 'params' || k === 'settings') && isPlainObject(parsed[k]));
  const fileParams = structured ? ((parsed.params ?? {}) as Record<string, unknown>) : parsed;
  const fileSettings = structured ? ((parsed.settings ?? {}) as Record<string, unknown>) : {};
  let vault = false;
  for (const [fields, values] of [[params, fileParams], [settings, fileSettings]] as const) {
    for (const [name, value] of Object.entries(values)) {
      fields.set(name, value, 'params file');
      if (fields.declaration(name).type === 'vault' && value !== '' && value !== undefined && value !== null) vault = true;
    }
  }
  const mode = io.fileMode(file);
  if (vault && mode !== undefined && (mode & 0o077) !== 0) {
    warnings.push(`${file} holds vault values and others may read it (mode ${mode.toString(8)}): chmod 600 ${file}`);
  }
}

function vaultFromEnvironment(fields: Fields, prefix: string, io: Io, warnings: string[]): void {
  for (const declaration of fields.declared) {
    const variable = `${prefix}${declaration.name}`;
    const value = io.env[variable];
    if (value === undefined || value === '') continue;
    if (declaration.type !== 'vault') {
      warnings.push(`${variable} is ignored: "${declaration.name}" is not a vault ${fields.kind}; give it with --${fields.kind} ${declaration.name}=...`);
      continue;
    }
    fields.set(declaration.name, value, `environment ${variable}`);
  }
}

function usageHint(): string {
  return 'run "npm run action -- --help" for the methods and their params';
}

/** Parses the runner's arguments (after `npm run action --`). */
export function parseActionArgs(argv: string[], manifest: Manifest, io: Partial<Io> = {}): Parsed {
  const { env, readFile, fileMode } = { ...defaultIo, ...io };
  const commandLine = parseCommandLine(argv, OPTIONS, usageHint());
  const positional = commandLine.positionals;
  const assignments = commandLine.options
    .filter((o) => /^(param|setting)(-env)?$/.test(o.name))
    .map((o) => ({ option: `--${o.name}`, text: o.value ?? '' }));
  const paramsFiles = commandLine.options.filter((o) => o.name === 'params-file').map((o) => o.value ?? '');
  const query = commandLine.last('query');
  const local = commandLine.has('local');
  const logToStderr = commandLine.has('log-to-stderr');
  const help = commandLine.has('help');

  if (help) return { help: helpText(manifest, positional[0]) };
  if (positional.length === 0) throw new UsageError(`name a method; ${usageHint()}`);
  if (positional.length > 1) throw new UsageError(`one method at a time (got ${positional.map((p) => JSON.stringify(p)).join(', ')}); ${usageHint()}`);
  const target = findTarget(manifest, positional[0]);
  if (query !== undefined && target.kind !== 'autocomplete') {
    throw new UsageError(`--query is for autocomplete functions; "${target.name}" is a method`);
  }

  const where = target.kind === 'method' ? `method "${target.name}"` : `the methods using "${target.name}"`;
  const params = new Fields('param', declaredParams(target), where);
  const settings = new Fields('setting', manifest.settings, 'the plugin');
  const warnings: string[] = [];

  for (const file of paramsFiles) readParamsFile(file, params, settings, { env, readFile, fileMode }, warnings);
  vaultFromEnvironment(params, PARAM_ENV_PREFIX, { env, readFile, fileMode }, warnings);
  vaultFromEnvironment(settings, SETTING_ENV_PREFIX, { env, readFile, fileMode }, warnings);

  for (const { option, text } of assignments) {
    const fields = option.startsWith('--param') ? params : settings;
    if (option.endsWith('-env')) {
      const [name, variable] = splitAssignment(option, text, 'name=ENV_VAR');
      fields.declaration(name);
      if (!ENV_NAME.test(variable)) {
        throw new UsageError(`${option} ${name}=...: expected the NAME of an environment variable after "=", not a value`);
      }
      const fromEnv = env[variable];
      if (fromEnv === undefined) throw new UsageError(`${option} ${name}=${variable}: the environment variable ${variable} is not set`);
      fields.add(name, fromEnv, `environment ${variable}`);
    } else {
      const [name, assigned] = splitAssignment(option, text, 'name=value');
      if (fields.declaration(name).type === 'vault') {
        const prefix = fields.kind === 'param' ? PARAM_ENV_PREFIX : SETTING_ENV_PREFIX;
        throw new UsageError(
          `refusing ${option} ${name}=...: "${name}" is a vault ${fields.kind} and its value must not be on the command line ` +
            `(ps and shell history show it). Set ${prefix}${name} in the environment, or use --${fields.kind}-env ${name}=ENV_VAR.`,
        );
      }
      fields.add(name, assigned, 'command line');
    }
  }

  return {
    invocation: {
      target,
      params: params.values,
      settings: settings.values,
      paramSources: params.sources,
      settingSources: settings.sources,
      query: query ?? '',
      local,
      logToStderr,
      warnings,
    },
  };
}

/** A value as the runner may print it: vault values are never shown, only where they came from. */
export function describeValue(declaration: ParamDeclaration | undefined, value: unknown, source: Source | undefined): string {
  if (declaration?.type === 'vault') {
    const length = typeof value === 'string' ? `${value.length} chars` : Array.isArray(value) ? 'an array' : typeof value;
    return `(vault value, ${length}, from ${source ?? 'unknown'})`;
  }
  return `${JSON.stringify(value)}${source && source !== 'command line' ? ` (from ${source})` : ''}`;
}

function wrap(text: string, indent: string, width = 96): string {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => `${indent}${l}`).join('\n');
}

function describeParam(param: ParamDeclaration, envPrefix: string): string {
  const flags = [param.type + (param.functionName ? ` (${param.functionName})` : ''), param.required ? 'required' : 'optional'];
  if (param.type === 'vault') flags.push(`from ${envPrefix}${param.name}`);
  const head = `    ${param.name.padEnd(18)} ${flags.join(', ')}`;
  return param.description ? `${head}\n${wrap(param.description, ' '.repeat(23))}` : head;
}

/** --help: the options, then every method and its params from config.json. */
export function helpText(manifest: Manifest, only?: string): string {
  const functions = autocompleteFunctions(manifest);
  const methods = only ? manifest.methods.filter((m) => m.name === only) : manifest.methods;
  const lines: string[] = [];
  if (!only || methods.length === 0) {
    lines.push(
      `Runs one method of the ${manifest.viewName} plugin (${manifest.main}, version ${manifest.version}) as the Kaholo agent does.`,
      '',
      'usage: npm run action -- <method> [options]',
      '       npm run action -- <autocompleteFunction> [--query text] [options]',
      '',
      'options:',
      '  --param name=value, -p       a method param; repeat a name to pass an array',
      '  --setting name=value, -s     a plugin setting (what the plugin\'s settings page holds)',
      '  --param-env name=ENV_VAR     a param from an environment variable (the way to give vault values)',
      '  --setting-env name=ENV_VAR   a setting from an environment variable',
      '  --params-file file.json      {"params": {...}, "settings": {...}} or a flat object of params',
      '  --query text, -q             the text typed into an autocomplete field',
      '  --local                      start the local ECR stack for this call (keys, region and endpoint set for it)',
      '  --log-to-stderr              activity log on stderr, so stdout is only the result JSON',
      '  --help, -h                   this help; "<method> --help" for one method',
      '',
      'Vault params and settings are never taken from the command line. Without --param-env, each one is read',
      `from ${PARAM_ENV_PREFIX}<name> / ${SETTING_ENV_PREFIX}<name> when set, e.g. ${PARAM_ENV_PREFIX}secretAccessKey.`,
      'With no keys at all the plugin uses the AWS SDK\'s default chain (AWS_ACCESS_KEY_ID, profile, role).',
      'AWS_ENDPOINT_URL_ECR, when set, points the plugin at another ECR endpoint (such as the local one).',
      '',
      'The result is printed as JSON on stdout; a failed action prints its error on stderr and exits 1',
      '(2 for a command-line mistake).',
      '',
    );
    if (only) lines.push(`(no method "${only}")`, '');
  }
  for (const method of methods) {
    lines.push(`${method.name} — ${method.viewName}`);
    if (method.description) lines.push(wrap(method.description, '    '));
    for (const param of method.params) lines.push(describeParam(param, PARAM_ENV_PREFIX));
    lines.push('');
  }
  if (!only) {
    for (const [name, users] of functions) {
      lines.push(`${name} — autocomplete function (used by ${[...new Set(users.flatMap((m) => m.params.filter((p) => p.functionName === name).map((p) => p.name)))].join(', ')})`);
      lines.push('    --query text filters the suggestions; returns [{ id, value }]');
      lines.push('');
    }
    lines.push('plugin settings (--setting, or the method param of the same name):');
    for (const setting of manifest.settings) lines.push(describeParam(setting, SETTING_ENV_PREFIX));
    lines.push('');
    lines.push('examples:');
    lines.push('  npm run action -- listRegions --query lon');
    lines.push('  npm run action -- describeRepositories --local');
    lines.push('  npm run action -- pushImgaeToRepo --local --param repoName=team/app --param imageName=app:1.2.0');
    lines.push('  npm run action -- pullImage --local --param repoName=team/app --param imageName=1.2.0');
    lines.push('against AWS (keys from the environment, never the command line):');
    lines.push('  read -rs KAHOLO_PARAM_secretAccessKey && export KAHOLO_PARAM_secretAccessKey   # typed, not echoed');
    lines.push('  KAHOLO_PARAM_accessKeyId=AKIA... npm run action -- describeRepositories --param region=eu-west-2');
    lines.push('  npm run action -- getEcrLogin --param-env accessKeyId=AWS_ACCESS_KEY_ID \\');
    lines.push('    --param-env secretAccessKey=AWS_SECRET_ACCESS_KEY --param region=us-east-1');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
