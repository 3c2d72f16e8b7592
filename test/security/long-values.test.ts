/**
 * Every echoed value in every error is cut to 80 characters: long values, valid and not, go
 * through every method of config.json (the compiled plugin as the agent calls it, against the ECR
 * stand-in with a real registry behind it, and the kit's stand-in docker in fake mode), far enough
 * to meet each kind of error: the plugin's own checks, AWS's errors (which echo names whole), and
 * docker's (which echo references whole). No error may hold more than 80 characters in a row of any
 * value the action was given. The values are made so that each 81-character stretch of one is
 * unlike any other stretch, so a find means that value was echoed past the limit.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { captureOutput } from '../support/capture-output';
import { describeWithDocker } from '../support/e2e-environment';
import { isolateAwsEnvironment } from '../../devkit/aws-env';
import { loadPlugin, readManifest, type LoadedPlugin } from '../../devkit/agent';
import { installFakeDocker, type FakeDocker, type FakeDockerScenario } from '../../devkit/docker-stand-in';
import { LOCAL_KEYS, LOCAL_REGION, startLocalEcr, type LocalEcr } from '../../devkit/local-ecr';
import { ECHO_LIMIT } from '../../src/errors';

/** `length` characters of `prefix` then numbered parts ("p000-p001-…"), cut to fit: no stretch repeats. */
function long(prefix: string, length: number, part = 'p'): string {
  let text = prefix;
  for (let i = 0; text.length < length; i++) text += `${i === 0 ? '' : '-'}${part}${String(i).padStart(3, '0')}`;
  return text.slice(0, length).replace(/-$/, 'x');
}

const KEYS = { ...LOCAL_KEYS, region: LOCAL_REGION };
/** Valid names and references longer than the echo limit. */
const REPO_246 = long('team/', 246, 'r');
const REPO_200 = long('team/', 200, 's');
const REPO_MISSING = long('team/', 250, 'm');
const TAG_128 = long('t', 128, 'v');
const LONG_ROLE = `arn:aws:iam::123456789012:role/${long('', 150, 'path')}/deploy`;

interface Case {
  what: string;
  method: string;
  params: Record<string, unknown>;
  /** The stand-in docker's answer, for push and pull. */
  docker?: FakeDockerScenario;
  /** The error must match this, so the case reached the path it is about. */
  reaches: RegExp;
}

