/**
 * The command line of `npm run action` (devkit/action-args.ts), checked against the real
 * config.json: where values come from, how vault values are kept out of argv, and the errors.
 */
import { describeValue, helpText, parseActionArgs, UsageError, type Invocation, type Parsed } from '../../devkit/action-args';
import { readManifest } from '../../devkit/agent';

const manifest = readManifest();

function parse(argv: string[], env: NodeJS.ProcessEnv = {}, files: Record<string, string> = {}, mode = 0o600): Parsed {
  return parseActionArgs(argv, manifest, {
    env,
    readFile: (file) => {
      if (!(file in files)) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
      return files[file];
    },
    fileMode: () => mode,
  });
}

function invocation(argv: string[], env: NodeJS.ProcessEnv = {}, files: Record<string, string> = {}, mode = 0o600): Invocation {
  const parsed = parse(argv, env, files, mode);
  if (!('invocation' in parsed)) throw new Error('expected an invocation, got help');
  return parsed.invocation;
}

function usageError(argv: string[], env: NodeJS.ProcessEnv = {}, files: Record<string, string> = {}): string {
  try {
    parse(argv, env, files);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
}

describe('npm run action: arguments', () => {
  test('a method with params and settings, as strings', () => {
    const call = invocation(['pullImage', '--param', 'repoName=team/app', '-p', 'imageName=1.2.0', '--setting', 'region=eu-west-2']);
    expect(call.target).toMatchObject({ kind: 'method', name: 'pullImage' });
    expect(call.params).toEqual({ repoName: 'team/app', imageName: '1.2.0' });
    expect(call.settings).toEqual({ region: 'eu-west-2' });
    expect(call.paramSources).toEqual({ repoName: 'command line', imageName: 'command line' });
  });

  test('--name=value forms, values holding "=", and empty values', () => {
    const call = invocation(['describeRepositories', '--param=registryId=', '--param', 'repositoryNames=a=b']);
    expect(call.params).toEqual({ registryId: '', repositoryNames: 'a=b' });
  });

  test('a repeated param becomes an array, in order', () => {
    const call = invocation(['describeRepositories', '-p', 'repositoryNames=team/app', '-p', 'repositoryNames=team/worker', '-p', 'repositoryNames=x']);
    expect(call.params.repositoryNames).toEqual(['team/app', 'team/worker', 'x']);
  });

  test('a vault param or setting on the command line is refused, and its value is not echoed', () => {
    const param = usageError(['describeRepositories', '--param', 'secretAccessKey=s3cr3t/VALUE']);
    expect(param).toContain('"secretAccessKey" is a vault param');
    expect(param).toContain('KAHOLO_PARAM_secretAccessKey');
    expect(param).not.toContain('s3cr3t');
    const setting = usageError(['describeRepositories', '--setting=secretAccessKey=s3cr3t/VALUE']);
    expect(setting).toContain('KAHOLO_SETTING_secretAccessKey');
    expect(setting).not.toContain('s3cr3t');
    expect(usageError(['getEcrLogin', '-p', 'sessionToken=tok3n'])).not.toContain('tok3n');
  });

  test('vault values come from KAHOLO_PARAM_<name> and KAHOLO_SETTING_<name>', () => {
    const call = invocation(['getEcrLogin'], {
      KAHOLO_PARAM_accessKeyId: 'AKIAEXAMPLEEXAMPLE01',
      KAHOLO_PARAM_secretAccessKey: 'param-secret',
      KAHOLO_SETTING_secretAccessKey: 'setting-secret',
      KAHOLO_PARAM_sessionToken: '', // empty: not set
    });
    expect(call.params).toEqual({ accessKeyId: 'AKIAEXAMPLEEXAMPLE01', secretAccessKey: 'param-secret' });
    expect(call.settings).toEqual({ secretAccessKey: 'setting-secret' });
    expect(call.paramSources.secretAccessKey).toBe('environment KAHOLO_PARAM_secretAccessKey');
  });

  test('KAHOLO_PARAM_ for a param that is not a vault is ignored with a warning', () => {
    const call = invocation(['getEcrLogin'], { KAHOLO_PARAM_region: 'eu-west-1' });
    expect(call.params).toEqual({});
    expect(call.warnings.join('\n')).toContain('KAHOLO_PARAM_region is ignored');
  });

  test('--param-env and --setting-env read a named environment variable', () => {
    const env = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE01', AWS_SECRET_ACCESS_KEY: 'from-aws-env', MY_REGION: 'eu-west-3' };
    const call = invocation(
      ['getEcrLogin', '--param-env', 'accessKeyId=AWS_ACCESS_KEY_ID', '--param-env', 'secretAccessKey=AWS_SECRET_ACCESS_KEY', '--setting-env', 'region=MY_REGION'],
      env,
    );
    expect(call.params).toEqual({ accessKeyId: 'AKIAEXAMPLEEXAMPLE01', secretAccessKey: 'from-aws-env' });
    expect(call.settings).toEqual({ region: 'eu-west-3' });
    expect(call.paramSources.secretAccessKey).toBe('environment AWS_SECRET_ACCESS_KEY');
  });

  test('--param-env with something that is not a variable name, or an unset one, is an error that does not echo it', () => {
    const notAName = usageError(['getEcrLogin', '--param-env', 'secretAccessKey=abc/DEF+ghi']);
    expect(notAName).toContain('NAME of an environment variable');
    expect(notAName).not.toContain('abc/DEF');
    expect(usageError(['getEcrLogin', '--param-env', 'secretAccessKey=NOT_SET_ANYWHERE'])).toContain('NOT_SET_ANYWHERE is not set');
  });

  test('--params-file: params and settings, or a flat object of params; values kept as they are', () => {
    const structured = invocation(['describeRepositories', '--params-file', 'p.json'], {}, {
      'p.json': JSON.stringify({ params: { repositoryNames: ['a', 'b'], region: { id: 'eu-west-2', value: 'London' } }, settings: { region: 'us-east-1' } }),
    });
    expect(structured.params).toEqual({ repositoryNames: ['a', 'b'], region: { id: 'eu-west-2', value: 'London' } });
    expect(structured.settings).toEqual({ region: 'us-east-1' });
    const flat = invocation(['pullImage', '--params-file', 'f.json'], {}, { 'f.json': JSON.stringify({ repoName: 'r', imageName: 'latest' }) });
    expect(flat.params).toEqual({ repoName: 'r', imageName: 'latest' });
    expect(flat.paramSources.repoName).toBe('params file');
  });

  test('later sources win: params file, then KAHOLO_PARAM_ variables, then the command line', () => {
    const files = { 'p.json': JSON.stringify({ secretAccessKey: 'from-file', region: 'eu-west-1', registryId: '111111111111' }) };
    const call = invocation(
      ['describeRepositories', '--params-file', 'p.json', '--param', 'region=eu-west-2', '--param-env', 'accessKeyId=KEY_ID'],
      { KAHOLO_PARAM_secretAccessKey: 'from-env', KEY_ID: 'AKIAEXAMPLEEXAMPLE01' },
      files,
    );
    expect(call.params).toEqual({ secretAccessKey: 'from-env', region: 'eu-west-2', registryId: '111111111111', accessKeyId: 'AKIAEXAMPLEEXAMPLE01' });
  });

  test('a params file with vault values that others can read gets a warning', () => {
    const files = { 'p.json': JSON.stringify({ secretAccessKey: 'x' }) };
    expect(invocation(['getEcrLogin', '--params-file', 'p.json'], {}, files, 0o644).warnings.join('\n')).toContain('chmod 600 p.json');
    expect(invocation(['getEcrLogin', '--params-file', 'p.json'], {}, files, 0o600).warnings).toEqual([]);
  });

  test('bad params files are usage errors', () => {
    expect(usageError(['getEcrLogin', '--params-file', 'missing.json'])).toContain('no such file');
    expect(usageError(['getEcrLogin', '--params-file', 'bad.json'], {}, { 'bad.json': '{' })).toContain('bad.json');
    expect(usageError(['getEcrLogin', '--params-file', 'arr.json'], {}, { 'arr.json': '[]' })).toContain('expected a JSON object');
    expect(usageError(['getEcrLogin', '--params-file', 'u.json'], {}, { 'u.json': '{"repoName":"x"}' })).toContain('"repoName" is not a param');
  });

  test('unknown methods, params and settings are named, with the valid ones', () => {
    const method = usageError(['pushImage']);
    expect(method).toContain('no method or autocomplete function "pushImage"');
    expect(method).toContain('describeRepositories, getEcrLogin, pushImgaeToRepo, pullImage');
    expect(method).toContain('listRegions');
    const param = usageError(['describeRepositories', '-p', 'repoName=x']);
    expect(param).toContain('"repoName" is not a param of method "describeRepositories"');
    expect(param).toContain('accessKeyId, secretAccessKey, sessionToken, region, roleArn, roleExternalId, roleSessionName, roleDurationSeconds, registryType, registryId, repositoryNames');
    expect(usageError(['describeRepositories', '-s', 'profile=x'])).toContain('Valid settings: accessKeyId, secretAccessKey, region');
  });

  test('other mistakes: no method, two methods, unknown option, missing "=", missing value, --query on a method', () => {
    expect(usageError([])).toContain('name a method');
    expect(usageError(['getEcrLogin', 'pullImage'])).toContain('one method at a time');
    expect(usageError(['getEcrLogin', '--secret=abc'])).toBe('unknown option --secret; run "npm run action -- --help" for the methods and their params');
    expect(usageError(['getEcrLogin', '--param', 'region'])).toContain('--param expects name=value');
    expect(usageError(['getEcrLogin', '--param'])).toContain('--param needs a value');
    expect(usageError(['getEcrLogin', '--query', 'x'])).toContain('--query is for autocomplete functions');
  });

  test('an autocomplete function with its query; params of the methods that use it are accepted', () => {
    const call = invocation(['listRegions', '--query', 'lon', '-p', 'region=eu', '-s', 'region=us-east-1']);
    expect(call.target).toMatchObject({ kind: 'autocomplete', name: 'listRegions' });
    expect(call.query).toBe('lon');
    expect(call.params).toEqual({ region: 'eu' });
    expect(invocation(['listRegions']).query).toBe('');
  });

  test('--local and --log-to-stderr', () => {
    expect(invocation(['describeRepositories', '--local', '--log-to-stderr'])).toMatchObject({ local: true, logToStderr: true });
    expect(invocation(['describeRepositories'])).toMatchObject({ local: false, logToStderr: false });
  });

  test('--help lists every method with its params (type, required, description) and the settings', () => {
    const parsed = parse(['--help']);
    if (!('help' in parsed)) throw new Error('expected help');
    for (const method of manifest.methods) {
      expect(parsed.help).toContain(`${method.name} — ${method.viewName}`);
      for (const param of method.params) expect(parsed.help).toMatch(new RegExp(`\\n {4}${param.name} +${param.type}`));
    }
    expect(parsed.help).toMatch(/repoName +string, required/);
    expect(parsed.help).toMatch(/secretAccessKey +vault, optional, from KAHOLO_PARAM_secretAccessKey/);
    expect(parsed.help).toContain('listRegions — autocomplete function');
    expect(parsed.help).toMatch(/plugin settings[^\n]*\n {4}accessKeyId +vault, optional, from KAHOLO_SETTING_accessKeyId/);
    const one = helpText(manifest, 'pullImage');
    expect(one).toContain('pullImage — Pull Image From Repo');
    expect(one).not.toContain('describeRepositories —');
  });

  test('printouts never show a vault value, only where it came from', () => {
    const vault = manifest.settings.find((s) => s.name === 'secretAccessKey');
    const shown = describeValue(vault, 'very-secret-value', 'environment KAHOLO_SETTING_secretAccessKey');
    expect(shown).not.toContain('very-secret');
    expect(shown).toBe('(vault value, 17 chars, from environment KAHOLO_SETTING_secretAccessKey)');
    expect(describeValue(manifest.settings.find((s) => s.name === 'region'), 'eu-west-2', 'command line')).toBe('"eu-west-2"');
  });
});
