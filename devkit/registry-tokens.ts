/**
 * The token service of a registry that authenticates as public.ecr.aws does: the registry
 * (docker-registry with `auth: token`) answers a request without a valid token with 401 and a
 * Bearer challenge naming this service's realm; the client asks the realm for a token, with Basic
 * credentials or with none at all (an anonymous pull), and presents it to the registry. What a
 * token grants is the policy's to say: the ECR Public stand-in lets anyone pull and a logged-in
 * user push to a repository that exists. Wrong credentials are refused, never read as anonymous,
 * so a client that sends a stale login fails as it does on public.ecr.aws.
 *
 * Tokens are JWTs signed RS256 with a key whose self-signed certificate the registry trusts (its
 * `rootcertbundle`); the certificate rides in each token's `x5c` header. The key and certificate
 * are made by openssl (argument array, no shell) in a private directory, removed by dispose().
 */
import execa from 'execa';
import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { listenLocally } from './local-server';

/** One grant of a token: what may be done to one repository. */
export interface Access {
  type: 'repository';
  name: string;
  actions: string[];
}

/** Who asked for a token: a user whose password was right, or nobody (no credentials at all). */
export type TokenRequester = { user: string } | undefined;

export interface TokenPolicy {
  /** Whether `user` with `password` may have tokens at all; false answers 401. */
  authenticate(user: string, password: string): boolean;
  /** What of `requested` the requester gets (a subset; nothing is fine: the registry then refuses). */
  grant(requester: TokenRequester, requested: Access[]): Access[];
}

/** The registry's `auth.token` settings that trust this service. */
export interface RegistryTokenAuth {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundle: string;
}

export interface TokenIssuer {
  /** Who may have which token; until set, nobody may have any. */
  policy: TokenPolicy;
  /** Path of the realm on the server that serves it ('/token'). */
  readonly realmPath: string;
  /** The registry's settings, once the realm's origin is known. */
  registryAuth(origin: string, service: string): RegistryTokenAuth;
  /** A token for `access` (the kit's own use of the registry: seeding, manifests). */
  mint(service: string, access: Access[], subject?: string): string;
  /** Whether this request is for the realm (a GET of its path). */
  claims(req: IncomingMessage): boolean;
  /** Answers a realm request as the Docker token protocol says: 200 with a token, or 401. */
  answer(req: IncomingMessage, res: ServerResponse): void;
  /** Every token request, in order: who asked and what each got. */
  requests: Array<{ requester: TokenRequester | 'refused'; scopes: string[]; granted: Access[] }>;
  dispose(): Promise<void>;
}

const ISSUER = 'kaholo-kit-token-service';
const TOKEN_LIFETIME_SECONDS = 300;

const base64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** `repository:alias/team/app:pull,push` → its grant request; other scope types are ignored. */
export function parseScope(scope: string): Access | undefined {
  const last = scope.lastIndexOf(':');
  const first = scope.indexOf(':');
  if (first < 0 || last <= first || scope.slice(0, first) !== 'repository') return undefined;
  const actions = scope.slice(last + 1).split(',').filter(Boolean);
  return { type: 'repository', name: scope.slice(first + 1, last), actions };
}

/** The Basic credentials of a request: absent, or user and password; 'malformed' for anything else. */
function basicCredentials(req: IncomingMessage): { user: string; password: string } | undefined | 'malformed' {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Basic\s+(\S+)$/i.exec(header);
  if (!match) return 'malformed';
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? 'malformed' : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Until a policy is set: no login is right and no token grants anything. */
const NOBODY: TokenPolicy = { authenticate: () => false, grant: () => [] };

export async function startTokenIssuer(policy: TokenPolicy = NOBODY, realmPath = '/token'): Promise<TokenIssuer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kdk-tokens-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  let key: KeyObject;
  let certificate: string;
  try {
    await execa(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', `/CN=${ISSUER}`, '-keyout', keyFile, '-out', certFile],
      { stdin: 'ignore' },
    );
    key = createPrivateKey(await fs.readFile(keyFile));
    const pem = await fs.readFile(certFile, 'utf8');
    certificate = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  } catch (error) {
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }

  const mint = (service: string, access: Access[], subject = ''): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [certificate] }));
    const claims = base64url(
      JSON.stringify({ iss: ISSUER, sub: subject, aud: service, exp: now + TOKEN_LIFETIME_SECONDS, nbf: now - 10, iat: now, jti: randomUUID(), access }),
    );
    const signature = sign('sha256', Buffer.from(`${header}.${claims}`), key);
    return `${header}.${claims}.${base64url(signature)}`;
  };

  const requests: TokenIssuer['requests'] = [];
  const json = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };

  const issuer: TokenIssuer = {
    policy,
    realmPath,
    registryAuth: (origin, service) => ({ realm: `${origin}${realmPath}`, service, issuer: ISSUER, rootCertBundle: certFile }),
    mint,
    claims: (req) => req.method === 'GET' && new URL(req.url ?? '/', 'http://realm').pathname === realmPath,
    answer(req, res) {
      req.resume();
      const url = new URL(req.url ?? '/', 'http://realm');
      const service = url.searchParams.get('service') ?? '';
      const scopes = url.searchParams.getAll('scope');
      const credentials = basicCredentials(req);
      if (credentials === 'malformed' || (credentials !== undefined && !issuer.policy.authenticate(credentials.user, credentials.password))) {
        requests.push({ requester: 'refused', scopes, granted: [] });
        json(res, 401, { errors: [{ code: 'DENIED', message: 'Your authorization token is invalid.' }] });
        return;
      }
      const requester: TokenRequester = credentials === undefined ? undefined : { user: credentials.user };
      const requested = scopes.map(parseScope).filter((access): access is Access => access !== undefined);
      const granted = issuer.policy.grant(requester, requested);
      requests.push({ requester, scopes, granted });
      const token = mint(service, granted, requester?.user);
      json(res, 200, { token, access_token: token, expires_in: TOKEN_LIFETIME_SECONDS, issued_at: new Date().toISOString() });
    },
    requests,
    dispose: () => fs.rm(dir, { recursive: true, force: true }),
  };
  return issuer;
}

/** A token realm of its own: an HTTP server on 127.0.0.1 that answers `issuer`'s realm requests (and 404 to anything else). */
export async function startTokenRealm(issuer: TokenIssuer): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (issuer.claims(req)) issuer.answer(req, res);
    else res.writeHead(404).end();
  });
  const { url, close } = await listenLocally(server);
  return { origin: url, close };
}