const CASES: Case[] = [
  { what: 'a long repository name that does not exist (AWS echoes it)', method: 'describeRepositories', params: { repositoryNames: `team/app\n${REPO_MISSING}` }, reaches: /RepositoryNotFoundException/ },
  { what: 'a long registry id', method: 'describeRepositories', params: { registryId: long('1', 300, '') }, reaches: /^Parameter "registryId"/ },
  { what: 'a long region', method: 'describeRepositories', params: { region: long('eu-west-', 200, 'x') }, reaches: /^Parameter "region"/ },
  { what: 'a long role ARN that STS refuses (STS echoes it)', method: 'describeRepositories', params: { roleArn: LONG_ROLE }, reaches: /^Parameter "roleArn": could not assume/ },
  { what: 'a long role session name', method: 'getEcrLogin', params: { roleArn: LONG_ROLE, roleSessionName: long('s', 120, 'n') }, reaches: /^Parameter "roleSessionName"/ },
  { what: 'long registry ids', method: 'getEcrLogin', params: { registryIds: ['123456789012', long('9', 150, '')] }, reaches: /^Parameter "registryIds"/ },
  { what: 'a repository name too long for docker with the host', method: 'pushImgaeToRepo', params: { repoName: REPO_246, imageName: 'app:1.0', createRepository: true }, reaches: /^Parameter "repoName": .*too long for docker/ },
  { what: 'a long repository name, no such local image', method: 'pushImgaeToRepo', params: { repoName: REPO_200, imageName: TAG_128 }, docker: 'no-local-image', reaches: /^Parameter "imageName": no such local image/ },
  { what: 'a long image reference', method: 'pushImgaeToRepo', params: { repoName: 'team/app', imageName: `ghcr.io/${long('org/', 200, 'i')}:${TAG_128}` }, docker: 'no-local-image', reaches: /^Parameter "imageName": no such local image/ },
  { what: 'a long image reference into another repository', method: 'pushImgaeToRepo', params: { repoName: REPO_200, imageName: `HOST/${long('other/', 150, 'o')}:1.0` }, reaches: /^Parameter "imageName": names repository/ },
  { what: 'a long additional tag', method: 'pushImgaeToRepo', params: { repoName: 'team/app', imageName: 'app:1.0', additionalTags: `latest,${TAG_128}x` }, reaches: /^Parameter "additionalTags"/ },
  { what: 'a long repository tag', method: 'pushImgaeToRepo', params: { repoName: 'team/app', imageName: 'app:1.0', repositoryTags: `team=${long('v', 300, 'w')}` }, reaches: /^Parameter "repositoryTags"/ },
  { what: 'a long kms key with KMS off', method: 'pushImgaeToRepo', params: { repoName: 'team/app', imageName: 'app:1.0', kmsKey: long('alias/', 200, 'k') }, reaches: /^Parameter "kmsKey"/ },
  { what: 'a long architecture the ECR Public Gallery does not know', method: 'pushImgaeToRepo', params: { registryType: 'public', repoName: 'team/app', imageName: 'app:1.0', catalogArchitectures: long('x86-', 200, 'a') }, reaches: /^Parameter "catalogArchitectures"/ },
  { what: 'a long public image path that is not <alias>/<repoName>', method: 'pullImage', params: { registryType: 'public', repoName: 'team/app', imageName: `public.ecr.aws/${long('alias/', 200, 'q')}:1.0` }, reaches: /^Parameter "imageName": names/ },
  { what: 'a long transfer time limit', method: 'pushImgaeToRepo', params: { repoName: 'team/app', imageName: 'app:1.0', transferTimeLimit: long('1', 120, '') }, reaches: /^Parameter "transferTimeLimit"/ },
  { what: 'a long image name that is no reference', method: 'pushImgaeToRepo', params: { repoName: 'team/app', imageName: `${long('A', 150, 'B')}` }, reaches: /^Parameter "imageName"/ },
  { what: 'a long repository name, a tag not in the registry (docker echoes the reference)', method: 'pullImage', params: { repoName: REPO_200, imageName: TAG_128 }, docker: 'unknown-tag', reaches: /is not in the registry/ },
  { what: 'a long repository name too long for docker, for a pull', method: 'pullImage', params: { repoName: REPO_246, imageName: '1.0' }, reaches: /^Parameter "repoName": .*too long for docker/ },
  { what: 'a long repository name, a source image not in it', method: 'tagImage', params: { repoName: REPO_246, imageName: TAG_128, tags: 'prod' }, reaches: /^Parameter "imageName": .* is not in repository/ },
  { what: 'a long repository name that does not exist (AWS echoes it)', method: 'tagImage', params: { repoName: REPO_200, imageName: 'rc', tags: 'prod' }, reaches: /RepositoryNotFoundException/ },
  { what: 'a long new tag', method: 'tagImage', params: { repoName: 'team/app', imageName: 'rc', tags: `prod\n${TAG_128}zz` }, reaches: /^Parameter "tags"/ },
  { what: 'a long repository name that does not exist (AWS echoes it)', method: 'checkImageScan', params: { repoName: REPO_200, imageName: '1.0' }, reaches: /RepositoryNotFoundException/ },
  { what: 'a long target repository name', method: 'copyImage', params: { repoName: 'team/app', imageName: '1.0', targetRepoName: long('Prod/', 150, 'x') }, reaches: /^Parameter "targetRepoName"/ },
  { what: 'a long target tag', method: 'copyImage', params: { repoName: 'team/app', imageName: '1.0', targetRepoName: 'team/copy', targetTags: `prod\n${TAG_128}zz` }, reaches: /^Parameter "targetTags"/ },
  { what: 'a long source repository name that does not exist (the registry echoes it)', method: 'copyImage', params: { repoName: REPO_200, imageName: '1.0', targetRepoName: 'team/copy' }, reaches: /REPO|repository|not/i },
  { what: 'a long tag that is not in the repository', method: 'checkImageScan', params: { repoName: 'team/app', imageName: TAG_128 }, reaches: /^Parameter "imageName"/ },
  { what: 'a long digest that is no sha256 digest', method: 'checkImageScan', params: { repoName: 'team/app', imageName: `sha256:${'ab'.repeat(60)}` }, reaches: /^Parameter "imageName"/ },
  { what: 'a long source tag that is not in the source repository', method: 'copyImage', params: { repoName: 'team/app', imageName: TAG_128, targetRepoName: 'team/copy' }, reaches: /^Parameter "imageName"/ },
  { what: 'a long digest with "@" that is no sha256 digest', method: 'tagImage', params: { repoName: 'team/app', imageName: `@sha256:${'cd'.repeat(60)}`, tags: 'prod' }, reaches: /^Parameter "imageName"/ },
  { what: 'a long finding name to ignore that is no name', method: 'checkImageScan', params: { repoName: 'team/app', imageName: '1.0', ignoreFindings: `CVE-2024-1 until ${long('2', 150, '')}` }, reaches: /^Parameter "ignoreFindings"/ },
];

