import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { openEcrRegistry } from '../../src/aws/ecr-registry';
import { Redactor } from '../../src/kaholo/redactor';
import { decodeAuthorizationToken, registryHost } from '../../src/registry/authorization';

const KEYS = { accessKeyId: 'AKIAEXAMPLEEXAMPLE00', secretAccessKey: 'x' };
const openRegistry = () => openEcrRegistry({ region: 'us-east-1', credentials: KEYS }, undefined, new Redactor());

const ecrMock = mockClient(ECRClient);
beforeEach(() => ecrMock.reset());

describe('authorization tokens', () => {
  it('splits user and password at the first colon only', () => {
    const token = Buffer.from('AWS:pa:ss:word==').toString('base64');
    expect(decodeAuthorizationToken(token)).toEqual({ user: 'AWS', password: 'pa:ss:word==' });
  });

  it('refuses a token that is not user:password', () => {
    expect(() => decodeAuthorizationToken(Buffer.from('no-colon').toString('base64'))).toThrow('not base64 of "user:password"');
  });

  it('takes the registry host from the proxy endpoint', () => {
    expect(registryHost('https://123456789012.dkr.ecr.eu-west-2.amazonaws.com')).toBe('123456789012.dkr.ecr.eu-west-2.amazonaws.com');
    expect(registryHost('http://127.0.0.1:5000/')).toBe('127.0.0.1:5000');
  });

  it('decodes one login per registry, in order', async () => {
    ecrMock.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: ['111111111111', '222222222222'].map((id) => ({
        authorizationToken: Buffer.from(`AWS:pw-${id}`).toString('base64'),
        proxyEndpoint: `https://${id}.dkr.ecr.us-east-1.amazonaws.com`,
      })),
    });
    const registry = await openRegistry();
    const logins = (await registry.authorize(['111111111111', '222222222222'])).map((a) => a.login);
    registry.close();
    expect(logins).toEqual([
      { host: '111111111111.dkr.ecr.us-east-1.amazonaws.com', user: 'AWS', password: 'pw-111111111111' },
      { host: '222222222222.dkr.ecr.us-east-1.amazonaws.com', user: 'AWS', password: 'pw-222222222222' },
    ]);
  });

  it('fails clearly when ECR returns no authorization data', async () => {
    ecrMock.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [] });
    const registry = await openRegistry();
    await expect(registry.authorize([])).rejects.toThrow('returned no authorization data');
    registry.close();
  });
});
