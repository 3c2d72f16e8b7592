import { randomBytes } from 'node:crypto';
import { startEcrEndpoint, type EcrEndpoint, type RegistryConfig } from './ecr-endpoint';
import type { Registry, RegistryOptions } from './registry';

/**
 * A local stand-in for ECR: the ECR API endpoint plus, when a registry
 * starter is given, one real registry per account whose password is the one
 * the endpoint's tokens carry. What the tests, the demo and the benchmarks
 * point the plugin at, through AWS_ENDPOINT_URL_ECR.
 */

export const LOCAL_ACCOUNT_IDS = ['123456789012', '210987654321'] as const;
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_KEYS = { accessKeyId: 'AKIALOCALEXAMPLE0001', secretAccessKey: 'local/Secret+Key/for/the/local/endpoint' };
/** Roles the local STS lets the local keys assume: one plain, one whose trust policy demands an external id. */
export const LOCAL_ROLES = {
  push: 'arn:aws:iam::123456789012:role/kaholo/ecr-push',
  partner: 'arn:aws:iam::210987654321:role/ecr-partner',
  partnerExternalId: 'partner-external-id-7Qx2',
} as const;

export interface LocalEcr {
  endpoint: EcrEndpoint;
  /** One per account id, in order; empty when started without registries. */
  registries: Registry[];
  accountIds: string[];
  /** The registry password of each account, in order (what its tokens carry). */
  passwords: string[];
  /** Plugin settings with the local keys and region. */
  settings: { accessKeyId: string; secretAccessKey: string; region: string };
  /** Environment that points the AWS SDK at the local endpoint (ECR and STS). */
  env: { AWS_ENDPOINT_URL_ECR: string; AWS_ENDPOINT_URL_STS: string };
  stop(): Promise<void>;
}

export interface LocalEcrOptions {
  /** How many registries (accounts), each with its own password; default 1. */
  accounts?: number;
  /** Starts a real registry (from registry.ts or the e2e environment); without it tokens point nowhere. */
  startRegistry?: (options: RegistryOptions) => Promise<Registry>;
}

export async function startLocalEcr(options: LocalEcrOptions = {}): Promise<LocalEcr> {
  const accountIds = LOCAL_ACCOUNT_IDS.slice(0, options.accounts ?? 1);
  const registries: Registry[] = [];
  const passwords: string[] = [];
  const configs: Record<string, RegistryConfig> = {};
  try {
    for (const accountId of accountIds) {
      const password = randomBytes(24).toString('base64url');
      passwords.push(password);
      if (options.startRegistry) {
        const registry = await options.startRegistry({ password });
        registries.push(registry);
        configs[accountId] = { url: registry.url, password };
      } else {
        configs[accountId] = { url: 'http://127.0.0.1:9', password }; // the discard port: nothing answers
      }
    }
    const endpoint = await startEcrEndpoint({
      ...LOCAL_KEYS,
      region: LOCAL_REGION,
      registries: configs,
      roles: { [LOCAL_ROLES.push]: {}, [LOCAL_ROLES.partner]: { externalId: LOCAL_ROLES.partnerExternalId } },
    });
    return {
      endpoint,
      registries,
      accountIds,
      passwords,
      settings: { ...LOCAL_KEYS, region: LOCAL_REGION },
      env: { AWS_ENDPOINT_URL_ECR: endpoint.url, AWS_ENDPOINT_URL_STS: endpoint.url },
      async stop() {
        await endpoint.close();
        await Promise.all(registries.map((r) => r.dispose()));
      },
    };
  } catch (error) {
    await Promise.all(registries.map((r) => r.dispose()));
    throw error;
  }
}