/** The long text values a case gives, list items and array items included. */
function givenTexts(params: Record<string, unknown>): string[] {
  return Object.values(params)
    .flatMap((value) => (Array.isArray(value) ? (value as unknown[]) : [value]))
    .flatMap((value) => (typeof value === 'string' ? [value, ...value.split(/[\n,]/)] : []))
    .filter((text) => text.length > ECHO_LIMIT);
}

/** The values of which the message holds more than ECHO_LIMIT characters in a row. */
function echoedPastTheLimit(message: string, values: string[]): string[] {
  return values.filter((value) => {
    for (let at = 0; at + ECHO_LIMIT + 1 <= value.length; at++) {
      if (message.includes(value.slice(at, at + ECHO_LIMIT + 1))) return true;
    }
    return false;
  });
}

describeWithDocker('no error echoes more than 80 characters of a value', (e2e) => {
  let plugin: LoadedPlugin;
  let ecr: LocalEcr;
  let docker: FakeDocker;
  let agentDir: string;
  let restoreEnv: () => void;

  beforeAll(async () => {
    restoreEnv = isolateAwsEnvironment();
    ecr = await startLocalEcr({ accounts: 1, startRegistry: (options) => e2e().startRegistry(options) });
    ecr.endpoint.createRepositories([REPO_246, 'team/app']);
    Object.assign(process.env, ecr.env);
    docker = await installFakeDocker();
    agentDir = await fs.mkdtemp(path.join(os.tmpdir(), 'long-values-agent-'));
    process.env.PATH = `${docker.binDir}${path.delimiter}${process.env.PATH ?? ''}`;
    process.env.DOCKER_CONFIG = agentDir;
    delete process.env.DOCKER_HOST; // the stand-in answers, not an engine
    plugin = loadPlugin();
  });

  afterAll(async () => {
    await docker?.remove();
    await ecr?.stop();
    if (agentDir) await fs.rm(agentDir, { recursive: true, force: true });
    restoreEnv();
  });

  it('drives long values through every method of config.json', () => {
    expect(new Set(CASES.map((c) => c.method))).toEqual(new Set(readManifest().methods.map((m) => m.name)));
  });

  it.each(CASES.map((c) => [`${c.method}: ${c.what}`, c] as const))('%s', async (_title, testCase) => {
    process.env.DEVKIT_DOCKER_SCENARIO = testCase.docker ?? 'ok';
    const host = ecr.registries[0].host;
    const params = Object.fromEntries(
      Object.entries({ ...KEYS, ...testCase.params }).map(([name, value]) => [name, typeof value === 'string' ? value.replace(/^HOST\//, `${host}/`) : value]),
    );
    const { error } = await captureOutput(() => plugin.run(testCase.method, params, {}));
    const { message } = error as Error;
    expect(message).toMatch(testCase.reaches);
    const values = givenTexts(params);
    expect(values.length).toBeGreaterThan(0);
    expect(echoedPastTheLimit(message, values)).toEqual([]);
    expect(message).not.toContain('\n');
  });
});
