/**
 * AWS's JSON 1.1 protocol, as ECR (and ECR Public) speak it: a POST whose X-Amz-Target names the
 * operation, a JSON body, answers and errors in JSON with the error's type in `__type` and
 * `x-amzn-ErrorType`, so the SDK raises its real exception classes. A service is a table of
 * operations; this module authenticates each call (SigV4, the service's signing name), records
 * it, applies the faults a test set, and answers with the operation's result or error.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessKeys } from './access-keys';
import { CallFaults } from './call-faults';
import { BodyTooLargeError, headerValue, readBody, type EndpointService } from './endpoint-server';
import { checkSignature } from './sigv4';

export type Json = Record<string, unknown>;

/** One operation: its parsed input and the service's state in, its output out (or a ServiceError thrown). */
/** Who signed a call: the operations that default to the caller's account read it. */
export interface Caller {
  /** The role whose temporary key signed, when one did. */
  role?: string;
}

export type Operation<Context> = (input: Json, context: Context, caller: Caller) => Json | Promise<Json>;

/** An error answered in the JSON protocol's shape; `type` becomes the SDK error's `name`. */
export class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export const invalidParameter = (message: string): ServiceError => new ServiceError('InvalidParameterException', message);

/** One request that carried a parseable SigV4 credential, whether it was then accepted or not. */
export interface ServiceCall {
  operation: string;
  accessKeyId: string;
  /** The region from the signature's credential scope, i.e. what the client signed for. */
  region: string;
  sessionToken?: string;
  /** The assumed role whose temporary keys signed the call. */
  role?: string;
}

export interface JsonApi<Name extends string, Context> {
  /** The service's name on the endpoint (fault modes, `faulted`). */
  name: Name;
  /** What names it in a failure of the stand-in itself ('ECR': "Local ECR endpoint failure: ..."). */
  label: string;
  /** The SigV4 signing name its clients sign for. */
  signingService: string;
  /** X-Amz-Target's prefix before the operation name. */
  targetPrefix: string;
  /** The operations by name: each one entry, its handler in the module of what it works on. */
  operations: Readonly<Record<string, Operation<Context>>>;
  /** What every operation works on (repositories, registries, ...). */
  context: Context;
  /** Answers every request no service before it claimed, not only those with its target prefix. */
  answersUnclaimed?: boolean;
}

/** A JSON API served on the endpoint, with the calls it was sent and the faults a test can set. */
export interface JsonService<Name extends string> extends EndpointService<Name> {
  calls: ServiceCall[];
  faults: CallFaults;
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';

export function optionalString(input: Json, field: string): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidParameter(`Invalid parameter at '${field}': must be a string`);
  return value;
}

export function optionalStringList(input: Json, field: string): string[] | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
    throw invalidParameter(`Invalid parameter at '${field}': must be a list of strings`);
  }
  return value;
}

function parseJsonBody(body: Buffer): Json {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ServiceError('SerializationException', 'Request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ServiceError('SerializationException', 'Request body must be a JSON object');
  }
  return parsed as Json;
}

function send(res: ServerResponse, requestId: string, status: number, payload: unknown, errorType?: string): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'Content-Type': CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
    ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
  });
  res.end(body);
}

export function jsonService<Name extends string, Context>(api: JsonApi<Name, Context>, keys: AccessKeys): JsonService<Name> {
  const calls: ServiceCall[] = [];
  const faults = new CallFaults();
  const targetOf = (req: IncomingMessage): string => headerValue(req.headers, 'x-amz-target') ?? '';

  /** Authenticates, records and answers one request; every failure becomes a ServiceError. */
  const answer = async (req: IncomingMessage): Promise<Json> => {
    const body = await readBody(req).catch((error: unknown) => {
      throw error instanceof BodyTooLargeError ? new ServiceError('SerializationException', error.message) : error;
    });
    const target = targetOf(req);
    const operation = target.startsWith(api.targetPrefix) ? target.slice(api.targetPrefix.length) : target;

    const { failure, signer } = checkSignature(req, body, api.signingService, keys);
    if (!signer) {
      throw failure === 'missing'
        ? new ServiceError('UnrecognizedClientException', 'The security token included in the request is invalid.')
        : new ServiceError('IncompleteSignatureException', 'The Authorization header is not a valid AWS4-HMAC-SHA256 header.');
    }
    const { accessKeyId, region, sessionToken, role } = signer;
    calls.push({ operation, accessKeyId, region, ...(sessionToken !== undefined ? { sessionToken } : {}), ...(role !== undefined ? { role } : {}) });
    if (failure === 'unknown-key') throw new ServiceError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    if (signer.expired) throw new ServiceError('ExpiredTokenException', 'The security token included in the request is expired', 403);
    if (failure === 'wrong-service') {
      throw new ServiceError('InvalidSignatureException', `Credential should be scoped to correct service: '${api.signingService}'.`, 403);
    }
    if (failure === 'mismatch') {
      throw new ServiceError(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. ' +
          'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
        403,
      );
    }

    const injected = faults.takeFailure();
    if (injected === 'throttling') throw new ServiceError('ThrottlingException', 'Rate exceeded');
    if (injected === 'server-error') throw new ServiceError('ServerException', 'An internal service error occurred (injected by failNext).', 500);
    const handler = req.method === 'POST' && Object.hasOwn(api.operations, operation) ? api.operations[operation] : undefined;
    if (!handler) throw new ServiceError('UnknownOperationException', `Unknown operation ${target || '(no X-Amz-Target)'}`);
    await faults.pass(operation);
    return handler(parseJsonBody(body), api.context, { ...(role !== undefined ? { role } : {}) });
  };

  return {
    name: api.name,
    calls,
    faults,
    claims: (req) => api.answersUnclaimed === true || targetOf(req).startsWith(api.targetPrefix),
    answer(req, res, requestId) {
      answer(req).then(
        (output) => send(res, requestId, 200, output),
        (error: unknown) => {
          const failure =
            error instanceof ServiceError
              ? error
              : new ServiceError('ServerException', `Local ${api.label} endpoint failure: ${(error as Error)?.message ?? String(error)}`, 500);
          send(res, requestId, failure.status, { __type: failure.type, message: failure.message }, failure.type);
        },
      );
    },
  };
}
