/**
 * AWS Signature Version 4, checked as a service does: the request's signature is recomputed with
 * the secret of the access key it names and compared in constant time, for one signing service
 * (`ecr`, `sts`, ...). One check for every service of the local endpoint; each service turns a
 * failure into its own error shape, so credentials provably reach the wire as the SDK signs them.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AccessKeys } from './access-keys';
import { headerValue } from './endpoint-server';

/** Who signed a request, as its Authorization header and security token say. */
export interface Signer {
  accessKeyId: string;
  /** The region from the signature's credential scope, i.e. what the client signed for. */
  region: string;
  sessionToken?: string;
  /** The role whose temporary key signed, when one did. */
  role?: string;
  /** A temporary key whose time is up (the signature may still hold). */
  expired: boolean;
}

/**
 * The outcome, failures in the order they are found: no Authorization header, one that is not
 * SigV4, an access key (or key and token) the endpoint does not know, a credential scoped to
 * another service, a signature that does not match.
 */
export type SignatureCheck =
  | { failure: 'missing' | 'malformed'; signer?: undefined }
  | { failure?: 'unknown-key' | 'wrong-service' | 'mismatch'; signer: Signer };

/** Checks the request (with its whole `body`) as signed for `service` with one of `keys`. */
export function checkSignature(req: IncomingMessage, body: Buffer, service: string, keys: AccessKeys): SignatureCheck {
  const authorization = headerValue(req.headers, 'authorization');
  if (authorization === undefined) return { failure: 'missing' };
  const auth = parseAuthorization(authorization);
  if (!auth) return { failure: 'malformed' };
  const sessionToken = headerValue(req.headers, 'x-amz-security-token');
  const temporary = keys.temporary(auth.accessKeyId);
  const signer: Signer = {
    accessKeyId: auth.accessKeyId,
    region: auth.region,
    ...(sessionToken !== undefined ? { sessionToken } : {}),
    ...(temporary ? { role: temporary.roleArn } : {}),
    expired: temporary !== undefined && temporary.expiresAt <= Date.now(),
  };
  const secretAccessKey = keys.secretFor(auth.accessKeyId, sessionToken);
  if (secretAccessKey === undefined) return { failure: 'unknown-key', signer };
  if (auth.service !== service) return { failure: 'wrong-service', signer };
  if (!signatureMatches(req, body, auth, secretAccessKey)) return { failure: 'mismatch', signer };
  return { signer };
}

interface SigV4Authorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, SignedHeaders=..., Signature=...`. */
function parseAuthorization(header: string): SigV4Authorization | undefined {
  const match = /^AWS4-HMAC-SHA256\s+(.+)$/.exec(header.trim());
  if (!match) return undefined;
  const fields = new Map<string, string>();
  for (const part of match[1].split(',')) {
    const separator = part.indexOf('=');
    if (separator > 0) fields.set(part.slice(0, separator).trim(), part.slice(separator + 1).trim());
  }
  const scope = (fields.get('Credential') ?? '').split('/');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (scope.length !== 5 || scope[4] !== 'aws4_request' || !signedHeaders || !signature) return undefined;
  const [accessKeyId, date, region, service] = scope;
  if (!accessKeyId || !/^\d{8}$/.test(date) || !region || !service) return undefined;
  return { accessKeyId, date, region, service, signedHeaders: signedHeaders.split(';'), signature };
}

/** Code-unit order: deterministic and locale independent. */
const compareCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** RFC 3986 escaping, as SigV4 requires (encodeURIComponent leaves !'()* alone). */
const escapeRfc3986 = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const safeDecode = (value: string): string => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

/** Non-S3 services sign the normalised path escaped once more than it travels on the wire. */
function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && rawPath.endsWith('/') ? '/' : '';
  return `/${segments.map(escapeRfc3986).join('/')}${trailing}`;
}

function canonicalQuery(rawQuery: string): string {
  if (!rawQuery) return '';
  return rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const separator = pair.indexOf('=');
      const key = separator < 0 ? pair : pair.slice(0, separator);
      const value = separator < 0 ? '' : pair.slice(separator + 1);
      return [escapeRfc3986(safeDecode(key)), escapeRfc3986(safeDecode(value))] as const;
    })
    .sort(([ka, va], [kb, vb]) => compareCodeUnits(ka, kb) || compareCodeUnits(va, vb))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

/** Mirrors the SDK signer's header value canonicalisation. */
const canonicalHeaderValue = (value: string): string =>
  value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** Recomputes the request's SigV4 signature with `secretAccessKey` and compares it in constant time. */
function signatureMatches(req: IncomingMessage, body: Buffer, auth: SigV4Authorization, secretAccessKey: string): boolean {
  const amzDate = headerValue(req.headers, 'x-amz-date');
  if (!amzDate || !amzDate.startsWith(auth.date) || !auth.signedHeaders.includes('host')) return false;

  const canonicalHeaders: string[] = [];
  for (const name of auth.signedHeaders) {
    const value = headerValue(req.headers, name);
    if (value === undefined) return false;
    canonicalHeaders.push(`${name}:${canonicalHeaderValue(value)}\n`);
  }
  // A signed content hash must describe the body actually received.
  const bodyHash = sha256Hex(body);
  const declaredHash = headerValue(req.headers, 'x-amz-content-sha256');
  if (declaredHash !== undefined && declaredHash !== bodyHash) return false;

  const [rawPath, rawQuery = ''] = (req.url ?? '/').split('?', 2);
  const canonicalRequest = [
    req.method ?? 'POST',
    canonicalPath(rawPath),
    canonicalQuery(rawQuery),
    canonicalHeaders.join(''),
    auth.signedHeaders.join(';'),
    bodyHash,
  ].join('\n');
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, auth.date), auth.region), auth.service), 'aws4_request');
  const expected = Buffer.from(createHmac('sha256', signingKey).update(stringToSign).digest('hex'));
  const provided = Buffer.from(auth.signature);
  return expected.length === provided.length && timingSafeEqual(expected, provided);
}
