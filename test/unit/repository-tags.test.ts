/**
 * Repository creation and tags through the ECR API, against the SDK mocked: what the plugin sends
 * (the manifest byte for byte with its media type, the accepted media types, the settings) and how
 * it reads ECR's answers (already-existing images and repositories, immutable tags, failures).
 */
import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ImageAlreadyExistsException,
  ImageTagAlreadyExistsException,
  PutImageCommand,
  RepositoryAlreadyExistsException,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import * as plugin from '../../src/app';
import { ParamReader } from '../../src/kaholo/param-reader';
import { MANIFEST_MEDIA_TYPES, OCI_INDEX } from '../../src/registry/media-types';
import { readRepositorySettings, type RepositorySettings } from '../../src/params/repository-settings';
import { captureOutput } from '../support/capture-output';
import { MissingImageError } from '../../src/errors';
import { ActivityLog } from '../../src/kaholo/activity-log';
import { Redactor } from '../../src/kaholo/redactor';
import { parseImageRequest } from '../../src/params/image-request';
import { tagImageInRepository } from '../../src/registry/image-tagging';
import type { RegistryApi } from '../../src/registry/registry-api';
import { isolateAwsEnvironment } from '../../devkit/aws-env';

const ecrMock = mockClient(ECRClient);
const KEYS = { accessKeyId: 'AKIAEXAMPLEKEY000001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', region: 'eu-west-2' };
const HOST = '123456789012.dkr.ecr.eu-west-2.amazonaws.com';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const OTHER = `sha256:${'cd'.repeat(32)}`;
// Odd spacing and key order on purpose: only the very bytes keep the digest.
const INDEX = `{"schemaVersion":2,  "mediaType":"${OCI_INDEX}","manifests":[]}\n`;

const tagImage = (params: Record<string, unknown>) =>
  captureOutput(() => plugin.tagImage({ method: { name: 'tagImage' }, params: { ...KEYS, repoName: 'team/app', ...params } }, {}));

let restoreEnv: () => void;
beforeEach(() => {
  ecrMock.reset();
  restoreEnv = isolateAwsEnvironment();
  ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [{ repositoryName: 'team/app', repositoryUri: `${HOST}/team/app` }] });
  ecrMock.on(BatchGetImageCommand).resolves({
    images: [{ imageId: { imageDigest: DIGEST, imageTag: 'rc' }, imageManifest: INDEX, imageManifestMediaType: OCI_INDEX }],
    failures: [],
  });
});
afterEach(() => restoreEnv());

/** BatchGetImage by tag: the manifest, unless `tags` says what a tag names (undefined: missing). */
function mockRegistry(tags: Record<string, string | undefined> = {}): void {
  ecrMock.on(BatchGetImageCommand).callsFake(async (input: { imageIds: Array<{ imageTag?: string; imageDigest?: string }> }) => {
    const [{ imageTag, imageDigest }] = input.imageIds;
    const digest = imageTag !== undefined && imageTag in tags ? tags[imageTag] : (imageDigest ?? DIGEST);
    await Promise.resolve();
    if (digest === undefined) return { images: [], failures: [{ imageId: { imageTag }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }] };
    return { images: [{ imageId: { imageDigest: digest, imageTag }, imageManifest: INDEX, imageManifestMediaType: 'application/vnd.oci.image.index.v1+json' }], failures: [] };
  });
}
/** PutImage answering as ECR does: the image id it stored, with its digest and tag. */
function putImageAnswers(): void {
  ecrMock.on(PutImageCommand).callsFake((input: { imageDigest: string; imageTag: string; repositoryName: string }) =>
    Promise.resolve({ image: { repositoryName: input.repositoryName, imageId: { imageDigest: input.imageDigest, imageTag: input.imageTag } } }),
  );
}
const batchGets = () => ecrMock.commandCalls(BatchGetImageCommand).map((c) => c.args[0].input.imageIds);

