/**
 * One copy from start to end: both registries opened through their HTTP API
 * with the authorization each side's GetAuthorizationToken gave, interrupts
 * caught (SIGTERM stops the copy, no tag is put, then the signal goes on),
 * the engine run with the locks of the names it writes, and every connection
 * closed whatever happened.
 */
import type { ActivityLog } from '../activity-log';
import type { AwsTimeouts } from '../aws-http';
import { Interruption } from '../interruption';
import type { Redactor } from '../redact';
import { openRegistryHttpApi, type ImageRegistry } from '../registry-http/registry-api';
import type { RetryPolicy } from '../retry-policy';
import { copyImage, type CopyResult } from './copy-engine';
import { registryNameLocks } from './tag-locks';

/** A side of the copy: where its registry is (the token's proxyEndpoint), who the caller is there, and the repository. */
export interface CopySide {
  proxyEndpoint: string;
  user: string;
  password: string;
  repository: string;
}

export interface CopySessionRequest {
  source: CopySide & { reference: string };
  target: CopySide & { tags: string[] };
  copyReferrers: boolean;
  retry: RetryPolicy;
  timeLimitMs: number;
  /** The bounds of each request, and whether the agent's environment names a proxy. */
  timeouts: AwsTimeouts;
  proxied: boolean;
  log: ActivityLog;
  redactor: Redactor;
}

export async function runCopy(request: CopySessionRequest): Promise<CopyResult> {
  const { log, redactor } = request;
  const interruption = Interruption.catch();
  const opened: ImageRegistry[] = [];
  try {
    const open = async (side: CopySide): Promise<ImageRegistry> => {
      const registry = await openRegistryHttpApi({ origin: new URL(side.proxyEndpoint).origin, user: side.user, password: side.password }, request.timeouts, request.proxied, redactor);
      opened.push(registry);
      return registry;
    };
    const source = await open(request.source);
    const target = await open(request.target);
    return await copyImage({
      source: { registry: source, repository: request.source.repository, reference: request.source.reference },
      target: { registry: target, repository: request.target.repository, tags: request.target.tags },
      copyReferrers: request.copyReferrers,
      retry: request.retry,
      timeLimitMs: request.timeLimitMs,
      log,
      interruption,
      lockNames: registryNameLocks(log, interruption),
    });
  } finally {
    for (const registry of opened) registry.close();
    interruption.release();
  }
}
