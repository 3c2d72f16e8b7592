/**
 * The registry HTTP API client against a registry that wants bearer tokens, as public.ecr.aws
 * does: a 401 with a Bearer challenge, a token asked of the realm (with the registry's Basic
 * credentials only when the realm is on the registry's own host), the request sent again with the
 * token; every scope asked so far goes into the next token, and a streamed body is never sent twice.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Redactor } from '../../src/kaholo/redactor';
import { mayCarryCredentials, parseBearerChallenge, tokenUrl } from '../../src/registry-http/bearer-challenge';
import { openRegistryHttpApi, type RegistryHttpApi } from '../../src/registry-http/registry-http-api';
import { RegistryError } from '../../src/registry-http/registry-error';

const USER = 'AWS';
const PASSWORD = 'public-registry-password-42';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const TIMEOUTS = { connectMs: 1_000, requestMs: 2_000 };
const MANIFEST = '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}';

interface Seen {
  method: string;
  url: string;
  authorization?: string;
}

interface Server {
  origin: string;
  seen: Seen[];
  close(): Promise<void>;
}

async function serve(host: string, answer: (request: Seen, response: ServerResponse) => void): Promise<Server> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res) => {
    req.resume();
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization };
      seen.push(request);
      answer(request, res);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    origin: `http://${host}:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const opened: Array<{ close(): void | Promise<void> }> = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

/** A token service that hands out `token-<n>` for what it was asked, and a registry that takes only a token that covers the request's scope. */
async function bearerRegistry(realmHost = '127.0.0.1'): Promise<{ registry: Server; realm: Server; api: RegistryHttpApi; redactor: Redactor }> {
  const granted = new Map<string, string[]>();
  const realm = await serve(realmHost, (request, response) => {
    const scopes = new URL(request.url, 'http://realm').searchParams.getAll('scope');
    const token = `token-${granted.size + 1}-${'x'.repeat(20)}`;
    granted.set(token, scopes);
    response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token }));
  });
  opened.push(realm);
  const registry = await serve('127.0.0.1', (request, response) => {
    const repository = /^\/v2\/(.+)\/(manifests|blobs)\//.exec(request.url)?.[1] ?? '';
    const scope = `repository:${repository}:${request.method === 'GET' || request.method === 'HEAD' ? 'pull' : 'pull,push'}`;
    const token = request.authorization?.replace(/^Bearer /, '');
    if (!request.authorization?.startsWith('Bearer ') || !(granted.get(token ?? '') ?? []).includes(scope)) {
      response.writeHead(401, { 'WWW-Authenticate': `Bearer realm="${realm.origin}/token",service="kit",scope="${scope}"`, 'Content-Type': 'application/json' });
      response.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    if (request.method === 'GET') response.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json' }).end(MANIFEST);
    else response.writeHead(201, { 'Docker-Content-Digest': `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}` }).end();
  });
  opened.push(registry);
  const redactor = new Redactor();
  const api = await openRegistryHttpApi({ origin: registry.origin, user: USER, password: PASSWORD }, TIMEOUTS, false, redactor);
  opened.push(api);
  return { registry, realm, api, redactor };
}

