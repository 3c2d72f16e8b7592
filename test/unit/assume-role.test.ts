/**
 * The role's credentials are secrets from the moment STS hands them out, and a refusal is worded
 * for the user; the SDK's provider itself is replaced here (the real one runs in test/e2e/roles.test.ts).
 */
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { roleCredentials } from '../../src/aws/assume-role';
import { createTransport } from '../../src/aws/aws-http';
import { Redactor } from '../../src/kaholo/redactor';

jest.mock('@aws-sdk/credential-providers', () => ({ fromTemporaryCredentials: jest.fn() }));
const mocked = jest.mocked(fromTemporaryCredentials);

const ROLE = { roleArn: 'arn:aws:iam::123456789012:role/ecr-push', sessionName: 'kaholo-ecr-getEcrLogin', durationSeconds: 900 };

describe('roleCredentials', () => {
  it('asks STS for the role with the base keys, and hides the role\'s secret key and token at once', async () => {
    const issued = { accessKeyId: 'ASIATEMPORARY0000001', secretAccessKey: 'role/secret+key', sessionToken: 'FwoGZXIvYXdzEroleToken' };
    mocked.mockReturnValue(() => Promise.resolve(issued));
    const redactor = new Redactor();
    const base = { accessKeyId: 'AKIABASE000000000001', secretAccessKey: 'base-secret' };
    const provider = roleCredentials({ ...ROLE, externalId: 'partner-id' }, base, await createTransport(redactor, {}), redactor);

    await expect(provider()).resolves.toEqual(issued);
    expect(mocked).toHaveBeenCalledWith(
      expect.objectContaining({
        params: { RoleArn: ROLE.roleArn, RoleSessionName: ROLE.sessionName, DurationSeconds: 900, ExternalId: 'partner-id' },
        masterCredentials: base,
      }),
    );
    expect(redactor.redact(`leaked ${issued.secretAccessKey} and ${issued.sessionToken}`)).toBe('leaked [REDACTED] and [REDACTED]');
  });

  it('a refusal names roleArn, says whether an external id was sent, and keeps STS\'s words', async () => {
    const refusal = Object.assign(new Error('User: x is not authorized to perform: sts:AssumeRole'), {
      name: 'AccessDenied',
      $metadata: { requestId: 'c6104cbe-af31-11e0-8154-cbc7ccf896c7' },
    });
    mocked.mockReturnValue(() => Promise.reject(refusal));
    const redactor = new Redactor();
    const provider = roleCredentials(ROLE, undefined, await createTransport(redactor, {}), redactor);
    await expect(provider()).rejects.toThrow(
      'Parameter "roleArn": could not assume arn:aws:iam::123456789012:role/ecr-push (no external id was sent): ' +
        'STS AssumeRole failed: AccessDenied: User: x is not authorized to perform: sts:AssumeRole (request id: c6104cbe-af31-11e0-8154-cbc7ccf896c7)',
    );
    expect(mocked).toHaveBeenCalledWith(expect.not.objectContaining({ masterCredentials: expect.anything() as unknown }));
  });
});
