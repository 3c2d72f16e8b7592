/**
 * The registry's HTTP API client against small HTTP servers of the test's own, which record every
 * request (method, URL, headers, body size) and answer as a registry or a storage service would.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { Redactor } from '../../src/kaholo/redactor';
import { MissingImageError } from '../../src/errors';
import { MANIFEST_MEDIA_TYPES } from '../../src/registry/media-types';
import { openRegistryHttpApi, type ImageRegistry, type RegistryHttpApi } from '../../src/registry-http/registry-http-api';
import { RegistryError } from '../../src/registry-http/registry-error';

const USER = 'AWS';
const PASSWORD = 'registry-password-0123456789';
const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const TIMEOUTS = { connectMs: 1_000, requestMs: 1_000 };
const MiB = 1024 * 1024;
const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  bodyBytes: number;
}

interface Server {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

/** A server that reads each request whole, records it, then lets `answer` reply. */
async function serve(answer: (request: Seen, response: ServerResponse, body: Buffer) => void): Promise<Server> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes: body.length };
      seen.push(request);
      answer(request, res, body);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const open = (url: string, timeouts = TIMEOUTS): Promise<RegistryHttpApi> => openRegistryHttpApi({ origin: url, user: USER, password: PASSWORD }, timeouts, false, new Redactor());

const servers: Server[] = [];
const registries: ImageRegistry[] = [];
async function start(answer: Parameters<typeof serve>[0]): Promise<{ server: Server; registry: RegistryHttpApi }> {
  const server = await serve(answer);
  servers.push(server);
  const registry = await open(server.url);
  registries.push(registry);
  return { server, registry };
}

afterEach(async () => {
  for (const registry of registries.splice(0)) registry.close();
  for (const server of servers.splice(0)) await server.close();
});

describe('manifests', () => {
  const manifest = Buffer.from('{\n   "schemaVersion": 2,\n   "mediaType": "application/vnd.oci.image.index.v1+json",\n   "manifests": []\n}');

  it('asks for every manifest type with the basic auth, and returns the bytes as they came with their digest', async () => {
    const { server, registry } = await start((_request, res) => {
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json', 'Docker-Content-Digest': sha256(manifest) });
      res.end(manifest);
    });
    const got = await registry.readManifest('team/app', '1.0');
    expect(got).toEqual({ bytes: manifest, mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha256(manifest) });
    expect(server.seen[0]).toMatchObject({ method: 'GET', url: '/v2/team/app/manifests/1.0' });
    expect(server.seen[0].headers.accept?.split(', ')).toEqual(MANIFEST_MEDIA_TYPES);
    expect(server.seen[0].headers.authorization).toBe(AUTH);
  });

  it('bytes that are not the digest asked for are an error, not a manifest', async () => {
    const { registry } = await start((_request, res) => {
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json' });
      res.end(Buffer.concat([manifest, Buffer.from(' ')]));
    });
    await expect(registry.readManifest('team/app', sha256(manifest))).rejects.toThrow(`whose digest is ${sha256(Buffer.concat([manifest, Buffer.from(' ')]))}, not ${sha256(manifest)}`);
  });

  it('an answer that is not JSON is an error naming the request', async () => {
    const { registry } = await start((_request, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html>sign in</html>');
    });
    await expect(registry.readManifest('team/app', '1.0')).rejects.toThrow(/^GET 127\.0\.0\.1:\d+\/v2\/team\/app\/manifests\/1\.0 answered with a manifest that is not JSON \(type "text\/html"\)$/);
  });

  it('a PUT counts only when the registry answers with the digest of the bytes sent', async () => {
    let answer = sha256(manifest);
    const { registry } = await start((_request, res) => {
      res.writeHead(201, { 'Docker-Content-Digest': answer });
      res.end();
    });
    await expect(registry.writeManifest('team/app', '1.0', manifest, 'application/vnd.oci.image.index.v1+json')).resolves.toBe(sha256(manifest));
    answer = sha256(Buffer.from('something else'));
    await expect(registry.writeManifest('team/app', '1.0', manifest, 'application/vnd.oci.image.index.v1+json')).rejects.toThrow(`stored ${answer}, not the manifest sent`);
  });

  it('reads and puts manifests as the registry seam does: text by tag or digest, a missing one a MissingImageError', async () => {
    const stored = new Map<string, Buffer>();
    const { registry } = await start((request, res, sent) => {
      const reference = request.url.split('/manifests/')[1] ?? '';
      if (request.method === 'PUT') {
        stored.set(reference, sent);
        res.writeHead(201, { 'Docker-Content-Digest': sha256(sent) });
        res.end();
        return;
      }
      const body = stored.get(reference);
      if (body === undefined) {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json', 'Docker-Content-Digest': sha256(body) });
      res.end(body);
    });
    const text = manifest.toString('utf8');
    await expect(registry.putManifest('team/app', { digest: sha256(manifest), manifest: text, mediaType: 'application/vnd.oci.image.index.v1+json' }, 'rc')).resolves.toEqual({
      outcome: 'stored',
      digest: sha256(manifest),
    });
    await expect(registry.getManifest('team/app', { tag: 'rc' })).resolves.toEqual({ digest: sha256(manifest), manifest: text, mediaType: 'application/vnd.oci.image.index.v1+json' });
    await expect(registry.getManifest('team/app', { tag: 'nope' })).rejects.toBeInstanceOf(MissingImageError);
  });

  it('an error answer becomes one line with the registry’s code and message', async () => {
    const { registry } = await start((_request, res) => {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: '9.9' } }] }));
    });
    const error = (await registry.readManifest('team/app', '9.9').catch((e: unknown) => e)) as RegistryError;
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.message).toBe(`GET ${new URL(servers[0].url).host}/v2/team/app/manifests/9.9 answered HTTP 404 MANIFEST_UNKNOWN: manifest unknown`);
    expect([error.status, error.code]).toEqual([404, 'MANIFEST_UNKNOWN']);
  });
});

