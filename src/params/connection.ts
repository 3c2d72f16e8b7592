/**
 * params/: the actions' inputs as typed values, each checked before any call
 * so that a mistake is one line naming its param: the connection (credentials,
 * region, role), account ids and names, regions, image references and what
 * `imageName` means, tags, repository settings, the registry type, and how
 * hard and how long a transfer tries. This file reads the connection every
 * method shares.
 */
import { checkExternalId, checkRoleArn, checkRoleDuration, checkRoleSessionName } from './aws-names';
import { ParamError, quote } from '../errors';
import type { ParamReader } from '../kaholo/param-reader';
import { isWellFormedRegion } from './regions';

/** Static keys given to the plugin; absent means the SDK's default credential chain. */
export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A role to assume with the base credentials (STS AssumeRole) before calling ECR. */
export interface RoleRequest {
  roleArn: string;
  /** A secret of the role's trust policy: sent to STS, never shown. */
  externalId?: string;
  sessionName: string;
  durationSeconds: number;
}

/** Where and as whom to call ECR. */
export interface AwsConnection {
  /** Absent: the SDK resolves it (AWS_REGION, the shared config's profile). */
  region?: string;
  /** The base credentials; absent means the SDK's default chain. */
  credentials?: StaticCredentials;
  /** With a role, every ECR call uses the role's temporary credentials. */
  role?: RoleRequest;
}

/** How long a role session lasts unless the action says otherwise (STS's own default). */
export const DEFAULT_ROLE_DURATION_SECONDS = 3600;

/**
 * Reads the params every method shares. Each falls back to the plugin setting
 * of the same name; with no keys at all the SDK's default chain is used, so an
 * agent with a role or profile needs none.
 */
export function readConnection(params: ParamReader, method: string): AwsConnection {
  const { accessKeyId, secretAccessKey } = readKeyPair(params);
  const sessionToken = params.string('sessionToken');
  const region = params.stringOrSetting('region');

  if (region !== undefined && !isWellFormedRegion(region)) {
    throw new ParamError('region', `${quote(region)} is not an AWS region code; expected one such as "us-east-1" or "eu-west-2"`);
  }
  if (accessKeyId !== undefined && secretAccessKey === undefined) {
    throw new ParamError('secretAccessKey', `is required when "accessKeyId" is set (${PAIR_RULE})`);
  }
  if (secretAccessKey !== undefined && accessKeyId === undefined) {
    throw new ParamError('accessKeyId', `is required when "secretAccessKey" is set (${PAIR_RULE})`);
  }
  if (sessionToken !== undefined && accessKeyId === undefined) {
    throw new ParamError('sessionToken', 'goes with temporary keys: set "accessKeyId" and "secretAccessKey" too');
  }
  if (accessKeyId !== undefined && !/^[A-Z0-9]{16,128}$/.test(accessKeyId)) {
    throw new ParamError('accessKeyId', 'expected an AWS access key id (16 or more upper-case letters and digits, such as AKIA...)');
  }
  // The token travels as an HTTP header: a space, line break or other control character would break the request.
  if (sessionToken !== undefined && !/^[\x21-\x7e]+$/.test(sessionToken)) {
    throw new ParamError('sessionToken', 'expected the token exactly as AWS STS gave it: printable characters, no spaces or line breaks');
  }
  const credentials =
    accessKeyId !== undefined && secretAccessKey !== undefined
      ? { accessKeyId, secretAccessKey, ...(sessionToken !== undefined ? { sessionToken } : {}) }
      : undefined;
  const role = readRole(params, method);
  return { region, credentials, ...(role ? { role } : {}) };
}

/**
 * The role params; `roleArn` and `roleExternalId` fall back to the plugin
 * settings of the same names. All are checked here, before any call.
 */
function readRole(params: ParamReader, method: string): RoleRequest | undefined {
  const roleArn = params.stringOrSetting('roleArn');
  const externalId = params.stringOrSetting('roleExternalId');
  const sessionName = params.string('roleSessionName');
  const duration = params.numeral('roleDurationSeconds');
  if (roleArn === undefined) {
    const given = { roleExternalId: params.string('roleExternalId'), roleSessionName: sessionName, roleDurationSeconds: duration };
    const orphan = Object.entries(given).find(([, value]) => value !== undefined)?.[0];
    if (orphan) throw new ParamError('roleArn', `is required when "${orphan}" is set: the ARN of the role to assume`);
    return undefined;
  }
  return {
    roleArn: checkRoleArn('roleArn', roleArn),
    ...(externalId !== undefined ? { externalId: checkExternalId('roleExternalId', externalId) } : {}),
    sessionName: checkRoleSessionName('roleSessionName', sessionName ?? `kaholo-ecr-${method}`),
    durationSeconds: duration !== undefined ? checkRoleDuration('roleDurationSeconds', duration) : DEFAULT_ROLE_DURATION_SECONDS,
  };
}

const PAIR_RULE = 'the two keys are taken together, from the action or else from the plugin settings';

/**
 * The keys come as a pair from one place: an action that sets either key uses
 * its own pair, never half of the settings' pair, which could only fail later
 * as a signature mismatch.
 */
function readKeyPair(params: ParamReader): { accessKeyId?: string; secretAccessKey?: string } {
  const fromAction = { accessKeyId: params.string('accessKeyId'), secretAccessKey: params.string('secretAccessKey') };
  if (fromAction.accessKeyId !== undefined || fromAction.secretAccessKey !== undefined) return fromAction;
  return { accessKeyId: params.setting('accessKeyId'), secretAccessKey: params.setting('secretAccessKey') };
}
