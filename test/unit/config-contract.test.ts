import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImageScanFindingsCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as app from '../../src/app';
import { captureOutput } from '../support/capture-output';
import { FAKE_DIGEST, installFakeDocker, type FakeDocker } from '../../devkit/docker-stand-in';
import { isolateAwsEnvironment } from '../../devkit/aws-env';
import { readManifest, REPO_ROOT } from '../../devkit/agent';
import { formatManifest, readSharedParams, withSharedParams } from '../../scripts/lib/manifest-params';

const root = REPO_ROOT;
const manifest = readManifest();
const allParams = [...manifest.settings, ...manifest.methods.flatMap((m) => m.params)];
const autocompleteFunctions = [...new Set(allParams.flatMap((p) => (p.functionName ? [p.functionName] : [])))];

describe('config.json', () => {
  it('is a complete Kaholo executer manifest', () => {
    expect(manifest).toMatchObject({ type: 'executer', execProgram: 'node', main: 'dist/app.js', imgUrl: 'logo.png' });
    expect(fs.existsSync(path.join(root, manifest.imgUrl))).toBe(true);
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    expect(manifest.version).toBe(pkg.version);
  });

  it('keeps the original method names and view names', () => {
    expect(manifest.methods.map((m) => [m.name, m.viewName])).toEqual([
      ['describeRepositories', 'Describe Repositories'],
      ['getEcrLogin', 'Get Authorization Token'],
      ['pushImgaeToRepo', 'Push Image To Repo'],
      ['pullImage', 'Pull Image From Repo'],
      ['tagImage', 'Tag Image In Repo'],
      ['checkImageScan', 'Check Image Scan'],
      ['copyImage', 'Copy Image'],
    ]);
    expect(manifest.settings.map((s) => s.name)).toEqual(['accessKeyId', 'secretAccessKey', 'region', 'roleArn', 'roleExternalId', 'transferAttempts', 'transferTimeLimit']);
  });

  it.each(allParams.map((p) => [p.name, p] as const))('declares %s fully', (_name, param) => {
    expect(['string', 'text', 'vault', 'boolean', 'options', 'autocomplete']).toContain(param.type);
    expect(param.viewName).toBeTruthy();
    expect(param.description).toBeTruthy();
    expect(param.learnUrl).toMatch(/^https:\/\/docs\.(aws\.amazon|docker)\.com\//);
    if (param.type === 'autocomplete') expect(param).toMatchObject({ autocompleteType: 'function' });
    expect(param.required ?? false).toBe(['repoName', 'imageName', 'tags'].includes(param.name));
  });

  it('declares the params methods share from one definition (npm run config:sync writes them)', () => {
    const text = fs.readFileSync(path.join(root, 'config.json'), 'utf8');
    expect(formatManifest(withSharedParams(JSON.parse(text)))).toBe(text);
    const shared = readSharedParams();
    for (const method of manifest.methods) {
      expect(method.params.slice(0, shared.everyMethod.length)).toEqual(shared.everyMethod);
    }
    // A copy edited by hand is what the check finds.
    const edited = JSON.parse(text) as typeof manifest;
    edited.methods[1].params[0] = { ...edited.methods[1].params[0], description: 'edited by hand' };
    expect(withSharedParams(edited).methods[1].params[0]).toEqual(shared.everyMethod[0]);
  });

  it('names only exports that exist, and the source exports nothing else', () => {
    const expected = [...manifest.methods.map((m) => m.name), ...autocompleteFunctions].sort();
    expect(Object.keys(app).sort()).toEqual(expected);
    for (const name of expected) expect(typeof (app as Record<string, unknown>)[name]).toBe('function');
  });
});

describe('what each method reads is what config.json declares', () => {
  const ecrMock = mockClient(ECRClient);
  let docker: FakeDocker;
  let restoreEnv: () => void;

  beforeAll(async () => {
    restoreEnv = isolateAwsEnvironment();
    docker = await installFakeDocker();
    process.env.PATH = `${docker.binDir}${path.delimiter}${process.env.PATH ?? ''}`;
    process.env.DEVKIT_DOCKER_LOCAL_IMAGES = 'app:1.0';
    ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [] });
    ecrMock.on(DescribeRepositoriesCommand, { repositoryNames: ['app'] }).resolves({ repositories: [{ repositoryUri: 'r.example/app' }] });
    ecrMock.on(CreateRepositoryCommand).resolves({});
    ecrMock.on(BatchGetImageCommand).resolves({ images: [{ imageId: { imageDigest: FAKE_DIGEST }, imageManifest: '{}' }] });
    ecrMock.on(PutImageCommand).resolves({});
    ecrMock.on(DescribeImageScanFindingsCommand).resolves({
      imageId: { imageDigest: FAKE_DIGEST },
      imageScanStatus: { status: 'COMPLETE' },
      imageScanFindings: { findings: [], imageScanCompletedAt: new Date(), findingSeverityCounts: {} },
    });
    ecrMock.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [{ authorizationToken: Buffer.from('AWS:pw').toString('base64'), proxyEndpoint: 'https://r.example' }],
    });
  });
  afterAll(async () => {
    await docker.remove();
    await registry.close();
    restoreEnv();
  });

  // copyImage reaches the registries' HTTP API, not docker: one in this process answers it.
  let registry: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    registry = await serveImageRegistry();
  });

  const validValues: Record<string, unknown> = {
    accessKeyId: 'AKIAEXAMPLEKEY000001',
    secretAccessKey: 'secret',
    sessionToken: 'token',
    region: 'us-east-1',
    registryId: '123456789012',
    registryIds: '123456789012',
    repositoryNames: 'app',
    repoName: 'app',
    imageName: 'app:1.0',
    transferAttempts: '2',
    transferTimeLimit: '5',
    additionalTags: 'latest',
    createRepository: 'true',
    imageTagMutability: 'IMMUTABLE',
    scanOnPush: false,
    encryptionType: 'KMS',
    kmsKey: 'alias/app',
    repositoryTags: 'team=app',
    // Catalog data is for public repositories and the settings above for private ones: an empty value is read all the same.
    catalogDescription: '',
    catalogAboutText: '',
    catalogUsageText: '',
    catalogArchitectures: '',
    catalogOperatingSystems: '',
    registryType: 'private',
    tags: 'prod',
    failOnSeverity: 'HIGH',
    ignoreFindings: 'CVE-2024-1234 until 2099-12-31',
    startScan: 'true',
    scanTimeoutSeconds: '60',
    targetRegistryId: '210987654321',
    targetRegion: { id: 'eu-west-2', value: 'eu-west-2 (Europe, London)' },
    targetRepoName: 'prod/app',
    targetTags: '1.0\nprod',
    copyReferrers: 'true',
  };

  /** A params object that remembers every name the method asks for. */
  function recording(values: Record<string, unknown>, read: Set<string>): Record<string, unknown> {
    return new Proxy(values, {
      get(target, key) {
        if (typeof key === 'string') read.add(key);
        return Reflect.get(target, key) as unknown;
      },
    });
  }

  it.each(manifest.methods.map((m) => [m.name, m] as const))('%s', async (name, method) => {
    const declared = method.params.map((p) => p.name);
    const readParams = new Set<string>();
    const readSettings = new Set<string>();
    const params = recording(Object.fromEntries(declared.map((p) => [p, validValues[p]])), readParams);
    const settings = recording({}, readSettings);
    const handler = (app as Record<string, unknown>)[name] as (a: unknown, s: unknown) => Promise<unknown>;
    if (name === 'copyImage') {
      ecrMock.on(GetAuthorizationTokenCommand).resolves({
        authorizationData: [{ authorizationToken: Buffer.from('AWS:pw').toString('base64'), proxyEndpoint: registry.url }],
      });
    }

    const { error } = await captureOutput(() => handler({ method: { name }, params }, settings));

    expect(error).toBeUndefined();
    expect([...readParams].sort()).toEqual([...declared].sort());
    const declaredSettings = manifest.settings.map((s) => s.name);
    expect([...readSettings].filter((s) => !declaredSettings.includes(s))).toEqual([]);
  });
});

/**
 * A registry that holds app:1.0 (one layer) and answers as if the target held every blob already:
 * enough for copyImage to run to its end.
 */
async function serveImageRegistry(): Promise<{ url: string; close(): Promise<void> }> {
  const digest = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const blob = Buffer.from('layer');
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(blob), size: blob.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digest(blob), size: blob.length }],
    }),
  );
  const server = createServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/v2/app/manifests/1.0') {
        res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }).end(manifest);
      } else if (req.method === 'HEAD' && req.url?.includes('/blobs/')) {
        res.writeHead(200, { 'Content-Length': blob.length, 'Docker-Content-Digest': digest(blob) }).end();
      } else if (req.method === 'PUT' && req.url?.includes('/manifests/')) {
        res.writeHead(201, { 'Docker-Content-Digest': digest(Buffer.concat(body)) }).end();
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
