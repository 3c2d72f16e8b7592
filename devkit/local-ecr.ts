import { randomBytes } from 'node:crypto';
import { startEcrEndpoint, type EcrEndpoint, type RegistryConfig, type TemporaryKey } from './ecr-endpoint';
import { PublicRegistry } from './ecr-public/public-registry';
import { startRegionalEndpoint, type RegionalEndpoint } from './regional-endpoint';
import { startRegistryFront, type FrontOptions, type RegistryFront } from './registry-front';
import type { Registry, RegistryOptions } from './registry';
import { startTokenIssuer, startTokenRealm, type TokenIssuer } from './registry-tokens';

/**
 * A local stand-in for ECR: the ECR API endpoint plus, when a registry
 * starter is given, one real registry per account whose password is the one
 * the endpoint's tokens carry; and, when asked, a public registry for ECR
 * Public (its alias, a real registry that trusts the kit's token service,
 * anonymous pulls), served by the home region's endpoint. What the tests, the
 * demo and the benchmarks point the plugin at, through AWS_ENDPOINT_URL_ECR
 * and AWS_ENDPOINT_URL_ECR_PUBLIC.
 *
 * With more regions, each region is an endpoint of its own with a registry
 * per account, all behind one URL that sends each call to the region it was
 * signed for; keys a role got from STS work in every region. A registry may
 * have a front (registry-front.ts) that redirects blob downloads or serves
 * the referrers API; the tokens then point at the front.
 */

export const LOCAL_ACCOUNT_IDS = ['123456789012', '210987654321'] as const;
export const LOCAL_REGION = 'us-east-1';
/** The second region, when a stack has two. */
export const LOCAL_SECOND_REGION = 'eu-west-2';
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

/** One registry of the stack: an account's in a region. */
export interface RegistryPlace {
  accountId: string;
  region: string;
  registry?: Registry;
  front?: RegistryFront;
  password: string;
  /** What the tokens point at: the front when there is one, else the registry. */
  url: string;
  host: string;
}

export interface LocalEcr {
  /** The first region's endpoint. */
  endpoint: EcrEndpoint;
  /** Every region's endpoint. */
  endpoints: Record<string, EcrEndpoint>;
  /** Present when started with `publicRegistry`. */
  publicRegistry?: LocalPublicRegistry;
  /** One per account id of the first region, in order; empty when started without registries. */
  registries: Registry[];
  accountIds: string[];
  /** The registry password of each account of the first region, in order (what its tokens carry). */
  passwords: string[];
  /** Every registry, by account and region. */
  places: RegistryPlace[];
  place(accountId: string, region?: string): RegistryPlace;
  /** Plugin settings with the local keys and region. */
  settings: { accessKeyId: string; secretAccessKey: string; region: string };
  /** Environment that points the AWS SDK at the local endpoint (ECR, ECR Public and STS: no call can reach AWS). */
  env: { AWS_ENDPOINT_URL_ECR: string; AWS_ENDPOINT_URL_ECR_PUBLIC: string; AWS_ENDPOINT_URL_STS: string };
  /** Connections clients hold open to what AWS_ENDPOINT_URL_ECR names. */
  openConnections(): number;
  stop(): Promise<void>;
}

export interface LocalEcrOptions {
  /** How many registries (accounts), each with its own password; default 1. */
  accounts?: number;
  /** The regions, the first being the home one; default [LOCAL_REGION]. */
  regions?: string[];
  /** Starts a real registry (from registry.ts or the e2e environment); without it tokens point nowhere. */
  startRegistry?: (options: RegistryOptions) => Promise<Registry>;
  /** A front for the registry of this account and region, and what it does; none when undefined. */
  front?: (accountId: string, region: string) => FrontOptions | undefined;
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
  const regions = options.regions ?? [LOCAL_REGION];
  const places: RegistryPlace[] = [];
  const endpoints: Record<string, EcrEndpoint> = {};
  let regional: RegionalEndpoint | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    await regional?.close();
    await Promise.all(Object.values(endpoints).map((e) => e.close()));
    await Promise.all(places.flatMap((p) => (p.front ? [p.front.close()] : [])));
    await Promise.all(places.flatMap((p) => (p.registry ? [p.registry.dispose()] : [])));
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const temporaryKeys = new Map<string, TemporaryKey>();
    const publicRegistry = options.publicRegistry ? await startPublicRegistry(accountIds[0], options.startRegistry, cleanups) : undefined;
    for (const region of regions) {
      const configs: Record<string, RegistryConfig> = {};
      for (const accountId of accountIds) {
        const password = randomBytes(24).toString('base64url');
        const place: RegistryPlace = { accountId, region, password, url: 'http://127.0.0.1:9', host: '127.0.0.1:9' }; // the discard port: nothing answers
        places.push(place);
        if (options.startRegistry) {
          place.registry = await options.startRegistry({ password });
          const front = options.front?.(accountId, region);
          if (front) place.front = await startRegistryFront(place.registry.url, front);
          place.url = place.front?.url ?? place.registry.url;
          place.host = new URL(place.url).host;
        }
        configs[accountId] = { url: place.url, password };
      }
      endpoints[region] = await startEcrEndpoint({
        ...LOCAL_KEYS,
        region,
        registries: configs,
        roles: { [LOCAL_ROLES.push]: {}, [LOCAL_ROLES.partner]: { externalId: LOCAL_ROLES.partnerExternalId } },
        temporaryKeys,
        ...(publicRegistry && region === regions[0] ? { publicRegistry: publicRegistry.state } : {}),
      });
    }
    const home = endpoints[regions[0]];
    if (regions.length > 1) regional = await startRegionalEndpoint(endpoints, regions[0]);
    const url = regional?.url ?? home.url;
    const homePlaces = places.filter((p) => p.region === regions[0]);
    return {
      endpoint: home,
      endpoints,
      ...(publicRegistry ? { publicRegistry } : {}),
      registries: homePlaces.flatMap((p) => (p.registry ? [p.registry] : [])),
      accountIds,
      passwords: homePlaces.map((p) => p.password),
      places,
      place(accountId, region = regions[0]) {
        const found = places.find((p) => p.accountId === accountId && p.region === region);
        if (!found) throw new Error(`the local stack has no registry for account ${accountId} in ${region}`);
        return found;
      },
      settings: { ...LOCAL_KEYS, region: LOCAL_REGION },
      // ECR Public is the home endpoint's, whatever region its calls are signed for.
      env: { AWS_ENDPOINT_URL_ECR: url, AWS_ENDPOINT_URL_ECR_PUBLIC: home.url, AWS_ENDPOINT_URL_STS: url },
      openConnections: () => (regional ?? home).openConnections(),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
