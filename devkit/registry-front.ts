/**
 * A front for a real registry (docker-registry), for what Debian's registry does not do itself.
 * It passes every request through, and can:
 *
 * - redirect blob downloads to a storage host of its own, as ECR sends them to S3: the registry's
 *   answer is a 307 to a presigned-style URL on another port, and that host, like S3, refuses a
 *   request that carries an Authorization header besides the URL's own signature (400);
 * - serve the OCI referrers API (`GET /v2/<name>/referrers/<digest>`) for the manifests with a
 *   `subject` that were put through it, and say so on their PUT (`OCI-Subject`), as a registry
 *   that indexes referrers does. It is a stand-in: it knows only what went through it;
 * - fail chosen requests (an HTTP status, or a reset connection), hold them until released, or
 *   serve a blob with one byte changed;
 * - count what went through: every request with its bytes each way and whether it carried
 *   Authorization.
 *
 * Listens on 127.0.0.1 only; close() stops it (and its storage host).
 */
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { listenLocally } from './local-server';

export interface FrontOptions {
  /** Send blob GETs to the storage host (as ECR does to S3). */
  redirectBlobs?: boolean;
  /** Serve the referrers API for manifests put through the front. */
  referrers?: boolean;
}

/** One request the front (or its storage host) saw. */
export interface FrontRequest {
  host: 'registry' | 'storage';
  method: string;
  /** The path, without the query. */
  path: string;
  /** The query (without its '?'), when there is one: a mount's `mount` and `from`. */
  query?: string;
  status: number;
  /** Body bytes the client sent, and the front sent back. */
  bytesIn: number;
  bytesOut: number;
  authorization: boolean;
  /** The User-Agent header: tells the ECR stand-in's own requests (KIT_USER_AGENT of ecr/manifest-store.ts) from the client's. */
  userAgent?: string;
}

export interface FaultRule {
  /** Matched against "METHOD /path" (no query). */
  match: RegExp;
  /** How many matching requests meet the fault. */
  count: number;
  /** An HTTP status to answer with, or 'reset' to drop the connection without an answer. */
  fault: number | 'reset';
}

export interface RegistryFront {
  /** 'http://127.0.0.1:PORT': what the ECR stand-in's tokens point at. */
  url: string;
  host: string;
  /** The storage host's URL, when blobs are redirected. */
  storageUrl?: string;
  requests: FrontRequest[];
  /** The next matching requests meet the fault (rules are tried in order). */
  fail(rule: FaultRule): void;
  /** Matching requests wait until released; `reached` settles when the first one waits. */
  hold(match: RegExp): { reached: Promise<void>; release(): void };
  /** GETs of this blob return its bytes with one changed. */
  corrupt(digest: string): void;
  close(): Promise<void>;
}

const STORAGE_TOKEN_MS = 60_000;