describe('redirects', () => {
  it('a blob GET redirected to another host is followed without the registry’s Authorization; the registry’s own redirects keep it', async () => {
    const blob = randomBytes(1000);
    const storage = await serve((request, res) => {
      // As S3 does: a presigned URL together with an Authorization header is refused.
      if (request.headers.authorization !== undefined) {
        res.writeHead(400);
        res.end('<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>');
        return;
      }
      res.writeHead(200, { 'Content-Length': blob.length });
      res.end(blob);
    });
    servers.push(storage);
    const { server, registry } = await start((request, res) => {
      if (request.url.startsWith('/v2/team/app/blobs/')) {
        res.writeHead(307, { Location: '/v2/elsewhere/blobs/x' });
      } else {
        res.writeHead(307, { Location: `${storage.url}/layer?X-Amz-Signature=abc` });
      }
      res.end();
    });

    const stream = await registry.openBlob('team/app', { digest: sha256(blob), size: blob.length });
    const chunks: Buffer[] = [];
    for await (const chunk of stream.body) chunks.push(chunk);

    expect(Buffer.concat(chunks).equals(blob)).toBe(true);
    expect(server.seen.map((s) => [s.url, s.headers.authorization])).toEqual([
      [`/v2/team/app/blobs/${sha256(blob)}`, AUTH],
      ['/v2/elsewhere/blobs/x', AUTH],
    ]);
    expect(storage.seen.map((s) => [s.url, s.headers.authorization])).toEqual([['/layer?X-Amz-Signature=abc', undefined]]);
  });
});

