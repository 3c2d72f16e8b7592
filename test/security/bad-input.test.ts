/**
 * Bad input: malformed values for every param, through the compiled plugin as
 * the agent calls it. Each must fail with a clear error whose message starts with
 * `Parameter "<name>"`, never with a TypeError, an "Unexpected error" or an unhandled rejection.
 *
 * Needs no Docker: every value here is refused before docker would run. The few that can only be
 * judged once the registry host is known (a push of a digest, a reference into another repository)
 * get their host from the local ECR endpoint, which needs no registry behind it.
 */
import path from 'node:path';
import { captureOutput } from '../support/capture-output';
import { isolateAwsEnvironment } from '../../devkit/aws-env';
import { loadPlugin, readManifest, REPO_ROOT, type LoadedPlugin } from '../../devkit/agent';
import { LOCAL_KEYS, LOCAL_REGION, startLocalEcr, type LocalEcr } from '../../devkit/local-ecr';

type Method = 'describeRepositories' | 'getEcrLogin' | 'pushImgaeToRepo' | 'pullImage' | 'tagImage' | 'checkImageScan' | 'copyImage';

interface BadInput {
  what: string;
  method: Method;
  /** Overrides of the method's valid params; `undefined` removes the param. */
  params: Record<string, unknown>;
  settings?: Record<string, unknown>;
  /** The param the error must name. */
  param: string;
}

const KEYS = { ...LOCAL_KEYS, region: LOCAL_REGION };
const VALID: Record<Method, Record<string, unknown>> = {
  describeRepositories: { ...KEYS },
  getEcrLogin: { ...KEYS },
  pushImgaeToRepo: { ...KEYS, repoName: 'team/app', imageName: 'app:1.0' },
  pullImage: { ...KEYS, repoName: 'team/app', imageName: '1.0' },
  tagImage: { ...KEYS, repoName: 'team/app', imageName: 'rc', tags: 'prod' },
  checkImageScan: { ...KEYS, repoName: 'team/app', imageName: '1.0', failOnSeverity: 'HIGH', ignoreFindings: 'CVE-2024-1', startScan: 'false', scanTimeoutSeconds: '60' },
  copyImage: { ...KEYS, repoName: 'team/app', imageName: '1.0', targetRepoName: 'prod/app' },
};
/** What the local endpoint's proxyEndpoint (with no registry behind it) turns into. */
const LOCAL_HOST = '127.0.0.1:9';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const ROLE = 'arn:aws:iam::123456789012:role/ecr-push';
const MEGABYTE = 'x'.repeat(1024 * 1024);

