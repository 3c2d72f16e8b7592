import { ActivityLog } from './activity-log';
import { PluginError } from './errors';
import type { KaholoAction, KaholoMethod, KaholoSettings } from './kaholo';
import { ParamReader } from './params';
import { Redactor } from './redact';

/** What a method body gets: its params, the activity log, and the redactor that guards both. */
export interface ActionContext {
  params: ParamReader;
  log: ActivityLog;
  redactor: Redactor;
}

/** Params and settings (as config.json declares them) whose values are secrets from the start. */
const SECRET_PARAMS = ['secretAccessKey', 'sessionToken'];
const SECRET_SETTINGS = ['secretAccessKey'];

/**
 * Wraps a method body as the agent calls it. Whatever the body throws becomes
 * an Error whose message is one clear line with every known secret hidden;
 * nothing else (stack, SDK internals) reaches the user.
 */
export function kaholoMethod(body: (context: ActionContext) => Promise<unknown>): KaholoMethod {
  return async (action: KaholoAction, settings: KaholoSettings) => {
    const redactor = new Redactor();
    for (const [source, names] of [[action?.params, SECRET_PARAMS], [settings, SECRET_SETTINGS]] as const) {
      for (const name of names) {
        redactor.add(secretText(source?.[name]));
      }
    }
    try {
      const params = ParamReader.from(action, settings);
      return await body({ params, log: new ActivityLog(redactor), redactor });
    } catch (error) {
      throw new PluginError(redactor.redact(messageOf(error)));
    }
  };
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
