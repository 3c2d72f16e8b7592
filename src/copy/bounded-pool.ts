import { setMaxListeners } from 'node:events';

/**
 * Runs `work` on every item, at most `limit` at a time. The first failure
 * stops the rest: no item starts after it, the ones under way are told
 * (their signal aborts) and awaited, then the failure is thrown.
 */
export async function forEachBounded<T>(items: readonly T[], limit: number, signal: AbortSignal, work: (item: T, signal: AbortSignal) => Promise<void>): Promise<void> {
  const stop = new AbortController();
  // Each item's requests listen to it: several per item under way.
  setMaxListeners(64, stop.signal);
  const follow = (): void => stop.abort(signal.reason);
  if (signal.aborted) follow();
  else signal.addEventListener('abort', follow, { once: true });
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && !stop.signal.aborted && next < items.length) {
      const item = items[next++];
      try {
        await work(item, stop.signal);
      } catch (error) {
        failure ??= { error };
        stop.abort(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  } finally {
    signal.removeEventListener('abort', follow);
  }
  if (failure) throw failure.error;
  if (signal.aborted) throw signal.reason;
}