describe('tagImage', () => {
  it('puts the manifest it got, byte for byte with its media type, under each new tag; an answer with the digest is proof', async () => {
    putImageAnswers();
    const { result, error, output } = await tagImage({ imageName: 'rc', tags: 'prod\n1.4, prod' });
    expect(error).toBeUndefined();
    expect(result).toEqual({ image: `${HOST}/team/app:rc`, digest: DIGEST, registry: HOST, tags: ['rc', 'prod', '1.4'] });
    expect(ecrMock.commandCalls(BatchGetImageCommand)[0].args[0].input).toEqual({
      repositoryName: 'team/app',
      imageIds: [{ imageTag: 'rc' }],
      acceptedMediaTypes: [...MANIFEST_MEDIA_TYPES],
    });
    expect(ecrMock.commandCalls(PutImageCommand).map((c) => c.args[0].input)).toEqual(
      ['prod', '1.4'].map((imageTag) => ({
        repositoryName: 'team/app',
        imageManifest: INDEX,
        imageManifestMediaType: OCI_INDEX,
        imageDigest: DIGEST,
        imageTag,
      })),
    );
    expect(batchGets()).toEqual([[{ imageTag: 'rc' }]]); // nothing read back: the answers carried the digest
    expect(output).toContain(`Tagged team/app@${DIGEST} as prod`);
  });

  it.each([
    ['an empty answer (200 with no image id)', {}],
    ['an answer with another digest', { image: { imageId: { imageDigest: OTHER, imageTag: 'prod' } } }],
    ['an answer under another tag', { image: { imageId: { imageDigest: DIGEST, imageTag: 'other' } } }],
  ])('%s is settled by reading the tag back: the tag counts only when it names the image', async (_label, answer) => {
    ecrMock.on(PutImageCommand).resolves(answer);
    mockRegistry({ prod: DIGEST });
    const placed = await tagImage({ imageName: 'rc', tags: 'prod' });
    expect(placed.error).toBeUndefined();
    expect((placed.result as { tags: string[] }).tags).toEqual(['rc', 'prod']);
    expect(batchGets()).toEqual([[{ imageTag: 'rc' }], [{ imageTag: 'prod' }]]);
    expect(placed.output).toContain(`Tagged team/app@${DIGEST} as prod (PutImage answered`);

    ecrMock.resetHistory();
    mockRegistry({ prod: undefined });
    const missing = await tagImage({ imageName: 'rc', tags: 'prod' });
    expect(missing.result).toBeUndefined();
    expect((missing.error as Error).message).toMatch(/^Tag "prod" is not in place: ECR PutImage answered .*, but reading the tag back \(BatchGetImage\) found no such tag$/);
    expect(missing.output).not.toContain('Tagged');
  });

  it('an answer of another image, and the tag names another image: an error, not a tag', async () => {
    ecrMock.on(PutImageCommand).resolves({ image: { imageId: { imageDigest: OTHER, imageTag: 'prod' } } });
    mockRegistry({ prod: OTHER });
    const { error, result } = await tagImage({ imageName: 'rc', tags: 'prod' });
    expect(result).toBeUndefined();
    expect((error as Error).message).toBe(
      `Tag "prod" is not in place: ECR PutImage answered ${OTHER}, but reading the tag back (BatchGetImage) found it names ${OTHER}, not ${DIGEST}`,
    );
  });

  it('"already exists" counts once the tag is read back naming the image', async () => {
    ecrMock.on(PutImageCommand).rejects(new ImageAlreadyExistsException({ message: 'Image already exists', $metadata: {} }));
    mockRegistry({ prod: DIGEST });
    const { result, output } = await tagImage({ imageName: `team/app@${DIGEST}`, tags: ['prod'], registryId: '123456789012' });
    expect(result).toEqual({ image: `${HOST}/team/app@${DIGEST}`, digest: DIGEST, registry: HOST, tags: ['prod'] });
    expect(ecrMock.commandCalls(BatchGetImageCommand)[0].args[0].input).toMatchObject({ registryId: '123456789012', imageIds: [{ imageDigest: DIGEST }] });
    expect(batchGets()).toEqual([[{ imageDigest: DIGEST }], [{ imageTag: 'prod' }]]);
    expect(output).toContain(`team/app:prod already names ${DIGEST}`);
  });

  it.each([
    ['ImageTagAlreadyExistsException (ECR)', new ImageTagAlreadyExistsException({ message: 'immutable', $metadata: {} })],
    ['ImageAlreadyExistsException (what moto answers for an immutable tag)', new ImageAlreadyExistsException({ message: 'Image already exists', $metadata: {} })],
  ])('%s while the tag names another image: the immutable tag is an error naming it', async (_label, refusal) => {
    ecrMock.on(PutImageCommand).rejects(refusal);
    mockRegistry({ prod: OTHER });
    const { error, result } = await tagImage({ imageName: 'rc', tags: 'prod' });
    expect(result).toBeUndefined();
    expect((error as Error).message).toBe(
      'Parameter "tags": tag "prod" already names another image in repository "team/app", whose tags are immutable; choose another tag',
    );
  });

  it('a tag that fails after others: the error says which are in place and which were not tried', async () => {
    putImageAnswers();
    ecrMock.on(PutImageCommand, { imageTag: 'stable' }).resolves({});
    mockRegistry({ stable: undefined });
    const { error } = await tagImage({ imageName: 'rc', tags: 'prod, stable, 1.4' });
    expect((error as Error).message).toBe(
      `Tag "stable" is not in place: ECR PutImage answered without the image it stored, but reading the tag back (BatchGetImage) found no such tag. ` +
        'Tags added before it (verified): "prod"; not tried: "1.4"',
    );
    expect(ecrMock.commandCalls(PutImageCommand).map((c) => c.args[0].input.imageTag)).toEqual(['prod', 'stable']);
  });

  it.each([DIGEST, `@${DIGEST}`])('reads %s, a digest alone, as that digest', async (imageName) => {
    putImageAnswers();
    const { result, error } = await tagImage({ imageName, tags: 'prod' });
    expect(error).toBeUndefined();
    expect(result).toEqual({ image: `${HOST}/team/app@${DIGEST}`, digest: DIGEST, registry: HOST, tags: ['prod'] });
    expect(batchGets()[0]).toEqual([{ imageDigest: DIGEST }]);
  });

  it('reports a missing source image (a BatchGetImage failure, not an exception) naming imageName, and puts nothing', async () => {
    ecrMock.on(BatchGetImageCommand).resolves({
      images: [],
      failures: [{ imageId: { imageTag: 'gone' }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }],
    });
    const { error } = await tagImage({ imageName: 'gone', tags: 'prod' });
    expect((error as Error).message).toBe('Parameter "imageName": "gone" is not in repository "team/app" (ImageNotFound: Requested image not found)');
    expect(ecrMock.commandCalls(PutImageCommand)).toHaveLength(0);
  });
});