describe('a registry that asks for a bearer token', () => {
  it('gets one from the realm with the Basic credentials, and sends the request again with it', async () => {
    const { registry, realm, api, redactor } = await bearerRegistry();
    const manifest = await api.getManifest('alias/team/app', { tag: 'rc' });
    expect(manifest.manifest).toBe(MANIFEST);
    expect(registry.seen.map((r) => r.authorization)).toEqual([BASIC, 'Bearer token-1-xxxxxxxxxxxxxxxxxxxx']);
    expect(realm.seen).toEqual([{ method: 'GET', url: '/token?service=kit&scope=repository%3Aalias%2Fteam%2Fapp%3Apull', authorization: BASIC }]);
    // The token is a secret too.
    expect(redactor.redact('token-1-xxxxxxxxxxxxxxxxxxxx')).toBe('[REDACTED]');

    // The next request of the same scope goes with the token straight away.
    await api.getManifest('alias/team/app', { tag: 'prod' });
    expect(registry.seen.at(-1)?.authorization).toBe('Bearer token-1-xxxxxxxxxxxxxxxxxxxx');
    expect(realm.seen).toHaveLength(1);
  });

  it('asks each new token for every scope asked so far', async () => {
    const { realm, api } = await bearerRegistry();
    await api.getManifest('alias/a', { tag: '1' });
    await api.writeManifest('alias/b', '1', Buffer.from(MANIFEST), 'application/vnd.oci.image.index.v1+json');
    const asked = realm.seen.map((r) => new URL(r.url, 'http://realm').searchParams.getAll('scope'));
    expect(asked).toEqual([['repository:alias/a:pull'], ['repository:alias/a:pull', 'repository:alias/b:pull,push']]);
  });

  it('sends the credentials to no realm on another host: it asks that one with none', async () => {
    const { realm, api } = await bearerRegistry('127.0.0.2');
    await api.getManifest('alias/team/app', { tag: 'rc' });
    expect(realm.seen.map((r) => r.authorization)).toEqual([undefined]);
  });

  it('a refused token request, or an answer with no token, is an error naming the token service', async () => {
    const realm = await serve('127.0.0.1', (request, response) =>
      request.url.includes('scope=repository%3Adenied') ? response.writeHead(401).end('{"errors":[{"code":"DENIED","message":"Your authorization token is invalid."}]}') : response.writeHead(200).end('{}'),
    );
    opened.push(realm);
    const registry = await serve('127.0.0.1', (request, response) => {
      const scope = `repository:${request.url.split('/')[2]}:pull`;
      response.writeHead(401, { 'WWW-Authenticate': `Bearer realm="${realm.origin}/token",service="kit",scope="${scope}"` }).end();
    });
    opened.push(registry);
    const open = async (): Promise<RegistryHttpApi> => {
      const api = await openRegistryHttpApi({ origin: registry.origin, user: USER, password: PASSWORD }, TIMEOUTS, false, new Redactor());
      opened.push(api);
      return api;
    };
    await expect((await open()).getManifest('denied', { tag: 'x' })).rejects.toThrow(/\(the registry's token service\) answered HTTP 401 DENIED: Your authorization token is invalid/);
    await expect((await open()).getManifest('empty', { tag: 'x' })).rejects.toThrow(/\(the registry's token service\) answered with no token/);
  });

  it('asks for a token once per request: a second 401 is the registry\'s answer', async () => {
    const realm = await serve('127.0.0.1', (_request, response) => response.writeHead(200).end('{"token":"useless-token-123"}'));
    opened.push(realm);
    const registry = await serve('127.0.0.1', (_request, response) => response.writeHead(401, { 'WWW-Authenticate': `Bearer realm="${realm.origin}/token",scope="repository:a:pull"` }).end());
    opened.push(registry);
    const api = await openRegistryHttpApi({ origin: registry.origin, user: USER, password: PASSWORD }, TIMEOUTS, false, new Redactor());
    opened.push(api);
    const error = await api.getManifest('a', { tag: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).status).toBe(401);
    expect(registry.seen).toHaveLength(2);
    expect(realm.seen).toHaveLength(1);
  });
});

describe('Bearer challenges', () => {
  it('are read with their quoted fields, scopes with commas and spaces included; other schemes are not', () => {
    expect(parseBearerChallenge('Bearer realm="https://public.ecr.aws/token/",service="public.ecr.aws",scope="aws"')).toEqual({
      realm: new URL('https://public.ecr.aws/token/'),
      service: 'public.ecr.aws',
      scope: 'aws',
    });
    expect(parseBearerChallenge(['Basic realm="x"', 'Bearer realm="http://127.0.0.1:9/t",scope="repository:a/b:pull,push repository:c:pull"'])?.scope).toBe('repository:a/b:pull,push repository:c:pull');
    expect(parseBearerChallenge('Basic realm="kaholo-test-registry"')).toBeUndefined();
    expect(parseBearerChallenge('Bearer service="x"')).toBeUndefined();
    expect(parseBearerChallenge('Bearer realm="file:///etc/passwd"')).toBeUndefined();
    expect(parseBearerChallenge(undefined)).toBeUndefined();
  });

  it('carry the credentials only to the registry\'s own host, and never from https down to http', () => {
    const registry = new URL('https://public.ecr.aws');
    expect(mayCarryCredentials(new URL('https://public.ecr.aws/token/'), registry)).toBe(true);
    expect(mayCarryCredentials(new URL('https://evil.example/token'), registry)).toBe(false);
    expect(mayCarryCredentials(new URL('http://public.ecr.aws/token/'), registry)).toBe(false);
    expect(mayCarryCredentials(new URL('http://127.0.0.1:8/token'), new URL('http://127.0.0.1:5000'))).toBe(true);
    expect(tokenUrl({ realm: new URL('https://public.ecr.aws/token/'), service: 'public.ecr.aws' }, ['repository:a:pull', 'repository:b:push']).href).toBe(
      'https://public.ecr.aws/token/?service=public.ecr.aws&scope=repository%3Aa%3Apull&scope=repository%3Ab%3Apush',
    );
  });
});
