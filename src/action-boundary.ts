import { ActivityLog } from './activity-log';
import { oneLine, PluginError, shortenEchoes } from './errors';
import type { KaholoAction, KaholoMethod, KaholoSettings } from './kaholo';
import { ParamReader } from './params';
import { Redactor } from './redact';
import { vaultNames } from './vault-names';

/** What a method body gets: its params, the activity log, and the redactor that guards both. */
export interface ActionContext {
  params: ParamReader;
  log: ActivityLog;
  redactor: Redactor;
}

/**
 * Wraps a method body as the agent calls it. Whatever the body throws becomes
 * an Error whose message is one clear line with every known secret hidden;
 * nothing else (stack, SDK internals) reaches the user.
 */
export function kaholoMethod(body: (context: ActionContext) => Promise<unknown>): KaholoMethod {
  return async (action: KaholoAction, settings: KaholoSettings) => {
    const redactor = new Redactor();
    try {
      addVaultValues(redactor, action, settings);
      const params = ParamReader.from(action, settings);
      return await body({ params, log: new ActivityLog(redactor), redactor });
    } catch (error) {
      throw new PluginError(oneLine(shortenEchoes(redactor.redact(messageOf(error)), givenValues(action, settings))));
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

function messageOf(error: unknown): string {
  if (error instanceof PluginError) return error.message;
  if (error instanceof Error) return `Unexpected error: ${error.name}: ${error.message}`;
  return `Unexpected error: ${String(error)}`;
}
