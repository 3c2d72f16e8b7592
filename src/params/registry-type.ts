import type { ParamReader } from '../kaholo/param-reader';

/** Which registry an action works with: the account's private ECR registry, or its ECR Public registry. */
export type RegistryType = 'private' | 'public';

export const REGISTRY_TYPES: readonly RegistryType[] = ['private', 'public'];

/** `registryType` (or another param of the same kind): empty means private, as before the param existed. */
export function readRegistryType(params: ParamReader, name = 'registryType'): RegistryType {
  return params.option(name, REGISTRY_TYPES, 'private');
}
