/**
 * One blob from the source repository to the target's: skipped when the
 * target holds it already (its HEAD gives that digest with that size),
 * mounted when both are one registry (no byte moves), else streamed from
 * the source's GET into the target's upload with its size and digest checked
 * on the way, so nothing but the blob itself is ever stored.
 */
import type { BlobDescriptor, ImageRegistry } from '../registry-http/registry-http-api';
import { RegistryError } from '../registry-http/registry-error';
import { explainSourceError, missingPart, type CopyNames } from './copy-errors';
import type { BlobOutcome } from './copy-progress';

export interface BlobRoute {
  source: { registry: ImageRegistry; repository: string };
  target: { registry: ImageRegistry; repository: string };
  /** Source and target are one registry: mount instead of moving bytes. */
  sameRegistry: boolean;
  chunkBytes?: number;
  /** For errors that say which side refused. */
  names: CopyNames;
}

/** How long the clean-up of an unfinished upload may take, also after an interrupt. */
const CANCEL_BOUND_MS = 2_000;

export async function copyBlob(route: BlobRoute, blob: BlobDescriptor, signal: AbortSignal, onBytes: (count: number) => void): Promise<BlobOutcome> {
  const { source, target } = route;
  if ((await target.registry.blobSize(target.repository, blob.digest, signal)) === blob.size) return 'skipped';
  let uploadUrl: string | undefined;
  if (route.sameRegistry) {
    const mount = await target.registry.mountBlob(target.repository, blob.digest, source.repository, signal);
    if (mount.mounted) {
      await checkHeld(route, blob, 'mounted', signal);
      return 'mounted';
    }
    uploadUrl = mount.uploadUrl;
  }
  uploadUrl ??= await target.registry.startUpload(target.repository, signal);
  let said: string | undefined;
  try {
    const download = await source.registry.openBlob(source.repository, blob, signal).catch((error: unknown) => {
      throw explainSourceError(missingPart(error, { host: source.registry.host, repository: source.repository }, blob.digest), route.names);
    });
    try {
      said = await target.registry.uploadBlob(uploadUrl, fromSource(download.body, `${source.registry.host}/${source.repository}`, blob.digest), blob, { chunkBytes: route.chunkBytes, signal, onBytes });
    } catch (error) {
      download.cancel();
      throw error;
    }
  } catch (error) {
    await target.registry.cancelUpload(uploadUrl, AbortSignal.timeout(CANCEL_BOUND_MS)).catch(() => undefined);
    throw error;
  }
  // An answer that names no digest proves nothing: the blob counts once the registry is seen to hold it.
  if (said === undefined) await checkHeld(route, blob, 'took the upload of', signal);
  return 'copied';
}

/** The target holds the blob whole (its HEAD gives the blob's size), after `done` said so. */
async function checkHeld({ target }: BlobRoute, blob: BlobDescriptor, done: string, signal: AbortSignal): Promise<void> {
  const size = await target.registry.blobSize(target.repository, blob.digest, signal);
  if (size !== blob.size) throw new RegistryError(`${target.registry.host} ${done} ${blob.digest} into ${target.repository}, but holds it with ${size ?? 'no'} bytes, not ${blob.size}`);
}

/** The download's bytes; a failure while reading names the source (not the upload it was going to). */
async function* fromSource(body: AsyncIterable<Buffer>, where: string, digest: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of body) yield chunk;
  } catch (error) {
    if (error instanceof RegistryError) throw error;
    const e = error as NodeJS.ErrnoException;
    throw new RegistryError(`Reading ${digest} from ${where} failed: ${e.code ?? e.message}`, undefined, e.code);
  }
}
