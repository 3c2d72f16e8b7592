import { readConnection } from '../../src/params/connection';
import { ParamError } from '../../src/errors';
import { ParamReader } from '../../src/kaholo/param-reader';

const KEYS = { accessKeyId: 'AKIAEXAMPLEKEY000001', secretAccessKey: 'secret' };
const ROLE = 'arn:aws:iam::123456789012:role/ecr-push';
const read = (params: Record<string, unknown>, settings: Record<string, unknown> = {}, method = 'pullImage') =>
  readConnection(new ParamReader({ ...KEYS, ...params }, settings), method);

describe('readConnection: roles', () => {
  it('no roleArn anywhere: no role', () => {
    expect(read({ roleArn: '' }).role).toBeUndefined();
  });

  it('defaults: a session name from the method, one hour', () => {
    expect(read({ roleArn: ROLE }, {}, 'describeRepositories').role).toEqual({
      roleArn: ROLE,
      sessionName: 'kaholo-ecr-describeRepositories',
      durationSeconds: 3600,
    });
  });

  it('roleArn and roleExternalId fall back to the plugin settings; the action wins', () => {
    const settings = { roleArn: 'arn:aws-cn:iam::210987654321:role/path/to/other', roleExternalId: 'from-settings' };
    expect(read({}, settings).role).toMatchObject({ roleArn: settings.roleArn, externalId: 'from-settings' });
    expect(read({ roleArn: ROLE, roleExternalId: 'own-id' }, settings).role).toMatchObject({ roleArn: ROLE, externalId: 'own-id' });
  });

  it('takes the session name and duration given', () => {
    expect(read({ roleArn: ROLE, roleSessionName: 'ci=1,run@x.y-z', roleDurationSeconds: '43200' }).role).toMatchObject({
      sessionName: 'ci=1,run@x.y-z',
      durationSeconds: 43200,
    });
    // A number set from the pipeline's code reads as the form's text would.
    expect(read({ roleArn: ROLE, roleDurationSeconds: 7200 }).role).toMatchObject({ durationSeconds: 7200 });
    expect(() => read({ roleDurationSeconds: 7200 })).toThrow('Parameter "roleArn": is required when "roleDurationSeconds" is set');
  });

  it.each([
    ['roleArn', { roleArn: 'arn:aws:iam::12345678901:role/x' }],
    ['roleArn', { roleArn: 'arn:aws-eu:iam::123456789012:role/x' }],
    ['roleArn', { roleArn: 'arn:aws:iam::123456789012:user/x' }],
    ['roleArn', { roleArn: 'arn:aws:iam::123456789012:role/' }],
    ['roleArn', { roleSessionName: 'no-role-to-name' }],
    ['roleSessionName', { roleArn: ROLE, roleSessionName: 'x' }],
    ['roleSessionName', { roleArn: ROLE, roleSessionName: 's'.repeat(65) }],
    ['roleSessionName', { roleArn: ROLE, roleSessionName: 'with space' }],
    ['roleDurationSeconds', { roleArn: ROLE, roleDurationSeconds: '899' }],
    ['roleDurationSeconds', { roleArn: ROLE, roleDurationSeconds: '43201' }],
    ['roleDurationSeconds', { roleArn: ROLE, roleDurationSeconds: '1h' }],
    ['roleDurationSeconds', { roleArn: ROLE, roleDurationSeconds: 3600.5 }],
    ['roleDurationSeconds', { roleArn: ROLE, roleDurationSeconds: true }],
    ['roleExternalId', { roleArn: ROLE, roleExternalId: 'x' }],
  ])('refuses, naming %s: %p', (param, params) => {
    expect(() => read(params)).toThrow(ParamError);
    expect(() => read(params)).toThrow(new RegExp(`^Parameter "${param}": `));
  });

  it('never echoes an external id it refuses', () => {
    expect(() => read({ roleArn: ROLE, roleExternalId: 'bad id with spaces' })).toThrow(/^Parameter "roleExternalId": expected 2 to 1224/);
    try {
      read({ roleArn: ROLE, roleExternalId: 'bad id with spaces' });
    } catch (error) {
      expect((error as Error).message).not.toContain('bad id');
    }
  });
});