export async function startRegistryFront(upstreamUrl: string, options: FrontOptions = {}): Promise<RegistryFront> {
  const upstream = new URL(upstreamUrl);
  const requests: FrontRequest[] = [];
  const faults: FaultRule[] = [];
  const holds: Array<{ match: RegExp; waiting: Promise<void>; reached: () => void }> = [];
  const corrupted = new Set<string>();
  /** Referrers per repository and subject digest, as descriptors. */
  const referrers = new Map<string, Map<string, Array<Record<string, unknown>>>>();
  /** Storage URLs handed out: token → the blob and the authorization it was asked with. */
  const tokens = new Map<string, { path: string; authorization?: string; expires: number }>();

  const record = (entry: FrontRequest): void => void requests.push(entry);

  /** Passes the request to the registry (with `body` when already read), and its answer back, counting bytes. */
  const pass = (req: IncomingMessage, res: ServerResponse, entry: FrontRequest, options: { body?: Buffer; path?: string; headers?: Record<string, string>; transform?: Transform; onAnswer?: (status: number, headers: Record<string, string>) => void } = {}): void => {
    // The Host header stays the front's: the registry builds its upload Locations from it, so they lead back here.
    const headers = { ...req.headers, ...(options.headers ?? {}) };
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: options.path ?? req.url, headers, agent: false }, (answer) => {
      entry.status = answer.statusCode ?? 0;
      const answerHeaders: Record<string, string> = {};
      for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined) answerHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
      options.onAnswer?.(entry.status, answerHeaders);
      res.writeHead(entry.status, answerHeaders);
      const counted = countBytes((n) => (entry.bytesOut += n));
      (options.transform ? answer.pipe(options.transform).pipe(counted) : answer.pipe(counted)).pipe(res);
      record(entry);
    });
    forward.on('error', () => res.destroy());
    if (options.body !== undefined) forward.end(options.body);
    else req.pipe(countBytes((n) => (entry.bytesIn += n))).pipe(forward);
  };

  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const path = url.split('?')[0];
    const query = url.slice(path.length + 1);
    const method = req.method ?? 'GET';
    const entry: FrontRequest = {
      host: 'registry',
      method,
      path,
      ...(query ? { query } : {}),
      status: 0,
      bytesIn: 0,
      bytesOut: 0,
      authorization: req.headers.authorization !== undefined,
      ...(req.headers['user-agent'] !== undefined ? { userAgent: req.headers['user-agent'] } : {}),
    };
    void (async () => {
      for (const hold of holds.filter((h) => h.match.test(`${method} ${path}`))) {
        hold.reached();
        await hold.waiting;
      }
      const rule = faults.find((f) => f.count > 0 && f.match.test(`${method} ${path}`));
      if (rule) {
        rule.count -= 1;
        entry.status = rule.fault === 'reset' ? 0 : rule.fault;
        record(entry);
        req.resume();
        if (rule.fault === 'reset') req.socket.destroy();
        else res.writeHead(rule.fault, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'injected by the registry front' }] }));
        return;
      }
      const referrersMatch = /^\/v2\/(.+)\/referrers\/(sha256:[a-f0-9]{64})$/.exec(path);
      if (options.referrers && method === 'GET' && referrersMatch) {
        serveReferrers(req, res, entry, referrersMatch[1], referrersMatch[2]);
        return;
      }
      const blobMatch = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(path);
      if (blobMatch && method === 'GET' && options.redirectBlobs) {
        const token = randomBytes(16).toString('hex');
        tokens.set(token, { path, authorization: req.headers.authorization, expires: Date.now() + STORAGE_TOKEN_MS });
        entry.status = 307;
        record(entry);
        req.resume();
        res.writeHead(307, { Location: `${storageUrl}/blobs/${blobMatch[2]}?X-Amz-Signature=${token}` }).end();
        return;
      }
      if (blobMatch && method === 'GET' && corrupted.has(blobMatch[2])) {
        pass(req, res, entry, { transform: flipLastByte() });
        return;
      }
      const manifestMatch = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
      if (options.referrers && method === 'PUT' && manifestMatch) {
        const body = await readAll(req);
        entry.bytesIn = body.length;
        const subject = subjectOf(body);
        pass(req, res, entry, {
          body,
          onAnswer: (status, headers) => {
            if (status !== 201 || subject === undefined) return;
            indexReferrer(manifestMatch[1], subject, body, headers['docker-content-digest'] ?? '', req.headers['content-type'] ?? '');
            headers['oci-subject'] = subject;
          },
        });
        return;
      }
      pass(req, res, entry);
    })();
  });

  const serveReferrers = (req: IncomingMessage, res: ServerResponse, entry: FrontRequest, repository: string, subject: string): void => {
    req.resume();
    // Authorization as the registry has it: asked of the registry itself for the repository.
    const check = httpRequest({ host: upstream.hostname, port: upstream.port, method: 'GET', path: `/v2/${repository}/tags/list`, headers: { authorization: req.headers.authorization ?? '' }, agent: false }, (answer) => {
      answer.resume();
      if (answer.statusCode === 401) {
        entry.status = 401;
        record(entry);
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="registry-front"' }).end();
        return;
      }
      const wanted = new URL(req.url ?? '/', 'http://x').searchParams.get('artifactType');
      const all = referrers.get(repository)?.get(subject) ?? [];
      const manifests = wanted === null ? all : all.filter((d) => d.artifactType === wanted);
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
      entry.status = 200;
      entry.bytesOut = body.length;
      record(entry);
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json', 'Content-Length': body.length, ...(wanted !== null ? { 'OCI-Filters-Applied': 'artifactType' } : {}) }).end(body);
    });
    check.on('error', () => res.destroy());
    check.end();
  };

  const indexReferrer = (repository: string, subject: string, body: Buffer, digest: string, mediaType: string): void => {
    const manifest = JSON.parse(body.toString('utf8')) as { artifactType?: string; config?: { mediaType?: string }; annotations?: Record<string, string> };
    const byRepository = referrers.get(repository) ?? new Map<string, Array<Record<string, unknown>>>();
    referrers.set(repository, byRepository);
    const list = (byRepository.get(subject) ?? []).filter((d) => d.digest !== digest);
    list.push({
      mediaType,
      digest,
      size: body.length,
      ...(manifest.artifactType ?? manifest.config?.mediaType ? { artifactType: manifest.artifactType ?? manifest.config?.mediaType } : {}),
      ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
    });
    byRepository.set(subject, list);
  };

  // The storage host: serves a redirected blob for its token, and refuses a second way of authenticating, as S3 does.
  const storage: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const entry: FrontRequest = { host: 'storage', method: req.method ?? 'GET', path: url.pathname, status: 0, bytesIn: 0, bytesOut: 0, authorization: req.headers.authorization !== undefined };
    req.resume();
    const token = tokens.get(url.searchParams.get('X-Amz-Signature') ?? '');
    if (req.headers.authorization !== undefined || token === undefined || token.expires < Date.now()) {
      entry.status = req.headers.authorization !== undefined ? 400 : 403;
      record(entry);
      const code = entry.status === 400 ? 'InvalidArgument</Code><Message>Only one auth mechanism allowed' : 'AccessDenied</Code><Message>Request has expired';
      res.writeHead(entry.status, { 'Content-Type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Message></Error>`);
      return;
    }
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: 'GET', path: token.path, headers: { authorization: token.authorization ?? '' }, agent: false }, (answer) => {
      entry.status = answer.statusCode ?? 0;
      res.writeHead(entry.status, { 'Content-Type': 'application/octet-stream', ...(answer.headers['content-length'] ? { 'Content-Length': answer.headers['content-length'] } : {}) });
      const digest = token.path.slice(token.path.lastIndexOf('/') + 1);
      const counted = countBytes((n) => (entry.bytesOut += n));
      (corrupted.has(digest) ? answer.pipe(flipLastByte()).pipe(counted) : answer.pipe(counted)).pipe(res);
      record(entry);
    });
    forward.on('error', () => res.destroy());
    forward.end();
  });

  const front = await listenLocally(server);
  const store = options.redirectBlobs ? await listenLocally(storage) : undefined;
  const storageUrl = store?.url;

  return {
    url: front.url,
    host: new URL(front.url).host,
    ...(storageUrl ? { storageUrl } : {}),
    requests,
    fail: (rule) => void faults.push({ ...rule }),
    hold(match) {
      let release = (): void => undefined;
      let reached = (): void => undefined;
      const waiting = new Promise<void>((resolve) => {
        release = resolve;
      });
      const reachedPromise = new Promise<void>((resolve) => {
        reached = resolve;
      });
      holds.push({ match, waiting, reached });
      return {
        reached: reachedPromise,
        release: () => {
          holds.splice(holds.findIndex((h) => h.waiting === waiting), 1);
          release();
        },
      };
    },
    corrupt: (digest) => void corrupted.add(digest),
    close: async () => {
      for (const hold of holds.splice(0)) hold.reached();
      await Promise.all([front.close(), store?.close()]);
    },
  };
}

function countBytes(add: (count: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      add(chunk.length);
      done(null, chunk);
    },
  });
}

/** The bytes as they come, the very last one changed (the length stays, so only a digest check can tell). */
function flipLastByte(): Transform {
  let held: Buffer | undefined;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const out = held;
      held = Buffer.from(chunk);
      done(null, out);
    },
    flush(done) {
      if (held && held.length > 0) held[held.length - 1] ^= 0xff;
      done(null, held);
    },
  });
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function subjectOf(body: Buffer): string | undefined {
  try {
    const subject = (JSON.parse(body.toString('utf8')) as { subject?: { digest?: unknown } }).subject?.digest;
    return typeof subject === 'string' ? subject : undefined;
  } catch {
    return undefined;
  }
}