describe('uploads', () => {
  /** A registry's upload endpoints: POST starts, each PATCH appends (Content-Range checked), PUT ?digest= checks and stores. */
  async function uploadRegistry(): Promise<{ server: Server; registry: ImageRegistry; stored: Map<string, Buffer> }> {
    const stored = new Map<string, Buffer>();
    let received = Buffer.alloc(0);
    const started = await start((request, res, body) => {
      const url = new URL(request.url, 'http://x');
      if (request.method === 'POST') {
        received = Buffer.alloc(0);
        res.writeHead(202, { Location: '/v2/team/app/blobs/uploads/u1?_state=s0' });
      } else if (request.method === 'PATCH') {
        const range = request.headers['content-range'];
        if (range !== `${received.length}-${received.length + body.length - 1}`) res.writeHead(416);
        else {
          received = Buffer.concat([received, body]);
          res.writeHead(202, { Location: `/v2/team/app/blobs/uploads/u1?_state=s${received.length}`, Range: `0-${received.length - 1}` });
        }
      } else if (request.method === 'PUT') {
        const digest = url.searchParams.get('digest') ?? '';
        if (digest !== sha256(received)) res.writeHead(400);
        else {
          stored.set(digest, received);
          res.writeHead(201, { 'Docker-Content-Digest': digest });
        }
      } else res.writeHead(405);
      res.end();
    });
    return { ...started, stored };
  }

  /** The bytes in pieces of `size`, as a download delivers them. */
  function pieces(bytes: Buffer, size: number): AsyncIterable<Buffer> {
    const parts: Buffer[] = [];
    for (let offset = 0; offset < bytes.length; offset += size) parts.push(bytes.subarray(offset, offset + size));
    return Readable.from(parts);
  }

  it('streams the blob in PATCH chunks of the chosen size (the last smaller), each with its range, then PUT with the digest', async () => {
    const { server, registry, stored } = await uploadRegistry();
    const blob = randomBytes(12 * MiB + 7);
    const url = await registry.startUpload('team/app');
    // Pieces that do not line up with the chunks, as a download's do not.
    const said = await registry.uploadBlob(url, pieces(blob, 1_000_003), { digest: sha256(blob), size: blob.length }, { chunkBytes: 5 * MiB });
    expect(said).toBe(sha256(blob)); // the registry's answer named it

    expect(server.seen.map((s) => [s.method, s.headers['content-range'], s.bodyBytes])).toEqual([
      ['POST', undefined, 0],
      ['PATCH', `0-${5 * MiB - 1}`, 5 * MiB],
      ['PATCH', `${5 * MiB}-${10 * MiB - 1}`, 5 * MiB],
      ['PATCH', `${10 * MiB}-${12 * MiB + 6}`, 2 * MiB + 7],
      ['PUT', undefined, 0],
    ]);
    // Each PATCH went where the previous answer said (the upload's state moves on).
    expect(server.seen[2].url).toBe(`/v2/team/app/blobs/uploads/u1?_state=s${5 * MiB}`);
    expect(server.seen[4].url).toBe(`/v2/team/app/blobs/uploads/u1?_state=s${12 * MiB + 7}&digest=${encodeURIComponent(sha256(blob))}`);
    expect(stored.get(sha256(blob))?.equals(blob)).toBe(true);
  });

  it('bytes that are not the blob’s are never finished: no PUT, an error naming both digests', async () => {
    const { server, registry, stored } = await uploadRegistry();
    const blob = randomBytes(6 * MiB);
    const tampered = Buffer.from(blob);
    tampered[4 * MiB] ^= 0xff;
    const url = await registry.startUpload('team/app');
    await expect(registry.uploadBlob(url, pieces(tampered, 64 * 1024), { digest: sha256(blob), size: blob.length }, { chunkBytes: 5 * MiB })).rejects.toThrow(
      `The bytes of ${sha256(blob)} have the digest ${sha256(tampered)}`,
    );
    expect(server.seen.map((s) => s.method)).toEqual(['POST', 'PATCH', 'PATCH']);
    expect(stored.size).toBe(0);
  });

  it('a source longer or shorter than the blob’s size is refused', async () => {
    const { registry, stored } = await uploadRegistry();
    const blob = randomBytes(1000);
    await expect(registry.uploadBlob(await registry.startUpload('team/app'), pieces(Buffer.concat([blob, Buffer.from('x')]), 100), { digest: sha256(blob), size: 1000 })).rejects.toThrow('go on past its size');
    await expect(registry.uploadBlob(await registry.startUpload('team/app'), pieces(blob.subarray(0, 999), 100), { digest: sha256(blob), size: 1000 })).rejects.toThrow(`The bytes of ${sha256(blob)} ended before its size (1000): not the blob its manifest names`);
    expect(stored.size).toBe(0);
  });

  it('refuses chunk sizes ECR would refuse', async () => {
    const { registry } = await uploadRegistry();
    for (const chunkBytes of [5 * MiB - 1, 20 * MiB + 1]) {
      await expect(registry.uploadBlob('/v2/x/blobs/uploads/u', pieces(Buffer.alloc(1), 1), { digest: sha256(Buffer.alloc(1)), size: 1 }, { chunkBytes })).rejects.toThrow(RangeError);
    }
  });

  it('a mount is done (201) or gives back the upload the registry started instead (202)', async () => {
    let mount = 201;
    const digest = sha256(Buffer.from('layer'));
    const { server, registry } = await start((_request, res) => {
      res.writeHead(mount, mount === 201 ? { 'Docker-Content-Digest': digest } : { Location: '/v2/prod/app/blobs/uploads/u9' });
      res.end();
    });
    await expect(registry.mountBlob('prod/app', digest, 'team/app')).resolves.toEqual({ mounted: true });
    mount = 202;
    await expect(registry.mountBlob('prod/app', digest, 'team/app')).resolves.toEqual({ mounted: false, uploadUrl: `${server.url}/v2/prod/app/blobs/uploads/u9` });
    expect(server.seen[0]).toMatchObject({ method: 'POST', url: `/v2/prod/app/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=team%2Fapp` });
  });
});

