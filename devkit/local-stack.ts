/**
 * The local stand-in for AWS that the demo and `npm run action -- --local` run the plugin against:
 * the local ECR API endpoint, and, when Docker is wanted and possible, a Docker engine (the one
 * already running, or a private dockerd started for the occasion) and a real registry behind the
 * endpoint's tokens. Everything listens on 127.0.0.1 and stop() takes it all down again.
 */
import execa from 'execa';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { dockerAvailability, ensureDockerEngine, type DockerEngine } from './docker-engine';
import type { ScanFindingSpec } from './ecr-endpoint';
import { makeImage, removeImage } from './images';
import { writeIndex, writeReferrer } from './oci-images';
import { startLocalEcr, type LocalEcr } from './local-ecr';
import { registryAvailability, startRegistry } from './registry';

/** The size of the images the stack makes for a push or a pull to work with. */
const IMAGE_BYTES = 1024 * 1024;

export interface LocalStack {
  ecr: LocalEcr;
  /** Set when push and pull can run. */
  engine?: DockerEngine;
  /** Why there is no engine (and so no registry), when Docker was wanted. */
  dockerSkipped?: string;
  /** Stops the registry, the endpoint and an engine this stack started, and removes the images it made. Idempotent. */
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  /** Also a Docker engine and a registry (for push and pull). */
  docker: boolean;
  /** Registries even without an engine (copyImage needs none). */
  registries?: boolean;
  /** How many accounts (registries); default 1. */
  accounts?: number;
  /** With registries, also an ECR Public registry (startLocalEcr's `publicRegistry`). */
  publicRegistry?: boolean;
  /** Called before each slow step, for progress lines. */
  progress?: (line: string) => void;
}

/** Why push and pull cannot run here, or undefined when they can. */
export async function dockerUnavailableReason(): Promise<string | undefined> {
  const docker = await dockerAvailability();
  if (!docker.ok) return docker.reason;
  const registry = await registryAvailability();
  if (!registry.ok) return registry.reason;
  return undefined;
}

/** Image ids the stacks of this process made, removed by stop(). */
const madeImages: string[] = [];

function dockerEnv(stack: LocalStack, dockerConfig?: string): NodeJS.ProcessEnv {
  if (!stack.engine) throw new Error(`no Docker engine: ${stack.dockerSkipped ?? 'not started'}`);
  return { ...process.env, ...stack.engine.env, ...(dockerConfig ? { DOCKER_CONFIG: dockerConfig } : {}) };
}

/** Makes a small image named `name` in the stack's engine for a push to work with, unless one is there. */
export async function makeLocalImage(stack: LocalStack, name: string): Promise<boolean> {
  const env = dockerEnv(stack);
  const present = await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', name], { env, reject: false, stdin: 'ignore' });
  if (present.exitCode === 0) return false;
  madeImages.push(await makeImage(env, name, IMAGE_BYTES));
  return true;
}

/**
 * Puts a small image at `<registry>/<repository>:<tag>` in the stack's default registry, for a pull
 * to fetch: made, pushed with a login of its own (password on stdin, in a private config that
 * is removed), and removed from the engine again. Returns the reference.
 */
export async function seedRegistry(stack: LocalStack, repository: string, tag: string): Promise<string> {
  const registry = stack.ecr.registries[0];
  if (!registry) throw new Error('no registry to seed');
  const reference = `${registry.host}/${repository}:${tag}`;
  const config = await fs.mkdtemp(path.join(os.tmpdir(), 'kdk-seed-'));
  const env = dockerEnv(stack, config);
  const docker = (args: string[], input?: string) => execa('docker', args, { env, input, stdin: input === undefined ? 'ignore' : undefined });
  try {
    const id = await makeImage(env, reference, IMAGE_BYTES);
    await docker(['login', '--username', registry.user, '--password-stdin', registry.host], stack.ecr.passwords[0]);
    await docker(['push', reference]);
    await docker(['logout', registry.host]);
    await removeImage(env, id);
    return reference;
  } finally {
    await fs.rm(config, { recursive: true, force: true });
  }
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const progress = options.progress ?? (() => undefined);
  let engine: DockerEngine | undefined;
  let dockerSkipped: string | undefined;
  if (options.docker) {
    dockerSkipped = await dockerUnavailableReason();
    if (dockerSkipped === undefined) {
      progress('Docker engine: looking for a running one, else starting a private dockerd…');
      engine = await ensureDockerEngine();
    }
  }
  let ecr: LocalEcr;
  try {
    const withRegistries = engine !== undefined || (options.registries === true && (await registryAvailability()).ok);
    if (withRegistries) progress('Starting the local ECR API endpoint and a registry per account (docker-registry, htpasswd auth)…');
    else progress('Starting the local ECR API endpoint…');
    ecr = await startLocalEcr({ accounts: options.accounts ?? 1, ...(withRegistries ? { startRegistry, ...(options.publicRegistry ? { publicRegistry: true } : {}) } : {}) });
  } catch (error) {
    await engine?.stop();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    ecr,
    engine,
    dockerSkipped,
    stop() {
      stopping ??= (async () => {
        const errors: unknown[] = [];
        for (const image of madeImages.splice(0)) await removeImage(engine?.env ?? {}, image).catch((e: unknown) => errors.push(e));
        await ecr.stop().catch((e: unknown) => errors.push(e));
        await engine?.stop().catch((e: unknown) => errors.push(e));
        if (errors.length > 0) throw errors[0];
      })();
      return stopping;
    },
  };
}

