import { randomBytes } from 'node:crypto';
import { startEcrEndpoint, type EcrEndpoint, type RegistryConfig } from './ecr-endpoint';
import { PublicRegistry } from './ecr-public/public-registry';
import type { Registry, RegistryOptions } from './registry';
import { startTokenIssuer, startTokenRealm, type TokenIssuer } from './registry-tokens';

/**
 * A local stand-in for ECR: the ECR API endpoint plus, when a registry
 * starter is given, one real registry per account whose password is the one
 * the endpoint's tokens carry; and, when asked, a public registry for ECR
 * Public (its alias, a real registry that trusts the kit's token service,
 * anonymous pulls). What the tests, the demo and the benchmarks point the
 * plugin at, through AWS_ENDPOINT_URL_ECR and AWS_ENDPOINT_URL_ECR_PUBLIC.
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

/** The alias of the local public registry, as DescribeRegistries gives it. */
export const LOCAL_PUBLIC_ALIAS = 'kaholo-kit';
/** The service name the local public registry's token challenges carry. */
const LOCAL_PUBLIC_SERVICE = 'kaholo-kit-public';

/** The local ECR Public registry: what the stand-in serves, and the real registry and token service behind it. */
export interface LocalPublicRegistry {
  /** The stand-in's state: repositories, catalog data, the tokens' password (setPassword makes logins stale). */
  state: PublicRegistry;
  /** The real registry behind it (absent when started without a registry starter). */
  registry?: Registry;
  /** Its token service: what each token request asked for and got. */
  issuer?: TokenIssuer;
}

export interface LocalEcr {
  endpoint: EcrEndpoint;
  /** Present when started with `publicRegistry`. */
  publicRegistry?: LocalPublicRegistry;
  /** One per account id, in order; empty when started without registries. */
  registries: Registry[];
  accountIds: string[];
  /** The registry password of each account, in order (what its tokens carry). */
  passwords: string[];
  /** Plugin settings with the local keys and region. */
  settings: { accessKeyId: string; secretAccessKey: string; region: string };
  /** Environment that points the AWS SDK at the local endpoint (ECR, ECR Public and STS: no call can reach AWS). */
  env: { AWS_ENDPOINT_URL_ECR: string; AWS_ENDPOINT_URL_ECR_PUBLIC: string; AWS_ENDPOINT_URL_STS: string };
  stop(): Promise<void>;
}

export interface LocalEcrOptions {
  /** How many registries (accounts), each with its own password; default 1. */
  accounts?: number;
  /** Starts a real registry (from registry.ts or the e2e environment); without it tokens point nowhere. */
  startRegistry?: (options: RegistryOptions) => Promise<Registry>;
  /** Also an ECR Public registry, of the first account (with a real registry when there is a starter). */
  publicRegistry?: boolean;
}

/**
 * The public registry: a token service and its realm first, then the real registry that trusts
 * them, then the stand-in's state, whose policy the token service then follows.
 */
async function startPublicRegistry(registryId: string, startRegistry: LocalEcrOptions['startRegistry'], cleanups: Array<() => Promise<void>>): Promise<LocalPublicRegistry> {
  const password = randomBytes(24).toString('base64url');
  if (!startRegistry) {
    return { state: new PublicRegistry({ registryId, alias: LOCAL_PUBLIC_ALIAS, url: 'http://127.0.0.1:9', password, service: LOCAL_PUBLIC_SERVICE }) };
  }
  const issuer = await startTokenIssuer();
  cleanups.push(() => issuer.dispose());
  const realm = await startTokenRealm(issuer);
  cleanups.push(() => realm.close());
  const registry = await startRegistry({ password, tokenAuth: issuer.registryAuth(realm.origin, LOCAL_PUBLIC_SERVICE) });
  cleanups.push(() => registry.dispose());
  const state = new PublicRegistry({ registryId, alias: LOCAL_PUBLIC_ALIAS, url: registry.url, password, issuer, service: LOCAL_PUBLIC_SERVICE });
  issuer.policy = state.policy();
  return { state, registry, issuer };
}

export async function startLocalEcr(options: LocalEcrOptions = {}): Promise<LocalEcr> {
  const accountIds = LOCAL_ACCOUNT_IDS.slice(0, options.accounts ?? 1);
  const registries: Registry[] = [];
  const passwords: string[] = [];
  const configs: Record<string, RegistryConfig> = {};
  const cleanups: Array<() => Promise<void>> = [];
  const cleanUp = async (): Promise<void> => {
    await Promise.all(registries.map((r) => r.dispose()));
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
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
    const publicRegistry = options.publicRegistry ? await startPublicRegistry(accountIds[0], options.startRegistry, cleanups) : undefined;
    const endpoint = await startEcrEndpoint({
      ...LOCAL_KEYS,
      region: LOCAL_REGION,
      registries: configs,
      roles: { [LOCAL_ROLES.push]: {}, [LOCAL_ROLES.partner]: { externalId: LOCAL_ROLES.partnerExternalId } },
      ...(publicRegistry ? { publicRegistry: publicRegistry.state } : {}),
    });
    return {
      endpoint,
      ...(publicRegistry ? { publicRegistry } : {}),
      registries,
      accountIds,
      passwords,
      settings: { ...LOCAL_KEYS, region: LOCAL_REGION },
      env: { AWS_ENDPOINT_URL_ECR: endpoint.url, AWS_ENDPOINT_URL_ECR_PUBLIC: endpoint.url, AWS_ENDPOINT_URL_STS: endpoint.url },
      async stop() {
        await endpoint.close();
        await cleanUp();
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
