/**
 * One copy from start to end: both registries opened through their HTTP API
 * with the authorization each side's token gave (and the plugin's request
 * bounds and the agent's proxy), interrupts caught (SIGTERM stops the copy,
 * no tag is put, then the signal goes on), the engine run with the locks of
 * the tags it writes (the same locks push and tagImage take), and every
 * connection closed whatever happened.
 */
import { Interruption } from '../agent/interruption';
import { withRegistryLocks } from '../agent/registry-lock';
import { awsTimeouts, PROXY_VARIABLES } from '../aws/transport-settings';
import type { ActivityLog } from '../kaholo/activity-log';
import type { Redactor } from '../kaholo/redactor';
import type { RegistryType } from '../params/registry-type';
import type { TimeLimit } from '../params/time-limit';
import type { RetryPolicy } from '../params/transfer-options';
import { openRegistryHttpApi, type ImageRegistry } from '../registry-http/registry-http-api';
import { copyImage, type CopyResult } from './copy-engine';

/** A side of the copy: its registry's API and where it is (the token's proxyEndpoint), who the caller is there, and the repository. */
export interface CopySide {
  type: RegistryType;
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
  limit: TimeLimit;
  log: ActivityLog;
  redactor: Redactor;
}

export async function runCopy(request: CopySessionRequest): Promise<CopyResult> {
  const { log, redactor, limit } = request;
  const interruption = Interruption.catch(log);
  const opened: ImageRegistry[] = [];
  const timeouts = awsTimeouts();
  const proxied = PROXY_VARIABLES.some((name) => process.env[name]);
  try {
    const open = async (side: CopySide): Promise<ImageRegistry> => {
      const registry = await openRegistryHttpApi({ origin: new URL(side.proxyEndpoint).origin, user: side.user, password: side.password }, timeouts, proxied, redactor);
      opened.push(registry);
      return registry;
    };
    const source = await open(request.source);
    const target = await open(request.target);
    return await copyImage({
      source: { registry: source, type: request.source.type, repository: request.source.repository, reference: request.source.reference },
      target: { registry: target, type: request.target.type, repository: request.target.repository, tags: request.target.tags },
      copyReferrers: request.copyReferrers,
      retry: request.retry,
      limit,
      log,
      interruption,
      lockNames: (references, waitMs, work) => withRegistryLocks({ references, waitMs, limit, log, interruption }, work),
    });
  } finally {
    for (const registry of opened) registry.close();
    interruption.release();
  }
}