describe('tagImage on ECR Public', () => {
  /** A public registry whose PutImage answers 200 with no image and stores nothing (as the kit's "empty-untagged"). */
  const emptyPublic: RegistryApi = {
    type: 'public',
    region: 'us-east-1',
    expectedHost: () => Promise.resolve(undefined),
    describeRepositories: () => Promise.resolve([{ repositoryName: 'team/app', repositoryUri: 'public.ecr.aws/k7x2q9z1/team/app' }]),
    authorize: () => Promise.reject(new Error('not asked')),
    repositoryPath: (repoName) => Promise.resolve(`k7x2q9z1/${repoName}`),
    createRepository: () => Promise.reject(new Error('not asked')),
    getManifest: (_repoName, image) =>
      image.tag === 'rc' ? Promise.resolve({ digest: DIGEST, manifest: INDEX, mediaType: OCI_INDEX }) : Promise.reject(new MissingImageError('MANIFEST_UNKNOWN')),
    putManifest: () => Promise.resolve({ outcome: 'stored' }),
    forRegistry: () => emptyPublic,
    close: () => undefined,
  };

  it("a tag not in place names ECR Public's PutImage and the registry's own API it was read back through", async () => {
    const { error } = await captureOutput(() =>
      tagImageInRepository({ registry: emptyPublic, repoName: 'team/app' }, parseImageRequest('rc', 'pull'), ['prod'], { log: new ActivityLog(new Redactor()), waitMs: 5000 }),
    );
    expect((error as Error).message).toBe(
      `Tag "prod" is not in place: ECR Public PutImage answered without the image it stored, but reading the tag back (the registry's manifest API) found no such tag`,
    );
  });
});

describe('push: repository settings', () => {
  const read = (params: Record<string, unknown>) => readRepositorySettings(new ParamReader(params, {}), 'private');

  it('reads the defaults, and nothing to create unless asked', () => {
    expect(read({})).toBeUndefined();
    expect(read({ createRepository: 'false', scanOnPush: false })).toBeUndefined();
    expect(read({ createRepository: true })).toEqual({ type: 'private', imageTagMutability: 'MUTABLE', scanOnPush: true, encryptionType: 'AES256', tags: [] });
  });

  it('reads every setting as Kaholo sends it', () => {
    expect(
      read({
        createRepository: 'TRUE',
        imageTagMutability: 'IMMUTABLE',
        scanOnPush: 'false',
        encryptionType: 'KMS',
        kmsKey: 'alias/app',
        repositoryTags: 'team=payments\nnote=a b:c/d=e\nempty=',
      }),
    ).toEqual({
      type: 'private',
      imageTagMutability: 'IMMUTABLE',
      scanOnPush: false,
      encryptionType: 'KMS',
      kmsKey: 'alias/app',
      tags: [
        { Key: 'team', Value: 'payments' },
        { Key: 'note', Value: 'a b:c/d=e' },
        { Key: 'empty', Value: '' },
      ],
    });
  });

  it('creates the repository before the push, and takes RepositoryAlreadyExistsException as "it exists"', async () => {
    const settings: RepositorySettings = { type: 'private', imageTagMutability: 'IMMUTABLE', scanOnPush: true, encryptionType: 'AES256', tags: [] };
    const { ensureRepository } = await import('../../src/registry/repository-creation');
    const { openEcrRegistry } = await import('../../src/aws/ecr-registry');
    const { ActivityLog } = await import('../../src/kaholo/activity-log');
    const { Redactor } = await import('../../src/kaholo/redactor');
    const registry = await openEcrRegistry({ region: 'eu-west-2', credentials: KEYS }, undefined, new Redactor());
    const log = new ActivityLog(new Redactor());

    ecrMock.on(CreateRepositoryCommand).resolves({});
    const created = await captureOutput(() => ensureRepository({ registry, repoName: 'team/app' }, settings, log));
    expect(created.result).toBe(true);
    expect(ecrMock.commandCalls(CreateRepositoryCommand)[0].args[0].input).toEqual({
      repositoryName: 'team/app',
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: { encryptionType: 'AES256' },
    });

    ecrMock.on(CreateRepositoryCommand).rejects(new RepositoryAlreadyExistsException({ message: 'exists', $metadata: {} }));
    const existing = await captureOutput(() => ensureRepository({ registry, repoName: 'team/app' }, settings, log));
    expect(existing.result).toBe(false);
    expect(existing.output).toContain('Repository team/app already exists; its settings are left as they are');
    registry.close();
  });
});
