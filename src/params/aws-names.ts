import { ParamError, quote } from '../errors';

/** An AWS account id: exactly 12 digits, leading zeros included. */
export function checkRegistryId(param: string, value: string): string {
  if (!/^\d{12}$/.test(value)) {
    throw new ParamError(param, `${quote(value)} is not a registry id; expected the 12-digit AWS account id, such as "123456789012"`);
  }
  return value;
}

// ECR's own pattern for repository names: lower-case path components joined by '/'.
const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export function checkRepositoryName(param: string, value: string): string {
  if (value.length < 2 || value.length > 256 || !REPOSITORY_NAME.test(value)) {
    throw new ParamError(
      param,
      `${quote(value)} is not an ECR repository name; expected 2 to 256 lower-case letters, digits and ` +
        `"._-" separators, with "/" between path parts (such as "team/app")`,
    );
  }
  return value;
}

// An IAM role ARN: partition, 12-digit account, "role/" and the role's path and name.
const ROLE_ARN = /^arn:(?:aws|aws-cn|aws-us-gov):iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

export function checkRoleArn(param: string, value: string): string {
  if (value.length > 2048 || !ROLE_ARN.test(value)) {
    throw new ParamError(
      param,
      `${quote(value)} is not an IAM role ARN; expected arn:<aws|aws-cn|aws-us-gov>:iam::<12-digit account>:role/<path/name>, ` +
        'such as "arn:aws:iam::123456789012:role/ecr-push"',
    );
  }
  return value;
}

/** STS's rule for session names. */
export function checkRoleSessionName(param: string, value: string): string {
  if (!/^[\w+=,.@-]{2,64}$/.test(value)) {
    throw new ParamError(param, `${quote(value)} is not a role session name; expected 2 to 64 letters, digits and "+=,.@_-"`);
  }
  return value;
}

/** STS's rule for external ids; the value is a secret, so it is never echoed. */
export function checkExternalId(param: string, value: string): string {
  if (!/^[\w+=,.@:/-]{2,1224}$/.test(value)) {
    throw new ParamError(param, 'expected 2 to 1224 letters, digits and "+=,.@:/_-" (the external id the role\'s trust policy names)');
  }
  return value;
}

export const MIN_ROLE_DURATION_SECONDS = 900;
export const MAX_ROLE_DURATION_SECONDS = 43_200;

export function checkRoleDuration(param: string, value: string): number {
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || seconds < MIN_ROLE_DURATION_SECONDS || seconds > MAX_ROLE_DURATION_SECONDS) {
    throw new ParamError(
      param,
      `${quote(value)} is not a role session duration; expected whole seconds from ${MIN_ROLE_DURATION_SECONDS} to ${MAX_ROLE_DURATION_SECONDS} (default 3600)`,
    );
  }
  return seconds;
}
