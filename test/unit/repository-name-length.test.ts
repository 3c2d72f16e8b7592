/**
 * docker takes "<registry host>/<repository>" of at most 255 characters; ECR takes repository names
 * of up to 256. Push and pull refuse a repoName that cannot fit with the registry's host in front,
 * naming repoName: before any call when the host is known from the region (AWS's own endpoint:
 * `<account>.dkr.ecr.<region>.amazonaws.com`, `.amazonaws.com.cn` in China), and once the token
 * names the host otherwise (another endpoint), still before CreateRepository and docker.
 */
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import * as plugin from '../../src/app';
import { isolateAwsEnvironment } from '../../devkit/aws-env';
import { captureOutput } from '../support/capture-output';

const ecrMock = mockClient(ECRClient);
const KEYS = { accessKeyId: 'AKIAEXAMPLEKEY000001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
/** A valid ECR repository name of `length` characters. */
const repository = (length: number): string => `team/${'app-'.repeat(Math.ceil(length / 4)).slice(0, length - 6)}x1`.slice(0, length);

let restoreEnv: () => void;
beforeEach(() => {
  ecrMock.reset();
  ecrMock.on(GetAuthorizationTokenCommand).rejects(Object.assign(new Error('stop here'), { name: 'StopHere' }));
  restoreEnv = isolateAwsEnvironment();
});
afterEach(() => restoreEnv());

async function push(params: Record<string, unknown>): Promise<string> {
  const { error } = await captureOutput(() =>
    plugin.pushImgaeToRepo({ method: { name: 'pushImgaeToRepo' }, params: { ...KEYS, imageName: 'app:1.0', createRepository: 'true', ...params } }, {}),
  );
  return (error as Error).message;
}

describe('a repoName too long for docker with the registry host', () => {
  it('is refused before any call when the region tells the host (eu-west-2: 44 characters, so 210 at most)', async () => {
    expect(repository(211)).toHaveLength(211);
    const message = await push({ region: 'eu-west-2', repoName: repository(211) });
    expect(message).toMatch(
      /^Parameter "repoName": "team\/app-app-.{67}… \(211 characters\)" is too long for docker with the registry host <account-id>\.dkr\.ecr\.eu-west-2\.amazonaws\.com: "<host>\/<repository>" would be 256 characters and docker takes at most 255, so at most 210 here; choose a shorter repository name$/,
    );
    expect(ecrMock.calls()).toHaveLength(0);
    // One shorter fits: GetAuthorizationToken is called (and stops the test there).
    expect(await push({ region: 'eu-west-2', repoName: repository(210) })).toMatch(/GetAuthorizationToken failed: StopHere/);
    expect(ecrMock.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(1);
  });

  it('counts the China domain, and the registry id when given', async () => {
    const name = repository(207); // 207 + "/" + 48 = 256 in cn-north-1; fits in eu-west-2
    expect(await push({ region: 'cn-north-1', repoName: name, registryId: '210987654321' })).toMatch(
      /^Parameter "repoName": .* the registry host 210987654321\.dkr\.ecr\.cn-north-1\.amazonaws\.com\.cn: .* would be 256 characters/,
    );
    expect(ecrMock.calls()).toHaveLength(0);
    expect(await push({ region: 'eu-west-2', repoName: name })).toMatch(/StopHere/);
  });

  it('is refused for a pull too', async () => {
    const { error } = await captureOutput(() =>
      plugin.pullImage({ method: { name: 'pullImage' }, params: { ...KEYS, region: 'us-east-1', repoName: repository(220), imageName: '1.0' } }, {}),
    );
    expect((error as Error).message).toMatch(/^Parameter "repoName": .* too long for docker/);
    expect(ecrMock.calls()).toHaveLength(0);
  });

  it('with another endpoint, is refused once the token names the host, before CreateRepository', async () => {
    process.env.AWS_ENDPOINT_URL_ECR = 'http://127.0.0.1:4566';
    const host = '127.0.0.1:5000';
    ecrMock.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [{ authorizationToken: Buffer.from('AWS:pw').toString('base64'), proxyEndpoint: `http://${host}` }],
    });
    // 241 + "/" + 14 = 256; AWS's own host (44) would have refused it before any call.
    const message = await push({ region: 'eu-west-2', repoName: repository(241) });
    expect(message).toMatch(/^Parameter "repoName": .* with the registry host 127\.0\.0\.1:5000: .* would be 256 characters .* so at most 240 here/);
    expect(ecrMock.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(1);
    expect(ecrMock.commandCalls(CreateRepositoryCommand)).toHaveLength(0);
  });
});
