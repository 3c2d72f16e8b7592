/**
 * A blob upload streamed from wherever its bytes come from: POST to start,
 * PATCH of one chunk after another, PUT with the digest to finish. The bytes
 * are hashed as they pass, and the upload is finished only when they are
 * exactly the blob's (its size and its sha256); otherwise nothing is stored.
 * Nothing is written to disk: at most one chunk is in flight, streamed.
 */
import { createHash } from 'node:crypto';
import type { BlobDescriptor } from './blobs';
import { uploadLocation } from './blobs';
import type { RegistryClient } from './registry-client';
import { RegistryError } from './registry-error';

/** ECR takes upload parts of 5 MiB to 20 MiB (the last may be smaller). */
const MIN_CHUNK_BYTES = 5 * 1024 * 1024;
const MAX_CHUNK_BYTES = 20 * 1024 * 1024;
const DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024;

export interface UploadOptions {
  /** Bytes per PATCH, from 5 to 20 MiB (ECR's bounds). */
  chunkBytes?: number;
  signal?: AbortSignal;
  /** Called as bytes go out. */
  onBytes?: (count: number) => void;
}

/** Starts an upload (POST); its URL. */
export async function startUpload(client: RegistryClient, repository: string, signal?: AbortSignal): Promise<string> {
  const response = await client.request({ method: 'POST', url: `/v2/${repository}/blobs/uploads/`, expect: [202], signal });
  response.discard();
  return uploadLocation(client, response);
}

/**
 * Uploads `source` (the blob's bytes, in order) to the upload at `uploadUrl`.
 * Fails, leaving nothing stored, when the bytes are not the blob's. Returns
 * the digest the registry's last answer names (Docker-Content-Digest), if it
 * names one: the blob's, or this fails.
 */
export async function uploadBlob(client: RegistryClient, uploadUrl: string, source: AsyncIterable<Buffer>, blob: BlobDescriptor, options: UploadOptions = {}): Promise<string | undefined> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (chunkBytes < MIN_CHUNK_BYTES || chunkBytes > MAX_CHUNK_BYTES) throw new RangeError(`chunk size ${chunkBytes} is outside ${MIN_CHUNK_BYTES}..${MAX_CHUNK_BYTES}`);
  const reader = new ByteReader(source[Symbol.asyncIterator](), blob);
  const hash = createHash('sha256');
  let url = uploadUrl;
  for (let offset = 0; offset < blob.size; ) {
    const length = Math.min(chunkBytes, blob.size - offset);
    const response = await client.request({
      method: 'PATCH',
      url,
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(length), 'Content-Range': `${offset}-${offset + length - 1}` },
      body: async (request) => {
        for await (const piece of reader.take(length)) {
          hash.update(piece);
          options.onBytes?.(piece.length);
          if (!request.write(piece)) await drained(request);
        }
        request.end();
      },
      expect: [202, 204],
      signal: options.signal,
    });
    response.discard();
    url = new URL(response.header('location') ?? url, response.url).toString();
    offset += length;
  }
  if (!(await reader.ended())) throw new RegistryError(`The bytes of ${blob.digest} go on past its size (${blob.size}): not the blob its manifest names`);
  const digest = `sha256:${hash.digest('hex')}`;
  if (digest !== blob.digest) throw new RegistryError(`The bytes of ${blob.digest} have the digest ${digest}: not the blob its manifest names, so it was not stored`);
  const done = new URL(url);
  done.searchParams.set('digest', blob.digest);
  const response = await client.request({ method: 'PUT', url: done.toString(), expect: [201, 204], signal: options.signal });
  response.discard();
  const said = response.header('docker-content-digest');
  if (said !== undefined && said !== blob.digest) throw new RegistryError(`${client.describe('PUT', done)} stored ${said}, not ${blob.digest}`);
  return said;
}

/** Ends an upload that will not be finished (best effort: the registry purges forgotten ones anyway). */
export async function cancelUpload(client: RegistryClient, uploadUrl: string, signal?: AbortSignal): Promise<void> {
  const response = await client.request({ method: 'DELETE', url: uploadUrl, expect: [200, 202, 204, 404], signal });
  response.discard();
}

/** Reads a stream of buffers in runs of an exact length. */
class ByteReader {
  private rest: Buffer | undefined;

  constructor(
    private readonly source: AsyncIterator<Buffer>,
    private readonly blob: BlobDescriptor,
  ) {}

  async *take(length: number): AsyncGenerator<Buffer> {
    for (let left = length; left > 0; ) {
      const piece = this.rest ?? (await this.next());
      this.rest = piece.length > left ? piece.subarray(left) : undefined;
      const part = piece.length > left ? piece.subarray(0, left) : piece;
      left -= part.length;
      yield part;
    }
  }

  /** True when nothing is left to read. */
  async ended(): Promise<boolean> {
    if (this.rest !== undefined && this.rest.length > 0) return false;
    const next = await this.source.next();
    return next.done === true;
  }

  private async next(): Promise<Buffer> {
    const next = await this.source.next();
    if (next.done) throw new RegistryError(`The bytes of ${this.blob.digest} ended before its size (${this.blob.size}): not the blob its manifest names`);
    return next.value;
  }
}

/** Waits for the request to take more, or fails when it ends first. */
function drained(request: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error): void => {
      request.off('drain', onDrain);
      request.off('error', onError);
      request.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = (): void => done();
    const onError = (error: Error): void => done(error);
    const onClose = (): void => done(new Error('the request closed before its body was sent'));
    request.on('drain', onDrain);
    request.on('error', onError);
    request.on('close', onClose);
  });
}