const CASES: BadInput[] = [
  // region, keys and session token: shared by every method
  { what: 'upper-case region', method: 'describeRepositories', params: { region: 'EU-WEST-2' }, param: 'region' },
  { what: 'region without its number', method: 'getEcrLogin', params: { region: 'us-east' }, param: 'region' },
  { what: 'region without dashes', method: 'pushImgaeToRepo', params: { region: 'useast1' }, param: 'region' },
  { what: 'region with shell syntax', method: 'pullImage', params: { region: 'us-east-1; touch /tmp/x' }, param: 'region' },
  { what: 'region as a number', method: 'describeRepositories', params: { region: 42 }, param: 'region' },
  { what: 'region as a boolean', method: 'getEcrLogin', params: { region: true }, param: 'region' },
  { what: 'region as an array', method: 'pushImgaeToRepo', params: { region: ['us-east-1'] }, param: 'region' },
  { what: 'region as an object without id', method: 'pullImage', params: { region: { value: 'us-east-1 (US East)' } }, param: 'region' },
  { what: 'region autocomplete item with a numeric id', method: 'describeRepositories', params: { region: { id: 7, value: 'x' } }, param: 'region' },
  { what: 'no region anywhere', method: 'describeRepositories', params: { region: '' }, param: 'region' },
  { what: 'invalid region in the plugin settings', method: 'getEcrLogin', params: { region: '  ' }, settings: { region: 'Europe' }, param: 'region' },
  { what: 'access key without secret', method: 'pushImgaeToRepo', params: { secretAccessKey: '' }, param: 'secretAccessKey' },
  { what: 'secret without access key', method: 'pullImage', params: { accessKeyId: undefined }, param: 'accessKeyId' },
  { what: 'session token without keys', method: 'describeRepositories', params: { accessKeyId: undefined, secretAccessKey: undefined, sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE' }, param: 'sessionToken' },
  { what: 'lower-case access key id', method: 'getEcrLogin', params: { accessKeyId: 'akia-lower-case-key' }, param: 'accessKeyId' },
  { what: 'access key id as a number', method: 'pushImgaeToRepo', params: { accessKeyId: 1234567890123456 }, param: 'accessKeyId' },
  { what: 'secret key as an object', method: 'pullImage', params: { secretAccessKey: {} }, param: 'secretAccessKey' },
  { what: 'secret key of whitespace', method: 'describeRepositories', params: { secretAccessKey: ' \t ' }, param: 'secretAccessKey' },
  { what: 'access key id as a number in the settings', method: 'getEcrLogin', params: { accessKeyId: '', secretAccessKey: '' }, settings: { accessKeyId: 99, secretAccessKey: 'x' }, param: 'accessKeyId' },
  { what: 'session token with a header injection', method: 'describeRepositories', params: { sessionToken: 'abc\r\nX-Injected: 1' }, param: 'sessionToken' },
  { what: 'session token with a space', method: 'pullImage', params: { sessionToken: 'IQoJ b3Jp' }, param: 'sessionToken' },
  { what: 'session token with a control character', method: 'getEcrLogin', params: { sessionToken: 'IQoJ\u0000b3Jp' }, param: 'sessionToken' },
  { what: 'session token as an array', method: 'pushImgaeToRepo', params: { sessionToken: ['a', 'b'] }, param: 'sessionToken' },

  // roles: shared by every method
  { what: 'role ARN of a user', method: 'describeRepositories', params: { roleArn: 'arn:aws:iam::123456789012:user/ci' }, param: 'roleArn' },
  { what: 'role ARN with an 11-digit account', method: 'getEcrLogin', params: { roleArn: 'arn:aws:iam::12345678901:role/ecr-push' }, param: 'roleArn' },
  { what: 'role ARN in an unknown partition', method: 'pushImgaeToRepo', params: { roleArn: 'arn:aws-eu:iam::123456789012:role/ecr-push' }, param: 'roleArn' },
  { what: 'role ARN without a role name', method: 'pullImage', params: { roleArn: 'arn:aws:iam::123456789012:role/' }, param: 'roleArn' },
  { what: 'role ARN with a line break', method: 'describeRepositories', params: { roleArn: 'arn:aws:iam::123456789012:role/x\nInjected: 1' }, param: 'roleArn' },
  { what: 'role ARN as an object', method: 'getEcrLogin', params: { roleArn: { arn: 'x' } }, param: 'roleArn' },
  { what: 'invalid role ARN in the plugin settings', method: 'pullImage', params: {}, settings: { roleArn: 'ecr-push' }, param: 'roleArn' },
  { what: 'session name without a role', method: 'pushImgaeToRepo', params: { roleSessionName: 'ci-run' }, param: 'roleArn' },
  { what: 'external id without a role', method: 'pullImage', params: { roleExternalId: 'partner-id' }, param: 'roleArn' },
  { what: 'session name of one character', method: 'describeRepositories', params: { roleArn: ROLE, roleSessionName: 'x' }, param: 'roleSessionName' },
  { what: 'session name of 65 characters', method: 'getEcrLogin', params: { roleArn: ROLE, roleSessionName: 's'.repeat(65) }, param: 'roleSessionName' },
  { what: 'session name with a space', method: 'pushImgaeToRepo', params: { roleArn: ROLE, roleSessionName: 'ci run' }, param: 'roleSessionName' },
  { what: 'session name as a number', method: 'pullImage', params: { roleArn: ROLE, roleSessionName: 12 }, param: 'roleSessionName' },
  { what: 'duration below 900 seconds', method: 'describeRepositories', params: { roleArn: ROLE, roleDurationSeconds: '899' }, param: 'roleDurationSeconds' },
  { what: 'duration above 43200 seconds', method: 'getEcrLogin', params: { roleArn: ROLE, roleDurationSeconds: '43201' }, param: 'roleDurationSeconds' },
  { what: 'duration with a unit', method: 'pushImgaeToRepo', params: { roleArn: ROLE, roleDurationSeconds: '1h' }, param: 'roleDurationSeconds' },
  { what: 'duration as an array', method: 'pullImage', params: { roleArn: ROLE, roleDurationSeconds: ['3600'] }, param: 'roleDurationSeconds' },
  { what: 'external id of one character', method: 'describeRepositories', params: { roleArn: ROLE, roleExternalId: 'x' }, param: 'roleExternalId' },
  { what: 'external id with a space', method: 'getEcrLogin', params: { roleArn: ROLE, roleExternalId: 'partner id' }, param: 'roleExternalId' },
  { what: 'external id as an object', method: 'pushImgaeToRepo', params: { roleArn: ROLE, roleExternalId: {} }, param: 'roleExternalId' },

  // describeRepositories
  { what: '11-digit registry id', method: 'describeRepositories', params: { registryId: '12345678901' }, param: 'registryId' },
  { what: '13-digit registry id', method: 'describeRepositories', params: { registryId: '1234567890123' }, param: 'registryId' },
  { what: 'registry id as a number', method: 'describeRepositories', params: { registryId: 123456789012 }, param: 'registryId' },
  { what: 'registry id of letters', method: 'describeRepositories', params: { registryId: 'abcdefghijkl' }, param: 'registryId' },
  { what: 'registry id with spaces inside', method: 'describeRepositories', params: { registryId: '1234 5678 9012' }, param: 'registryId' },
  { what: 'registry id as an object', method: 'describeRepositories', params: { registryId: {} }, param: 'registryId' },
  { what: 'repository names as a nested array', method: 'describeRepositories', params: { repositoryNames: [['team/app']] }, param: 'repositoryNames' },
  { what: 'repository names as numbers', method: 'describeRepositories', params: { repositoryNames: [1, 2] }, param: 'repositoryNames' },
  { what: 'upper-case repository name', method: 'describeRepositories', params: { repositoryNames: 'Team/App' }, param: 'repositoryNames' },
  { what: 'a bad name on the second line', method: 'describeRepositories', params: { repositoryNames: 'team/app\nBAD NAME' }, param: 'repositoryNames' },
  { what: 'repository names as an object', method: 'describeRepositories', params: { repositoryNames: { names: ['a'] } }, param: 'repositoryNames' },
  { what: 'repository names as a boolean', method: 'describeRepositories', params: { repositoryNames: true }, param: 'repositoryNames' },

  // getEcrLogin
  { what: '11-digit registry id in registryIds', method: 'getEcrLogin', params: { registryIds: '12345678901' }, param: 'registryIds' },
  { what: 'a 13-digit id after a good one', method: 'getEcrLogin', params: { registryIds: '123456789012,1234567890123' }, param: 'registryIds' },
  { what: 'a number inside the registryIds array', method: 'getEcrLogin', params: { registryIds: ['123456789012', 123456789012] }, param: 'registryIds' },
  { what: 'registryIds as a nested array', method: 'getEcrLogin', params: { registryIds: [['123456789012']] }, param: 'registryIds' },
  { what: 'registryIds as an item with a bad id', method: 'getEcrLogin', params: { registryIds: { id: 'not-an-id' } }, param: 'registryIds' },
  { what: 'registryIds as a number', method: 'getEcrLogin', params: { registryIds: 5 }, param: 'registryIds' },

  // pushImgaeToRepo
  { what: 'repoName missing', method: 'pushImgaeToRepo', params: { repoName: undefined }, param: 'repoName' },
  { what: 'repoName empty', method: 'pushImgaeToRepo', params: { repoName: '' }, param: 'repoName' },
  { what: 'repoName whitespace', method: 'pushImgaeToRepo', params: { repoName: '   ' }, param: 'repoName' },
  { what: 'repoName null', method: 'pushImgaeToRepo', params: { repoName: null }, param: 'repoName' },
  { what: 'upper-case repoName', method: 'pushImgaeToRepo', params: { repoName: 'Team/App' }, param: 'repoName' },
  { what: 'one-character repoName', method: 'pushImgaeToRepo', params: { repoName: 'a' }, param: 'repoName' },
  { what: 'repoName with an empty path part', method: 'pushImgaeToRepo', params: { repoName: 'team//app' }, param: 'repoName' },
  { what: 'repoName with a leading slash', method: 'pushImgaeToRepo', params: { repoName: '/team/app' }, param: 'repoName' },
  { what: 'repoName of 257 characters', method: 'pushImgaeToRepo', params: { repoName: 'x'.repeat(257) }, param: 'repoName' },
  { what: 'repoName as a number', method: 'pushImgaeToRepo', params: { repoName: 42 }, param: 'repoName' },
  // 245 + "/" + the local registry host (10) is 256, over docker's 255: refused before CreateRepository.
  { what: 'repoName too long for docker with the registry host', method: 'pushImgaeToRepo', params: { repoName: 'r'.repeat(245), createRepository: true }, param: 'repoName' },
  { what: 'repoName as an array', method: 'pushImgaeToRepo', params: { repoName: ['team/app'] }, param: 'repoName' },
  { what: 'imageName missing', method: 'pushImgaeToRepo', params: { imageName: undefined }, param: 'imageName' },
  { what: 'imageName of whitespace and newlines', method: 'pushImgaeToRepo', params: { imageName: '\t \n' }, param: 'imageName' },
  { what: 'upper-case repository in the reference', method: 'pushImgaeToRepo', params: { imageName: 'App:1.0' }, param: 'imageName' },
  { what: 'upper-case path in the reference', method: 'pushImgaeToRepo', params: { imageName: 'Team/App:1.0' }, param: 'imageName' },
  { what: 'tag of 129 characters', method: 'pushImgaeToRepo', params: { imageName: `app:${'t'.repeat(129)}` }, param: 'imageName' },
  { what: 'digest too short', method: 'pushImgaeToRepo', params: { imageName: 'app:1.0@sha256:abc123' }, param: 'imageName' },
  { what: 'digest in upper-case hex', method: 'pushImgaeToRepo', params: { imageName: `app@sha256:${'A'.repeat(64)}` }, param: 'imageName' },
  { what: 'empty tag', method: 'pushImgaeToRepo', params: { imageName: 'app:' }, param: 'imageName' },
  { what: 'tag without a name', method: 'pushImgaeToRepo', params: { imageName: ':1.0' }, param: 'imageName' },
  { what: 'imageName that docker would read as a flag', method: 'pushImgaeToRepo', params: { imageName: '-v' }, param: 'imageName' },
  { what: 'imageName with a space', method: 'pushImgaeToRepo', params: { imageName: 'app:1.0 latest' }, param: 'imageName' },
  { what: 'imageName as a number', method: 'pushImgaeToRepo', params: { imageName: 3.14 }, param: 'imageName' },
  { what: 'imageName as an object', method: 'pushImgaeToRepo', params: { imageName: {} }, param: 'imageName' },
  { what: 'imageName as a boolean', method: 'pushImgaeToRepo', params: { imageName: false }, param: 'imageName' },
  { what: 'a push of a digest alone', method: 'pushImgaeToRepo', params: { imageName: `app@${DIGEST}` }, param: 'imageName' },
  { what: 'a reference into another repository of the registry', method: 'pushImgaeToRepo', params: { imageName: `${LOCAL_HOST}/other/repo:1.0` }, param: 'imageName' },
  { what: '11-digit registry id for a push', method: 'pushImgaeToRepo', params: { registryId: '12345678901' }, param: 'registryId' },

  { what: 'transferAttempts of 0', method: 'pushImgaeToRepo', params: { transferAttempts: '0' }, param: 'transferAttempts' },
  { what: 'transferAttempts not a whole number', method: 'pushImgaeToRepo', params: { transferAttempts: '2.5' }, param: 'transferAttempts' },
  { what: 'transferTimeLimit of minus one', method: 'pushImgaeToRepo', params: { transferTimeLimit: '-1' }, param: 'transferTimeLimit' },

  // pullImage
  { what: 'transferAttempts of 11', method: 'pullImage', params: { transferAttempts: '11' }, param: 'transferAttempts' },
  { what: 'transferTimeLimit as words', method: 'pullImage', params: { transferTimeLimit: 'an hour' }, param: 'transferTimeLimit' },
  { what: 'bare tag of 129 characters', method: 'pullImage', params: { imageName: 't'.repeat(129) }, param: 'imageName' },
  { what: 'pull by a short digest', method: 'pullImage', params: { imageName: 'app@sha256:1234' }, param: 'imageName' },
  { what: 'tag starting with a dot', method: 'pullImage', params: { imageName: '.hidden' }, param: 'imageName' },
  { what: 'tag starting with a dash', method: 'pullImage', params: { imageName: 'app:-1' }, param: 'imageName' },
  { what: 'imageName null', method: 'pullImage', params: { imageName: null }, param: 'imageName' },
  { what: 'pull from another repository of the registry', method: 'pullImage', params: { imageName: `${LOCAL_HOST}/other/repo@${DIGEST}` }, param: 'imageName' },
  { what: '13-digit registry id for a pull', method: 'pullImage', params: { registryId: '1234567890123' }, param: 'registryId' },
  { what: 'upper-case repoName for a pull', method: 'pullImage', params: { repoName: 'team/App' }, param: 'repoName' },
  { what: 'repoName too long for docker with the registry host, for a pull', method: 'pullImage', params: { repoName: 'r'.repeat(245) }, param: 'repoName' },

  // push: repository creation and additional tags
  { what: 'an additional tag starting with a dash', method: 'pushImgaeToRepo', params: { additionalTags: 'latest\n-rc' }, param: 'additionalTags' },
  { what: 'an additional tag with a space', method: 'pushImgaeToRepo', params: { additionalTags: 'sha 3f9c1e2' }, param: 'additionalTags' },
  { what: 'a number among the additional tags', method: 'pushImgaeToRepo', params: { additionalTags: ['latest', 2] }, param: 'additionalTags' },
  { what: 'createRepository as "yes"', method: 'pushImgaeToRepo', params: { createRepository: 'yes' }, param: 'createRepository' },
  { what: 'createRepository as a number', method: 'pushImgaeToRepo', params: { createRepository: 1 }, param: 'createRepository' },
  { what: 'tag mutability in lower case', method: 'pushImgaeToRepo', params: { createRepository: true, imageTagMutability: 'immutable' }, param: 'imageTagMutability' },
  { what: 'scanOnPush as "on"', method: 'pushImgaeToRepo', params: { createRepository: 'true', scanOnPush: 'on' }, param: 'scanOnPush' },
  { what: 'an encryption type that is not offered', method: 'pushImgaeToRepo', params: { encryptionType: 'KMS_DSSE' }, param: 'encryptionType' },
  { what: 'kmsKey without KMS', method: 'pushImgaeToRepo', params: { createRepository: true, kmsKey: 'alias/app' }, param: 'kmsKey' },
  { what: 'a repository tag without "="', method: 'pushImgaeToRepo', params: { repositoryTags: 'team=payments\nowner' }, param: 'repositoryTags' },
  { what: 'a repository tag with the reserved aws: prefix', method: 'pushImgaeToRepo', params: { repositoryTags: 'aws:team=x' }, param: 'repositoryTags' },
  { what: 'a repository tag key given twice', method: 'pushImgaeToRepo', params: { repositoryTags: 'team=a\nteam=b' }, param: 'repositoryTags' },

  // registryType, shared by every method, and what only one type of registry takes
  { what: 'registryType in capitals', method: 'describeRepositories', params: { registryType: 'PUBLIC' }, param: 'registryType' },
  { what: 'registryType as a boolean', method: 'pullImage', params: { registryType: true }, param: 'registryType' },
  { what: 'a scan check of a public registry, which scans nothing', method: 'checkImageScan', params: { registryType: 'public' }, param: 'registryType' },
  { what: 'registryIds with a public registry', method: 'getEcrLogin', params: { registryType: 'public', registryIds: '123456789012' }, param: 'registryIds' },
  { what: 'IMMUTABLE tags for a public repository', method: 'pushImgaeToRepo', params: { registryType: 'public', createRepository: true, imageTagMutability: 'IMMUTABLE' }, param: 'imageTagMutability' },
  { what: 'KMS encryption for a public repository', method: 'pushImgaeToRepo', params: { registryType: 'public', encryptionType: 'KMS', kmsKey: 'alias/app' }, param: 'encryptionType' },
  { what: 'a public image whose path is not <alias>/<repoName>', method: 'pullImage', params: { registryType: 'public', imageName: 'public.ecr.aws/team/other:1.0' }, param: 'imageName' },
  { what: 'catalog data for a private repository', method: 'pushImgaeToRepo', params: { createRepository: true, catalogDescription: 'The app' }, param: 'catalogDescription' },
  { what: 'catalog about text as an object', method: 'pushImgaeToRepo', params: { registryType: 'public', catalogAboutText: { text: '# App' } }, param: 'catalogAboutText' },
  { what: 'catalog usage text as an array', method: 'pushImgaeToRepo', params: { registryType: 'public', catalogUsageText: ['docker run app'] }, param: 'catalogUsageText' },
  { what: 'an architecture the Gallery does not know', method: 'pushImgaeToRepo', params: { registryType: 'public', catalogArchitectures: 'x86-64\namd64' }, param: 'catalogArchitectures' },
  { what: 'an operating system the Gallery does not know', method: 'pushImgaeToRepo', params: { registryType: 'public', catalogOperatingSystems: 'macOS' }, param: 'catalogOperatingSystems' },

  // tagImage
  { what: 'tags missing', method: 'tagImage', params: { tags: undefined }, param: 'tags' },
  { what: 'tags of only commas and blank lines', method: 'tagImage', params: { tags: ' ,\n, ' }, param: 'tags' },
  { what: 'tags as an empty array', method: 'tagImage', params: { tags: [] }, param: 'tags' },
  { what: 'a new tag of 129 characters', method: 'tagImage', params: { tags: `prod,${'t'.repeat(129)}` }, param: 'tags' },
  { what: 'a new tag with a colon', method: 'tagImage', params: { tags: 'app:prod' }, param: 'tags' },
  { what: 'source image missing', method: 'tagImage', params: { imageName: '' }, param: 'imageName' },
  { what: 'source tag starting with a dot', method: 'tagImage', params: { imageName: '.rc' }, param: 'imageName' },
  { what: 'source digest too short', method: 'tagImage', params: { imageName: 'app@sha256:abc' }, param: 'imageName' },
  { what: 'repoName missing for tagImage', method: 'tagImage', params: { repoName: undefined }, param: 'repoName' },
  { what: 'registry id of letters for tagImage', method: 'tagImage', params: { registryId: 'abcdefghijkl' }, param: 'registryId' },

  // checkImageScan
  { what: 'registry id of 11 digits for checkImageScan', method: 'checkImageScan', params: { registryId: '12345678901' }, param: 'registryId' },
  { what: 'repoName missing for checkImageScan', method: 'checkImageScan', params: { repoName: undefined }, param: 'repoName' },
  { what: 'image missing for checkImageScan', method: 'checkImageScan', params: { imageName: '' }, param: 'imageName' },
  { what: 'image tag starting with a dash', method: 'checkImageScan', params: { imageName: '-rc' }, param: 'imageName' },
  { what: 'image digest too short', method: 'checkImageScan', params: { imageName: 'app@sha256:abc' }, param: 'imageName' },
  { what: 'a severity ECR does not have', method: 'checkImageScan', params: { failOnSeverity: 'SEVERE' }, param: 'failOnSeverity' },
  { what: 'a severity in lower case', method: 'checkImageScan', params: { failOnSeverity: 'high' }, param: 'failOnSeverity' },
  { what: 'a severity as an array', method: 'checkImageScan', params: { failOnSeverity: ['HIGH'] }, param: 'failOnSeverity' },
  { what: 'an ignore entry with a made-up day', method: 'checkImageScan', params: { ignoreFindings: 'CVE-2024-1 until 2026-02-30' }, param: 'ignoreFindings' },
  { what: 'an ignore entry with two names', method: 'checkImageScan', params: { ignoreFindings: 'CVE-2024-1 CVE-2024-2' }, param: 'ignoreFindings' },
  { what: 'an ignore entry with a word for a day', method: 'checkImageScan', params: { ignoreFindings: 'CVE-2024-1 until friday' }, param: 'ignoreFindings' },
  { what: 'ignore entries as numbers', method: 'checkImageScan', params: { ignoreFindings: [2024] }, param: 'ignoreFindings' },
  { what: 'startScan neither true nor false', method: 'checkImageScan', params: { startScan: 'sometimes' }, param: 'startScan' },
  { what: 'a scan timeout over an hour', method: 'checkImageScan', params: { scanTimeoutSeconds: '3601' }, param: 'scanTimeoutSeconds' },
  { what: 'a scan timeout of zero', method: 'checkImageScan', params: { scanTimeoutSeconds: '0' }, param: 'scanTimeoutSeconds' },
  { what: 'a scan timeout with a unit', method: 'checkImageScan', params: { scanTimeoutSeconds: '15m' }, param: 'scanTimeoutSeconds' },
  { what: 'a scan timeout as a number over the maximum', method: 'checkImageScan', params: { scanTimeoutSeconds: 7200 }, param: 'scanTimeoutSeconds' },
  // copyImage
  { what: 'source registry id of 11 digits', method: 'copyImage', params: { registryId: '12345678901' }, param: 'registryId' },
  { what: 'source repoName missing', method: 'copyImage', params: { repoName: undefined }, param: 'repoName' },
  { what: 'source image as a bad reference', method: 'copyImage', params: { imageName: 'app@sha256:abc' }, param: 'imageName' },
  { what: 'target registry id of letters', method: 'copyImage', params: { targetRegistryId: 'abcdefghijkl' }, param: 'targetRegistryId' },
  { what: 'target region in upper case', method: 'copyImage', params: { targetRegion: 'EU-WEST-2' }, param: 'targetRegion' },
  { what: 'target region as an autocomplete item with a bad id', method: 'copyImage', params: { targetRegion: { id: 'europe', value: 'Europe' } }, param: 'targetRegion' },
  { what: 'target repository in upper case', method: 'copyImage', params: { targetRepoName: 'Prod/App' }, param: 'targetRepoName' },
  { what: 'the target is the source itself', method: 'copyImage', params: { targetRepoName: undefined }, param: 'targetRepoName' },
  { what: 'a target tag with a space', method: 'copyImage', params: { targetTags: 'prod 1' }, param: 'targetTags' },
  { what: 'no target tags for a digest', method: 'copyImage', params: { imageName: `team/app@${DIGEST}` }, param: 'targetTags' },
  { what: 'target role ARN of a user', method: 'copyImage', params: { targetRoleArn: 'arn:aws:iam::210987654321:user/ci' }, param: 'targetRoleArn' },
  { what: 'target external id without a target role', method: 'copyImage', params: { targetRoleExternalId: 'partner-id' }, param: 'targetRoleArn' },
  { what: 'target external id of one character', method: 'copyImage', params: { targetRoleArn: 'arn:aws:iam::210987654321:role/ecr-partner', targetRoleExternalId: 'x' }, param: 'targetRoleExternalId' },
  { what: 'createRepository as "yes" for a copy', method: 'copyImage', params: { createRepository: 'yes' }, param: 'createRepository' },
  { what: 'tag mutability in lower case for a copy', method: 'copyImage', params: { imageTagMutability: 'immutable' }, param: 'imageTagMutability' },
  { what: 'scanOnPush as "on" for a copy', method: 'copyImage', params: { scanOnPush: 'on' }, param: 'scanOnPush' },
  { what: 'an encryption type that is not offered for a copy', method: 'copyImage', params: { encryptionType: 'DSSE' }, param: 'encryptionType' },
  { what: 'kmsKey without KMS for a copy', method: 'copyImage', params: { kmsKey: 'alias/app' }, param: 'kmsKey' },
  { what: 'a repository tag without "=" for a copy', method: 'copyImage', params: { repositoryTags: 'team' }, param: 'repositoryTags' },
  { what: 'copyReferrers as "maybe"', method: 'copyImage', params: { copyReferrers: 'maybe' }, param: 'copyReferrers' },
  { what: 'zero transfer attempts for a copy', method: 'copyImage', params: { transferAttempts: '0' }, param: 'transferAttempts' },
  { what: 'a time limit of a day and more for a copy', method: 'copyImage', params: { transferTimeLimit: '1441' }, param: 'transferTimeLimit' },
  { what: 'a target registry type that is not offered', method: 'copyImage', params: { targetRegistryType: 'gallery' }, param: 'targetRegistryType' },
  { what: 'IMMUTABLE tags for a public target', method: 'copyImage', params: { targetRegistryType: 'public', createRepository: true, imageTagMutability: 'IMMUTABLE' }, param: 'imageTagMutability' },
  { what: 'catalog data for a private target', method: 'copyImage', params: { createRepository: true, catalogUsageText: 'docker run app' }, param: 'catalogUsageText' },
  { what: 'a catalog description as an array for a copy', method: 'copyImage', params: { targetRegistryType: 'public', catalogDescription: ['a', 'b'] }, param: 'catalogDescription' },
  { what: 'a catalog architecture the Gallery does not know, for a copy', method: 'copyImage', params: { targetRegistryType: 'public', catalogArchitectures: 'riscv' }, param: 'catalogArchitectures' },
  { what: 'a catalog operating system as a number, for a copy', method: 'copyImage', params: { targetRegistryType: 'public', catalogOperatingSystems: [7] }, param: 'catalogOperatingSystems' },
  { what: 'catalog about text as a number, for a copy', method: 'copyImage', params: { targetRegistryType: 'public', catalogAboutText: 42 }, param: 'catalogAboutText' },
];

function paramsFor(testCase: BadInput): Record<string, unknown> {
  const params: Record<string, unknown> = { ...VALID[testCase.method] };
  for (const [name, value] of Object.entries(testCase.params)) {
    if (value === undefined) delete params[name];
    else params[name] = value;
  }
  return params;
}

let plugin: LoadedPlugin;
let ecr: LocalEcr;
let restoreEnv: () => void;
// An unhandled rejection or uncaught exception fails the test it happens in: jest reports it as the
// test's error (listeners added here would never hear of it: the test's `process` is jest's copy).

beforeAll(async () => {
  restoreEnv = isolateAwsEnvironment();
  ecr = await startLocalEcr({ accounts: 1 });
  process.env.AWS_ENDPOINT_URL_ECR = ecr.env.AWS_ENDPOINT_URL_ECR;
  // An ECR Public call would reach the same endpoint and be counted: none may be made either.
  process.env.AWS_ENDPOINT_URL_ECR_PUBLIC = ecr.env.AWS_ENDPOINT_URL_ECR;
  plugin = loadPlugin();
});

afterAll(async () => {
  await ecr.stop();
  restoreEnv();
});

describe('bad input gets a clear error naming the parameter', () => {
  it('has at least 40 cases, covering every param of every method', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    const covered = new Set(CASES.map((c) => `${c.method}.${c.param}`));
    for (const method of readManifest().methods) {
      for (const param of method.params) {
        // sessionToken and region are shared: covering them in one method covers the code every method uses.
        if (['sessionToken', 'region', 'accessKeyId', 'secretAccessKey', 'roleArn', 'roleExternalId', 'roleSessionName', 'roleDurationSeconds', 'registryType'].includes(param.name)) {
          expect(CASES.some((c) => c.param === param.name)).toBe(true);
        } else {
          expect(covered).toContain(`${method.name}.${param.name}`);
        }
      }
    }
  });

  it.each(CASES.map((c) => [`${c.method}: ${c.what}`, c] as const))('%s', async (_title, testCase) => {
    const before = ecr.endpoint.calls.length;
    const { error, result, output } = await captureOutput(() => plugin.run(testCase.method, paramsFor(testCase), testCase.settings ?? {}));
    await new Promise((resolve) => setImmediate(resolve)); // let a stray rejection surface

    expect(result).toBeUndefined();
    expect(error).toBeInstanceOf(Error);
    const { name, message } = error as Error;
    expect(message).toMatch(new RegExp(`^Parameter "${testCase.param}": \\S`));
    expect(name).not.toBe('TypeError');
    expect(message).not.toMatch(/TypeError|Unexpected error|\[object Object\]|undefined|\n/);
    expect(output).not.toMatch(/\bat .+:\d+:\d+\)?$/m); // no stack trace in the activity log
    // Params that can be judged alone are judged before anything is called; only what needs the
    // registry host (is this reference into another repository? does the name fit?) waits.
    const needsHost = /another repository|registry host/.test(testCase.what);
    expect(ecr.endpoint.calls.length - before).toBe(needsHost ? 1 : 0);
  });

  it.each([
    ['describeRepositories', 'region'],
    ['describeRepositories', 'registryId'],
    ['describeRepositories', 'repositoryNames'],
    ['getEcrLogin', 'registryIds'],
    ['getEcrLogin', 'roleArn'],
    ['pullImage', 'roleSessionName'],
    ['pushImgaeToRepo', 'roleDurationSeconds'],
    ['pushImgaeToRepo', 'repoName'],
    ['pushImgaeToRepo', 'imageName'],
    ['pullImage', 'imageName'],
  ] as const)('%s: a 1 MB %s with control characters is echoed short, escaped, on one line', async (method, param) => {
    // Carriage return and tab rather than a line feed: a line feed separates the items of a list param.
    const value = `bad\u0000value\rwith\tcontrols${MEGABYTE}`;
    const params: Record<string, unknown> = { ...VALID[method], [param]: value };
    if (param.startsWith('role') && param !== 'roleArn') params.roleArn = ROLE;
    const { error } = await captureOutput(() => plugin.run(method, params));
    const { message } = error as Error;
    expect(message).toMatch(new RegExp(`^Parameter "${param}": `));
    expect(message.length).toBeLessThan(500);
    // eslint-disable-next-line no-control-regex -- control characters are what this finds
    expect(message).not.toMatch(/[\u0000-\u001f]/);
    expect(message).toContain('"bad\\u0000value\\rwith\\tcontrolsxxx');
    expect(message).toContain(`(${value.length} characters)`);
  });

  it('survives the agent passing odd action and settings objects', async () => {
    const manifest = readManifest();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exported = require(path.join(REPO_ROOT, manifest.main)) as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const odd: Array<[unknown, unknown, string]> = [
      [{ method: { name: 'pushImgaeToRepo' } }, undefined, 'Parameter "repoName"'],
      [{ method: { name: 'pullImage' }, params: 'repoName=x' }, null, 'Parameter "repoName"'],
      [{ method: { name: 'pullImage' }, params: null }, [], 'Parameter "repoName"'],
      [null, {}, 'Parameter "action"'],
      [undefined, undefined, 'Parameter "action"'],
    ];
    for (const [action, settings, expected] of odd) {
      const { error } = await captureOutput(() => exported.pullImage(action, settings));
      expect((error as Error).message).toContain(expected);
      expect((error as Error).message).not.toMatch(/TypeError|Unexpected error/);
    }
  });

  it("refuses a repoName too long for docker with AWS's own registry host before any call (the host known from the region)", async () => {
    // AWS's endpoint, not the stand-in: the built plugin must know the host without asking. A
    // proxy that is not there catches any call it would make anyway.
    const saved = { endpoint: process.env.AWS_ENDPOINT_URL_ECR, proxy: process.env.HTTPS_PROXY };
    delete process.env.AWS_ENDPOINT_URL_ECR;
    process.env.HTTPS_PROXY = 'http://127.0.0.1:9';
    try {
      // 211 + "/" + "<account>.dkr.ecr.eu-west-2.amazonaws.com" (44) is 256.
      const params = { ...VALID.pushImgaeToRepo, region: 'eu-west-2', repoName: 'r'.repeat(211), createRepository: true };
      const { error } = await captureOutput(() => plugin.run('pushImgaeToRepo', params));
      expect((error as Error).message).toMatch(/^Parameter "repoName": "r{80}… \(211 characters\)" is too long for docker with the registry host <account-id>\.dkr\.ecr\.eu-west-2\.amazonaws\.com: .* at most 210 here/);
    } finally {
      process.env.AWS_ENDPOINT_URL_ECR = saved.endpoint;
      if (saved.proxy === undefined) delete process.env.HTTPS_PROXY;
      else process.env.HTTPS_PROXY = saved.proxy;
    }
  });

  it('listRegions never throws, whatever the query', async () => {
    const all = await plugin.autocomplete('listRegions', '');
    expect(all.length).toBeGreaterThan(20);
    // A query that is not text filters nothing; text that names no region matches none.
    for (const query of [undefined, null, 42, {}, []]) expect(await plugin.autocomplete('listRegions', query as string)).toEqual(all);
    for (const query of ['$(touch /tmp/x)', 'x'.repeat(10_000), '\u0000']) expect(await plugin.autocomplete('listRegions', query)).toEqual([]);
  });
});
