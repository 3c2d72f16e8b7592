/**
 * STS AssumeRole for the local endpoint, in STS's query protocol: form-encoded requests, XML
 * answers and STS's XML errors, SigV4 checked for the signing service `sts`. It lets the base keys
 * assume the roles it is given (with their external id and maximum session duration) and hands out
 * temporary keys that the other services accept only together with their session token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomKey, type AccessKeys } from './access-keys';
import { headerValue, readBody, type EndpointService } from './endpoint-server';
import { checkSignature } from './sigv4';

export interface RoleConfig {
  /** When set, AssumeRole must carry exactly this ExternalId (as a trust policy's sts:ExternalId condition). */
  externalId?: string;
  /** The role's MaxSessionDuration; default 3600 (as IAM's). */
  maxSessionDurationSeconds?: number;
}

/** One AssumeRole request that carried a parseable SigV4 credential. */
export interface AssumeRoleCall {
  accessKeyId: string;
  region: string;
  roleArn?: string;
  roleSessionName?: string;
  durationSeconds?: number;
  externalId?: string;
  /** The temporary access key handed out, when the call succeeded. */
  issuedAccessKeyId?: string;
}

export interface StsOptions {
  keys: AccessKeys;
  /** Roles the base keys may assume, by role ARN. */
  roles: Record<string, RoleConfig>;
  /** The account of the local user, named when a role is refused. */
  accountId: string;
  /** Where each AssumeRole request is recorded, in order. */
  calls: AssumeRoleCall[];
}

const XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const SIGNING_SERVICE = 'sts';
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;

/** An error answered in STS's XML shape; `code` becomes the SDK error's `name`. */
class StsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

const escapeXml = (text: string): string =>
  text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);

function resultXml(requestId: string, result: string): string {
  return (
    `<AssumeRoleResponse xmlns="${XMLNS}">\n  <AssumeRoleResult>\n${result}  </AssumeRoleResult>\n` +
    `  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n</AssumeRoleResponse>\n`
  );
}

function errorXml(requestId: string, error: StsError): string {
  return (
    `<ErrorResponse xmlns="${XMLNS}">\n  <Error>\n    <Type>${error.type}</Type>\n    <Code>${escapeXml(error.code)}</Code>\n` +
    `    <Message>${escapeXml(error.message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`
  );
}

function sendXml(res: ServerResponse, requestId: string, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(body), 'x-amzn-RequestId': requestId });
  res.end(body);
}

/** STS as a service of the endpoint: it claims every form-encoded request. */
export function stsService(options: StsOptions): EndpointService<'sts'> {
  const roles = new Map(Object.entries(options.roles));

  /** Records the request and checks its signature; what it asks for, once it may ask. */
  const signedCall = async (req: IncomingMessage): Promise<{ call: AssumeRoleCall; form: URLSearchParams }> => {
    const body = await readBody(req);
    const form = new URLSearchParams(body.toString('utf8'));
    const { failure, signer } = checkSignature(req, body, SIGNING_SERVICE, options.keys);
    if (!signer) throw new StsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
    const duration = form.get('DurationSeconds');
    const call: AssumeRoleCall = { accessKeyId: signer.accessKeyId, region: signer.region };
    for (const [field, value] of [['roleArn', form.get('RoleArn')], ['roleSessionName', form.get('RoleSessionName')], ['externalId', form.get('ExternalId')]] as const) {
      if (value !== null) call[field] = value;
    }
    if (duration !== null) call.durationSeconds = Number(duration);
    options.calls.push(call);

    if (failure === 'unknown-key') throw new StsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
    if (failure === 'wrong-service') {
      throw new StsError('SignatureDoesNotMatch', `Credential should be scoped to correct service: '${SIGNING_SERVICE}'.`, 403);
    }
    if (failure === 'mismatch') {
      throw new StsError(
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
        403,
      );
    }
    return { call, form };
  };

  /** AssumeRole's result: the role's trust and limits checked, a temporary key issued. */
  const assumeRole = (call: AssumeRoleCall, form: URLSearchParams, requestId: string): string => {
    if (form.get('Action') !== 'AssumeRole' || form.get('Version') !== '2011-06-15') {
      throw new StsError('InvalidAction', `Could not find operation ${form.get('Action') ?? ''} for version ${form.get('Version') ?? ''}`);
    }
    const roleArn = call.roleArn ?? '';
    const sessionName = call.roleSessionName ?? '';
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      throw new StsError('ValidationError', `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`);
    }
    const role = roles.get(roleArn);
    const match = ROLE_ARN_PATTERN.exec(roleArn);
    if (!role || !match || (role.externalId !== undefined && call.externalId !== role.externalId)) {
      throw new StsError('AccessDenied', `User: arn:aws:iam::${options.accountId}:user/local is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
    }
    const seconds = call.durationSeconds ?? 3600;
    if (!Number.isInteger(seconds) || seconds < 900 || seconds > 43_200) {
      throw new StsError('ValidationError', `1 validation error detected: Value '${form.get('DurationSeconds') ?? ''}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`);
    }
    if (seconds > (role.maxSessionDurationSeconds ?? 3600)) {
      throw new StsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    }
    const temporary = options.keys.issue(roleArn, seconds);
    call.issuedAccessKeyId = temporary.accessKeyId;
    const [, account, roleName] = match;
    return resultXml(
      requestId,
      `    <AssumedRoleUser>\n      <Arn>arn:aws:sts::${account}:assumed-role/${escapeXml(roleName)}/${escapeXml(sessionName)}</Arn>\n` +
        `      <AssumedRoleId>AROA${randomKey(17)}:${escapeXml(sessionName)}</AssumedRoleId>\n    </AssumedRoleUser>\n` +
        `    <Credentials>\n      <AccessKeyId>${temporary.accessKeyId}</AccessKeyId>\n` +
        `      <SecretAccessKey>${escapeXml(temporary.secretAccessKey)}</SecretAccessKey>\n` +
        `      <SessionToken>${escapeXml(temporary.sessionToken)}</SessionToken>\n` +
        `      <Expiration>${new Date(temporary.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z')}</Expiration>\n    </Credentials>\n`,
    );
  };

  return {
    name: 'sts',
    claims: (req) => (headerValue(req.headers, 'content-type') ?? '').startsWith('application/x-www-form-urlencoded'),
    answer(req, res, requestId) {
      signedCall(req)
        .then(({ call, form }) => assumeRole(call, form, requestId))
        .then(
          (xml) => sendXml(res, requestId, 200, xml),
          (error: unknown) => {
            const failure = error instanceof StsError ? error : new StsError('InternalFailure', `Local STS failure: ${String(error)}`, 500, 'Receiver');
            sendXml(res, requestId, failure.status, errorXml(requestId, failure));
          },
        );
    },
  };
}
