/**
 * The Kaholo agent's side of the contract: what it passes to a method and to
 * an autocomplete function, and what it expects back.
 */

/** What the agent passes as the first argument of a method. */
export interface KaholoAction {
  method: { name: string };
  /** Param values by name, as the form or the pipeline's code layer set them. */
  params: Record<string, unknown>;
}

/** Plugin-wide setting values by name. */
export type KaholoSettings = Record<string, unknown>;

/** A plugin method as the agent calls it: the return value is the action's result. */
export type KaholoMethod = (action: KaholoAction, settings: KaholoSettings) => Promise<unknown>;

/** One entry of the arrays an autocomplete function receives. */
export interface KaholoNamedValue {
  name: string;
  value: unknown;
  type?: string;
}

/** One suggestion an autocomplete function returns; `id` is the value the action stores. */
export interface AutocompleteItem {
  id: string;
  value: string;
}

export type KaholoAutocomplete = (
  query: string,
  pluginSettings?: KaholoNamedValue[],
  actionParams?: KaholoNamedValue[],
) => Promise<AutocompleteItem[]>;
