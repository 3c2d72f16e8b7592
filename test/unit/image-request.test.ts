import { ParamError } from '../../src/errors';
import { formatImageReference, parseImageReference } from '../../src/params/image-reference';
import { parseImageRequest, planPull, planPush } from '../../src/params/image-request';

const push = (imageName: string, repoName: string, host: string) => planPush(parseImageRequest(imageName, 'push'), repoName, { host, path: repoName });
const pull = (imageName: string, repoName: string, host: string) => planPull(parseImageRequest(imageName, 'pull'), repoName, { host, path: repoName });
const checkImageName = (imageName: string, direction: 'push' | 'pull') => parseImageRequest(imageName, direction);

const HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('parseImageReference', () => {
  it.each([
    ['app', { path: 'app' }],
    ['app:1.2.0', { path: 'app', tag: '1.2.0' }],
    ['team/app:v1', { path: 'team/app', tag: 'v1' }],
    ['localhost:5000/app', { domain: 'localhost:5000', path: 'app' }],
    ['ghcr.io/org/app:1.0', { domain: 'ghcr.io', path: 'org/app', tag: '1.0' }],
    [`app:1.0@${DIGEST}`, { path: 'app', tag: '1.0', digest: DIGEST }],
    [`${HOST}/team/app@${DIGEST}`, { domain: HOST, path: 'team/app', digest: DIGEST }],
  ])('reads %s', (text, expected) => {
    const ref = parseImageReference('imageName', text);
    expect(ref).toEqual({ domain: undefined, tag: undefined, digest: undefined, ...expected });
    expect(formatImageReference(ref)).toBe(text);
  });

  it.each([
    ['App:1.0', 'lower-case'],
    ['app:', 'a tag is'],
    [`app:${'t'.repeat(129)}`, 'a tag is'],
    ['app@sha256:abc', 'a digest is'],
    [`app@sha256:${'A'.repeat(64)}`, 'a digest is'],
    ['app:1.0 --rm', 'a tag is'],
    ['a$(touch x)', 'lower-case'],
    ['team//app', 'lower-case'],
    [`${'a'.repeat(256)}`, 'longer than 255'],
    [':1.0', 'name is missing'],
  ])('rejects %s', (text, problem) => {
    expect(() => parseImageReference('imageName', text)).toThrow(ParamError);
    expect(() => parseImageReference('imageName', text)).toThrow(problem);
  });
});

describe('planPush', () => {
  it('tries a bare word as a local name, then as a tag of the repository', () => {
    expect(push('1.2.0', 'team/app', HOST)).toEqual([
      { source: '1.2.0:latest', target: `${HOST}/team/app:latest` },
      { source: 'team/app:1.2.0', target: `${HOST}/team/app:1.2.0` },
      { source: `${HOST}/team/app:1.2.0`, target: `${HOST}/team/app:1.2.0` },
    ]);
  });

  it('takes only the tag reading of a bare word that is not a valid name', () => {
    expect(push('V1', 'app', HOST).map((c) => c.source)).toEqual(['app:V1', `${HOST}/app:V1`]);
  });

  it('keeps the tag of a local or foreign reference, latest when none', () => {
    expect(push('app:1.2.0', 'team/app', HOST)).toEqual([{ source: 'app:1.2.0', target: `${HOST}/team/app:1.2.0` }]);
    expect(push('ghcr.io/org/app', 'app', HOST)).toEqual([{ source: 'ghcr.io/org/app', target: `${HOST}/app:latest` }]);
  });

  it('pushes a full reference into this registry as it is', () => {
    expect(push(`${HOST}/app:2`, 'app', HOST)).toEqual([{ source: `${HOST}/app:2`, target: `${HOST}/app:2` }]);
  });

  it('refuses a full reference to another repository, and a digest without a tag', () => {
    expect(() => push(`${HOST}/other:2`, 'app', HOST)).toThrow('names repository "other" in this registry');
    expect(() => push(`app@${DIGEST}`, 'app', HOST)).toThrow('a push needs a tag');
  });
});

describe('planPull', () => {
  it.each([
    ['1.2.0', `${HOST}/team/app:1.2.0`],
    ['app', `${HOST}/team/app:app`],
    ['team/app', `${HOST}/team/app:latest`],
    ['app:3', `${HOST}/team/app:3`],
    [`app@${DIGEST}`, `${HOST}/team/app@${DIGEST}`],
    [`app:3@${DIGEST}`, `${HOST}/team/app@${DIGEST}`],
    [`${HOST}/team/app:4`, `${HOST}/team/app:4`],
    // A digest alone, as the ECR console and a push's result write it, and as a reference's "@" part.
    [DIGEST, `${HOST}/team/app@${DIGEST}`],
    [`@${DIGEST}`, `${HOST}/team/app@${DIGEST}`],
  ])('pulls %s as %s', (imageName, expected) => {
    expect(pull(imageName, 'team/app', HOST)).toBe(expected);
  });

  it('reads a digest alone as that digest, never as a name and tag', () => {
    expect(parseImageRequest(DIGEST, 'pull')).toEqual({ kind: 'digest', text: DIGEST, digest: DIGEST });
    expect(parseImageRequest(`@${DIGEST}`, 'pull')).toEqual({ kind: 'digest', text: `@${DIGEST}`, digest: DIGEST });
  });

  it.each(['sha256:abc', `sha256:${'A'.repeat(64)}`, `@sha256:${'0'.repeat(63)}`, `@sha512:${'0'.repeat(128)}`, '@latest'])(
    'refuses %s: what starts like a digest must be one',
    (imageName) => {
      expect(() => checkImageName(imageName, 'pull')).toThrow(/^Parameter "imageName": ".*" is not a digest: a digest is "sha256:" followed by 64 lower-case hex characters$/);
    },
  );

  it('refuses a digest alone for a push, which needs a tag', () => {
    for (const imageName of [DIGEST, `@${DIGEST}`]) expect(() => checkImageName(imageName, 'push')).toThrow('names only a digest; a push needs a tag');
  });
});

describe('checkImageName', () => {
  it.each(['1.2.0', 'app', 'app:1', `${HOST}/a:1`, 'V1'])('accepts %s', (name) => {
    expect(() => checkImageName(name, 'push')).not.toThrow();
    expect(() => checkImageName(name, 'pull')).not.toThrow();
  });
  it.each(['-rm', '--help', '.hidden', 'a b', 'x;y', 'a`b`', "it's", 'a\nb', '$(id)'])('rejects %j', (name) => {
    expect(() => checkImageName(name, 'push')).toThrow(/Parameter "imageName"/);
    expect(() => checkImageName(name, 'pull')).toThrow(/Parameter "imageName"/);
  });
  it('takes a bare word too long for a tag only as a local name, so only for a push', () => {
    const name = 'a'.repeat(129);
    expect(() => checkImageName(name, 'push')).not.toThrow();
    expect(() => checkImageName(name, 'pull')).toThrow('is neither a tag nor an image name');
  });
});