describe('referrers', () => {
  const subject = sha256(Buffer.from('subject'));
  const signature = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(Buffer.from('sig')), size: 3, artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' };

  it('come from the referrers API when the registry has it', async () => {
    const { server, registry } = await start((_request, res) => {
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json' });
      res.end(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [signature] }));
    });
    await expect(registry.listReferrers('team/app', subject)).resolves.toEqual({ referrers: [signature], via: 'api' });
    expect(server.seen.map((s) => s.url)).toEqual([`/v2/team/app/referrers/${subject}`]);
  });

  it('are read page after page where the registry paginates them (Link: rel="next"), each page asked with the registry’s auth', async () => {
    const sbom = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(Buffer.from('sbom')), size: 4, artifactType: 'application/spdx+json' };
    const attestation = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(Buffer.from('att')), size: 3 };
    const pages: Record<string, { manifests: unknown[]; next?: string }> = {
      [`/v2/team/app/referrers/${subject}`]: { manifests: [signature], next: `</v2/team/app/referrers/${subject}?n=1&last=a>; rel="next"` },
      [`/v2/team/app/referrers/${subject}?n=1&last=a`]: { manifests: [sbom], next: `</v2/team/app/referrers/${subject}?n=1&last=b>; rel=next` },
      [`/v2/team/app/referrers/${subject}?n=1&last=b`]: { manifests: [attestation] },
    };
    const { server, registry } = await start((request, res) => {
      const page = pages[request.url];
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json', ...(page.next ? { Link: page.next } : {}) });
      res.end(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: page.manifests }));
    });
    await expect(registry.listReferrers('team/app', subject)).resolves.toEqual({ referrers: [signature, sbom, attestation], via: 'api' });
    expect(server.seen.map((s) => s.url)).toEqual(Object.keys(pages));
    expect(server.seen.map((s) => s.headers.authorization)).toEqual([AUTH, AUTH, AUTH]);
  });

  it('a Link that leads back to a page already read is an error, not an endless listing', async () => {
    const { registry } = await start((_request, res) => {
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json', Link: `</v2/team/app/referrers/${subject}?last=x>; rel="next"` });
      res.end(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [signature] }));
    });
    await expect(registry.listReferrers('team/app', subject)).rejects.toThrow(/referrers\/sha256:[0-9a-f]{64}: .*leads back to a page already read/);
  });

  it('come from the tag schema’s index where the registry has no referrers API (404), and none when there is no index', async () => {
    let index = true;
    const { server, registry } = await start((request, res) => {
      if (request.url === `/v2/team/app/manifests/${subject.replace(':', '-')}` && index) {
        res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json' });
        res.end(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [signature] }));
        return;
      }
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('404 page not found');
    });
    await expect(registry.listReferrers('team/app', subject)).resolves.toEqual({ referrers: [signature], via: 'tag' });
    index = false;
    await expect(registry.listReferrers('team/app', subject)).resolves.toEqual({ referrers: [], via: 'tag' });
    expect(server.seen.map((s) => s.url)).toEqual([
      `/v2/team/app/referrers/${subject}`,
      `/v2/team/app/manifests/sha256-${subject.slice(7)}`,
      `/v2/team/app/referrers/${subject}`,
      `/v2/team/app/manifests/sha256-${subject.slice(7)}`,
    ]);
  });
});

describe('bounds and failures', () => {
  it('a registry that accepts the connection and never answers: an error after the request timeout', async () => {
    const { registry } = await start(() => undefined);
    const started = Date.now();
    const error = (await registry.readManifest('team/app', '1.0').catch((e: unknown) => e)) as RegistryError;
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(error.message).toMatch(/^GET 127\.0\.0\.1:\d+\/v2\/team\/app\/manifests\/1\.0 failed: no answer within 1 s \(request timeout\)$/);
    expect(error.timedOut).toBe(true);
  });

  it('a download that stalls half-way ends with an error, not a wait', async () => {
    const { registry } = await start((_request, res) => {
      res.writeHead(200, { 'Content-Length': 2000 });
      res.write(Buffer.alloc(1000));
    });
    const stream = await registry.openBlob('team/app', { digest: sha256(Buffer.alloc(2000)), size: 2000 });
    const read = (async () => {
      for await (const chunk of stream.body) void chunk;
    })();
    await expect(read).rejects.toThrow(/stalled: no data for 1 s/);
  });

  it('a refused connection names its code; the password shows nowhere', async () => {
    const server = await serve(() => undefined);
    await server.close();
    const registry = await open(server.url);
    registries.push(registry);
    const error = (await registry.blobSize('team/app', sha256(Buffer.alloc(1))).catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.message).toMatch(/^HEAD 127\.0\.0\.1:\d+\/v2\/team\/app\/blobs\/sha256:[0-9a-f]{64} failed: ECONNREFUSED/);
    expect(`${error.message}${String(error.stack)}`).not.toContain(PASSWORD);
  });

  it('an abort stops a request under way', async () => {
    const { registry } = await start(() => undefined);
    const controller = new AbortController();
    const pending = registry.readManifest('team/app', '1.0', controller.signal);
    setTimeout(() => controller.abort(new Error('interrupted by the test')), 50);
    await expect(pending).rejects.toThrow('interrupted by the test');
  });
});
