import { PluginError, shorten } from '../errors';

/**
 * A failed request to a registry's HTTP API: one line naming the registry,
 * the request and what went wrong. `status` is the HTTP status when the
 * registry answered; `code` the network error's code (ECONNRESET...) or the
 * registry's own error code (BLOB_UNKNOWN...), so a caller can tell a
 * refusal from a passing failure.
 */
export class RegistryError extends PluginError {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
    /** A bound on waiting ran out (no connection, or no answer in time). */
    readonly timedOut = false,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** OCI distribution's error body: `{ "errors": [{ "code", "message" }] }`. */
interface ErrorBody {
  errors?: Array<{ code?: unknown; message?: unknown }>;
}

/** The registry's own words for a failure: its first error code and message, or the start of its text. */
export function describeErrorBody(body: string): { code?: string; text: string } {
  try {
    const first = (JSON.parse(body) as ErrorBody).errors?.[0];
    if (first && typeof first.code === 'string') {
      const message = typeof first.message === 'string' ? `: ${first.message}` : '';
      return { code: first.code, text: shorten(`${first.code}${message}`, 200) };
    }
  } catch {
    // Not the registry's JSON: a proxy's or a storage service's page.
  }
  const flat = body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return { text: flat === '' ? 'an empty body' : `"${shorten(flat, 200)}"` };
}