/**
 * Points this process's AWS SDK at the local endpoint (ECR and STS) (and nothing else's: child processes get
 * it only if they inherit this environment). A setting that would make the SDK ignore it goes.
 */
export function useLocalEndpoint(stack: LocalStack): void {
  delete process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
  process.env.AWS_ENDPOINT_URL_ECR = stack.ecr.env.AWS_ENDPOINT_URL_ECR;
  process.env.AWS_ENDPOINT_URL_ECR_PUBLIC = stack.ecr.env.AWS_ENDPOINT_URL_ECR_PUBLIC;
  process.env.AWS_ENDPOINT_URL_STS = stack.ecr.env.AWS_ENDPOINT_URL_STS; // roles are assumed locally too
  if (stack.engine) process.env.DOCKER_HOST = stack.engine.env.DOCKER_HOST;
}

/**
 * Puts an image for copyImage to copy at `<repository>:<tag>` in the stack's default registry,
 * written straight to the registry's API (no Docker): an OCI index of two platforms (1 MiB layers)
 * and a signature that refers to it. Returns the index's digest.
 */
export async function seedImageToCopy(stack: LocalStack, repository: string, tag: string): Promise<string> {
  const registry = stack.ecr.registries[0];
  if (!registry) throw new Error('no registry to seed');
  const access = { url: registry.url, user: registry.user, password: stack.ecr.passwords[0] };
  const index = await writeIndex(access, repository, tag, [IMAGE_BYTES]);
  await writeReferrer(access, repository, index, 'application/vnd.dev.cosign.artifact.sig.v1+json', Buffer.from(`signature of ${index.digest}`));
  return index.digest;
}

/** The repositories the demo and `--local` create, in the default registry. */
export const LOCAL_REPOSITORIES = ['demo/app', 'demo/worker', 'team/api'];

/** What the demo and `--local` put in an image's scan: three findings, as basic scanning reports them. */
export const LOCAL_SCAN_FINDINGS: ScanFindingSpec[] = [
  { name: 'CVE-2024-0001', severity: 'HIGH', package: 'openssl', version: '3.0.13', uri: 'https://cve.example/CVE-2024-0001', score: 7.5 },
  { name: 'CVE-2024-0002', severity: 'MEDIUM', package: 'zlib', version: '1.2.13', uri: 'https://cve.example/CVE-2024-0002', score: 5.3 },
  { name: 'CVE-2024-0003', severity: 'LOW', package: 'bash', version: '5.2.15', uri: 'https://cve.example/CVE-2024-0003' },
];

/**
 * Gives an image of `repository` (by its digest, or a new one named by `tag`) a completed basic
 * scan with LOCAL_SCAN_FINDINGS in the stack's ECR stand-in; returns the digest.
 */
export function seedScan(stack: LocalStack, repository: string, image: { digest?: string; tag?: string }): string {
  const digest = image.digest ?? `sha256:${randomBytes(32).toString('hex')}`;
  stack.ecr.endpoint.scans.set({
    repositoryName: repository,
    digest,
    ...(image.tag !== undefined ? { tags: [image.tag] } : {}),
    scan: [{ status: 'COMPLETE', scanType: 'BASIC', findings: LOCAL_SCAN_FINDINGS }],
  });
  return digest;
}
