/**
 * A local Amazon ECR API endpoint for tests, demos and benchmarks; never shipped in the plugin.
 *
 * Real ECR cannot be reached from here, so the tests point the real AWS SDK at this server over
 * HTTP (AWS_ENDPOINT_URL_ECR and AWS_ENDPOINT_URL_STS). It serves, on one port:
 * - ECR (ecr/): its JSON 1.1 protocol for the operations the plugin uses, paginated like ECR and
 *   answered with ECR's error shapes, so the SDK raises its real exception classes; tokens for the
 *   real registries behind it, and image manifests read and written on those registries;
 * - STS AssumeRole (aws/sts.ts) for the roles it is given; the temporary keys it hands out work on
 *   the ECR side only together with their session token.
 * - ECR Public (ecr-public/), when given a public registry: its own JSON API (signed for
 *   `ecr-public`, reached through AWS_ENDPOINT_URL_ECR_PUBLIC) over a registry that trusts the
 *   kit's token service, so anonymous pulls work as on public.ecr.aws.
 * All check the SigV4 signature with the configured keys (aws/sigv4.ts), so credentials provably
 * reach the wire. Image scans answer from what a test sets per image (ecr/scans.ts). Fault modes make it hang or answer with an HTML page (aws/endpoint-server.ts),
 * fail the next ECR calls, hold them at a gate or hold one until the test lets it go
 * (aws/call-faults.ts); PutImage can answer as other ECR-compatible endpoints do (ecr/images.ts).
 */
import { AccessKeys, type TemporaryKey } from './aws/access-keys';
import { startEndpointServer, type EndpointFault } from './aws/endpoint-server';
import type { CallHold } from './aws/call-faults';
import type { ServiceCall } from './aws/json-protocol';
import { stsService, type AssumeRoleCall, type RoleConfig } from './aws/sts';
import { ecrService } from './ecr/ecr-api';
import { ecrPublicService } from './ecr-public/ecr-public-api';
import type { PublicRegistry } from './ecr-public/public-registry';
import type { PutImageAnswers } from './ecr/images';
import { EcrRegistries, type RegistryConfig } from './ecr/registries';
import { seedRepositories } from './ecr/repositories';
import type { ImageScans } from './ecr/scans';

export type { TemporaryKey } from './aws/access-keys';
export type { EndpointFault } from './aws/endpoint-server';
export type { CallHold } from './aws/call-faults';
export type { PutImageAnswers } from './ecr/images';
export type { AssumeRoleCall, RoleConfig } from './aws/sts';
export type { RegistryConfig } from './ecr/registries';
export type { ImageScans, ScanAnswer, ScanFindingSpec, ScannedImage } from './ecr/scans';

export interface EcrEndpointOptions {
  accessKeyId: string;
  secretAccessKey: string;
  /** Keyed by 12-digit account id; the first key is the default registry. */
  registries: Record<string, RegistryConfig>;
  /** Used in repository ARNs; default 'us-east-1'. */
  region?: string;
  /** Roles that STS AssumeRole may assume with the base keys, keyed by role ARN. */
  roles?: Record<string, RoleConfig>;
  /** An ECR Public registry to serve the `ecr-public` API for. */
  publicRegistry?: PublicRegistry;
  /**
   * The temporary keys STS hands out, shared with other endpoints (one per region, as AWS's STS
   * keys work in every region's ECR); default: this endpoint's own.
   */
  temporaryKeys?: Map<string, TemporaryKey>;
}

/** One ECR request that carried a parseable SigV4 credential, whether it was then accepted or not. */
export type EcrCall = ServiceCall;

/** The services of the endpoint, as fault modes name them. */
export type EndpointServiceName = 'ecr' | 'ecr-public' | 'sts';

export interface EcrEndpoint {
  /** 'http://127.0.0.1:<port>' */
  url: string;
  defaultRegistryId: string;
  calls: EcrCall[];
  /** ECR Public requests that carried a parseable SigV4 credential (empty without a public registry). */
  publicCalls: EcrCall[];
  /** Seeds repositories directly, without HTTP; throws on invalid or duplicate names. */
  createRepositories(names: string[], registryId?: string): void;
  /** The next `count` authenticated ECR calls fail (replaces any pending count; 0 clears it). */
  failNext(count: number, kind: 'throttling' | 'server-error'): void;
  /**
   * Holds the next `count` ECR calls of `operation` until all of them have arrived (at most
   * `timeoutMs`), then answers them in arrival order: the calls were provably in flight at once.
   */
  gate(operation: string, count: number, timeoutMs: number): void;
  /** Holds the next ECR call of `operation` until the test releases it (at most `timeoutMs`): one action stops there. */
  hold(operation: string, timeoutMs: number): CallHold;
  /** From now on PutImage answers as `answers` says: as ECR (`ecr`, the default) or as other ECR-compatible endpoints do. */
  setPutImageAnswers(answers: PutImageAnswers): void;
  /** Changes the password that GetAuthorizationToken hands out for a configured registry. */
  setPassword(registryId: string, password: string): void;
  /** STS AssumeRole requests, in order. */
  assumeRoleCalls: AssumeRoleCall[];
  /** Requests met by a fault (hung or answered with HTML), by service. */
  faulted: EndpointServiceName[];
  /** From now on, requests to `service` (default: both) meet `fault`; undefined restores normal answers. */
  setFault(fault: EndpointFault | undefined, service?: EndpointServiceName): void;
  /** Connections clients hold open to the endpoint right now (an idle keep-alive one counts). */
  openConnections(): number;
  /** The images DescribeImageScanFindings and StartImageScan know, and what their scans answer. */
  scans: ImageScans;
  close(): Promise<void>;
}

export async function startEcrEndpoint(options: EcrEndpointOptions): Promise<EcrEndpoint> {
  if (!options.accessKeyId || !options.secretAccessKey) throw new Error('accessKeyId and secretAccessKey are required');
  const registries = new EcrRegistries(options.registries, options.region ?? 'us-east-1');
  const { defaultRegistryId } = registries;
  const keys = new AccessKeys({ accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }, options.temporaryKeys);
  const assumeRoleCalls: AssumeRoleCall[] = [];
  const ecr = ecrService(registries, keys);
  const ecrPublic = options.publicRegistry ? ecrPublicService(options.publicRegistry, keys) : undefined;
  // ECR last: it answers whatever no other service claims.
  const server = await startEndpointServer<EndpointServiceName>([
    stsService({ keys, roles: options.roles ?? {}, accountId: defaultRegistryId, calls: assumeRoleCalls }),
    ...(ecrPublic ? [ecrPublic] : []),
    ecr,
  ]);

  return {
    url: server.url,
    defaultRegistryId,
    calls: ecr.calls,
    publicCalls: ecrPublic?.calls ?? [],
    createRepositories: (names, registryId = defaultRegistryId) => seedRepositories(registries, names, registryId),
    failNext: (count, kind) => ecr.faults.failNext(count, kind),
    gate: (operation, count, timeoutMs) => ecr.faults.gate(operation, count, timeoutMs),
    hold: (operation, timeoutMs) => ecr.faults.hold(operation, timeoutMs),
    setPutImageAnswers: (answers) => {
      registries.putImageAnswers = answers;
    },
    setPassword: (registryId, password) => registries.setPassword(registryId, password),
    assumeRoleCalls,
    faulted: server.faulted,
    setFault: (fault, service) => server.setFault(fault, service),
    openConnections: () => server.openConnections(),
    scans: registries.scans,
    close: () => server.close(),
  };
}
