/**
 * kaholo/: the plugin's side of the Kaholo agent's contract. The agent calls
 * a method with an action and the plugin settings and shows its result, its
 * output and its error; this folder holds the contract's types, the boundary
 * every method passes through (one-line errors, every secret hidden), the
 * reader of param values as Kaholo delivers them, the activity log and the
 * redactor. This file is the boundary.
 */
import { ActivityLog } from './activity-log';
import { oneLine, PluginError, shortenEchoes, withSecretsHidden } from '../errors';
import type { KaholoAction, KaholoMethod, KaholoSettings } from './contract';
import { ParamReader } from './param-reader';
import { Redactor } from './redactor';
import { vaultNames } from './vault-names';

/** What a method body gets: its params, the activity log, and the redactor that guards both. */
export interface ActionContext {
  params: ParamReader;
  log: ActivityLog;
  redactor: Redactor;
}

/**
 * Wraps a method body as the agent calls it. Whatever the body throws becomes
 * an Error whose message is one clear line; nothing else (stack, SDK
 * internals) reaches the user. Secrets are hidden where foreign text enters a
 * message (quote(), shorten(), the AWS error descriptions, docker's output:
 * src/errors.ts), so that a secret that is also a word never rewrites the
 * plugin's own; the activity log hides them in every line.
 */
export function kaholoMethod(body: (context: ActionContext) => Promise<unknown>): KaholoMethod {
  return async (action: KaholoAction, settings: KaholoSettings) => {
    const redactor = new Redactor();
    try {
      return await withSecretsHidden(redactor, () => {
        addVaultValues(redactor, action, settings);
        const params = ParamReader.from(action, settings);
        return body({ params, log: new ActivityLog(redactor), redactor });
      });
    } catch (error) {
      throw new PluginError(oneLine(shortenEchoes(messageOf(error, redactor), givenValues(action, settings).filter((value) => !redactor.knows(value)))));
    }
  };
}

/** Every text the action was given (param and setting values, their list items, array items and autocomplete ids), as an error could echo it. */
function givenValues(action: KaholoAction | undefined, settings: KaholoSettings | undefined): string[] {
  const values = [action?.params, settings].flatMap((given: unknown): unknown[] => (typeof given === 'object' && given !== null ? Object.values(given) : []));
  return values
    .flatMap((value: unknown) => (Array.isArray(value) ? (value as unknown[]) : [value]))
    .flatMap((value) => {
      const text = secretText(value);
      return text === undefined ? [] : [text, ...text.split(/[\n,]/).map((item) => item.trim())];
    });
}

/** Every value config.json declares `vault`, in the action's params (its method's) and in the settings. */
function addVaultValues(redactor: Redactor, action: KaholoAction | undefined, settings: KaholoSettings | undefined): void {
  const names = vaultNames();
  const method = typeof action?.method?.name === 'string' ? names.params[action.method.name] : undefined;
  const params: unknown = action?.params;
  if (typeof params === 'object' && params !== null) {
    for (const name of method ?? names.anyParams) redactor.add(secretText((params as Record<string, unknown>)[name]));
  }
  if (typeof settings === 'object' && settings !== null) {
    for (const name of names.settings) redactor.add(secretText(settings[name]));
  }
}

/** A secret as it may arrive: a string, or the `{ id }` of an object from the code layer. */
function secretText(value: unknown): string | undefined {
  const text = typeof value === 'object' && value !== null && 'id' in value ? value.id : value;
  return typeof text === 'string' ? text.trim() : undefined;
}

/** A PluginError's message was built by the plugin (its foreign parts hidden as they entered); any other error is foreign whole. */
function messageOf(error: unknown, redactor: Redactor): string {
  if (error instanceof PluginError) return error.message;
  if (error instanceof Error) return `Unexpected error: ${redactor.redact(`${error.name}: ${error.message}`)}`;
  return `Unexpected error: ${redactor.redact(String(error))}`;
}
