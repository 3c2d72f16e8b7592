import { ParamError } from './errors';

/** An AWS account id: exactly 12 digits, leading zeros included. */
export function checkRegistryId(param: string, value: string): string {
  if (!/^\d{12}$/.test(value)) {
    throw new ParamError(param, `"${value}" is not a registry id; expected the 12-digit AWS account id, such as "123456789012"`);
  }
  return value;
}

// ECR's own pattern for repository names: lower-case path components joined by '/'.
const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export function checkRepositoryName(param: string, value: string): string {
  if (value.length < 2 || value.length > 256 || !REPOSITORY_NAME.test(value)) {
    throw new ParamError(
      param,
      `"${value}" is not an ECR repository name; expected 2 to 256 lower-case letters, digits and ` +
        `"._-" separators, with "/" between path parts (such as "team/app")`,
    );
  }
  return value;
}
