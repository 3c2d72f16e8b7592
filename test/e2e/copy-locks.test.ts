/**
 * Copy Image takes the same tag locks as push and Tag Image In Repo: a copy and a tagImage on one
 * agent that write the same tag end as if they had run one after the other. The copy is held at
 * its tag's write (a registry front holds that request) while it holds the lock, so the overlap is
 * certain; each action is a node process of its own sharing the agent's TMPDIR, where the locks live.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { agentEnvironment, startAgentAction } from '../../devkit/agent-process';
import { LOCAL_KEYS, startLocalEcr, type LocalEcr, type RegistryPlace } from '../../devkit/local-ecr';
import { registryRequest, writeImage, type RegistryAccess } from '../../devkit/oci-images';
import { describeWithDocker } from '../support/e2e-environment';

jest.setTimeout(60_000);

const PARAMS = { accessKeyId: LOCAL_KEYS.accessKeyId, secretAccessKey: LOCAL_KEYS.secretAccessKey, region: 'us-east-1' };

describeWithDocker('copyImage and tagImage writing one tag on one agent (ECR stand-in, real registry behind a front)', (e2e) => {
  let ecr: LocalEcr;
  let tmp: string;

  beforeAll(async () => {
    ecr = await startLocalEcr({ startRegistry: (options) => e2e().startRegistry(options), front: () => ({}) });
    ecr.endpoint.createRepositories(['team/app', 'prod/app']);
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'copy-locks-'));
  });

  afterAll(async () => {
    await ecr?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  const place = (): RegistryPlace => ecr.place(ecr.accountIds[0] ?? '');
  const access = (): RegistryAccess => ({ url: place().url, user: 'AWS', password: place().password });
  const env = (extra: Record<string, string> = {}) => agentEnvironment({ ...ecr.env, TMPDIR: tmp, ...extra });
  const tmpLeft = async (): Promise<string[]> => fs.readdir(tmp);
  const digestOf = async (reference: string): Promise<string | undefined> => {
    const answer = await registryRequest(access(), 'HEAD', `/v2/prod/app/manifests/${reference}`, undefined, { Accept: 'application/vnd.oci.image.manifest.v1+json' });
    return answer.headers['docker-content-digest'] as string | undefined;
  };

  test('a tagImage of the tag a copy is writing waits for the copy, then writes it: the tag ends on tagImage\'s image', async () => {
    const copied = await writeImage(access(), 'team/app', 'y-1', [64 * 1024]);
    const tagged = await writeImage(access(), 'prod/app', 'x-1', [64 * 1024]);
    const front = place().front;
    if (!front) throw new Error('no front');
    const held = front.hold(/^PUT \/v2\/prod\/app\/manifests\/live$/);
    const copy = startAgentAction({ method: 'copyImage', params: { ...PARAMS, repoName: 'team/app', imageName: 'y-1', targetRepoName: 'prod/app', targetTags: 'live' } }, env());
    let tagImage: ReturnType<typeof startAgentAction> | undefined;
    try {
      await held.reached; // the copy holds the lock of prod/app:live and is writing it
      tagImage = startAgentAction({ method: 'tagImage', params: { ...PARAMS, repoName: 'prod/app', imageName: 'x-1', tags: 'live' } }, env());
      await tagImage.waitForOutput(/^Waiting for another action on this agent that writes the tag .*prod\/app:live/m, 20_000);
    } finally {
      held.release();
    }
    const [copyOutcome, tagOutcome] = await Promise.all([copy.finished, tagImage.finished]);
    expect(copyOutcome.error).toBeUndefined();
    expect(tagOutcome.error).toBeUndefined();
    expect(copyOutcome.result).toMatchObject({ digest: copied.digest });
    expect(tagOutcome.result).toMatchObject({ digest: tagged.digest });
    expect(await digestOf('live')).toBe(tagged.digest);
    expect(await tmpLeft()).toEqual([]);
  });

  test('a copy of a tag a tagImage is writing waits for it, then writes it: the tag ends on the copied image', async () => {
    const copied = await writeImage(access(), 'team/app', 'y-2', [64 * 1024]);
    const tagged = await writeImage(access(), 'prod/app', 'x-2', [64 * 1024]);
    const gate = ecr.endpoint.hold('PutImage', 30_000);
    const tagImage = startAgentAction({ method: 'tagImage', params: { ...PARAMS, repoName: 'prod/app', imageName: 'x-2', tags: 'stable' } }, env());
    let copy: ReturnType<typeof startAgentAction> | undefined;
    try {
      await gate.reached;
      copy = startAgentAction({ method: 'copyImage', params: { ...PARAMS, repoName: 'team/app', imageName: 'y-2', targetRepoName: 'prod/app', targetTags: 'stable' } }, env());
      await copy.waitForOutput(/^Waiting for another action on this agent that writes the tag .*prod\/app:stable/m, 20_000);
    } finally {
      gate.release();
    }
    const [tagOutcome, copyOutcome] = await Promise.all([tagImage.finished, copy.finished]);
    expect(tagOutcome.error).toBeUndefined();
    expect(copyOutcome.error).toBeUndefined();
    expect(tagOutcome.result).toMatchObject({ digest: tagged.digest });
    expect(await digestOf('stable')).toBe(copied.digest);
    expect(await tmpLeft()).toEqual([]);
  });

  test('a copy waiting for the lock of a tag another action writes stops at transferTimeLimit, naming it; nothing left in TMPDIR', async () => {
    await writeImage(access(), 'team/app', 'y-3', [64 * 1024]);
    await writeImage(access(), 'prod/app', 'x-3', [64 * 1024]);
    const gate = ecr.endpoint.hold('PutImage', 30_000);
    const tagImage = startAgentAction({ method: 'tagImage', params: { ...PARAMS, repoName: 'prod/app', imageName: 'x-3', tags: 'rc' } }, env());
    let waited;
    const started = Date.now();
    try {
      await gate.reached;
      // One minute of the limit lasts 3 s here (a test-only setting).
      waited = await startAgentAction(
        { method: 'copyImage', params: { ...PARAMS, repoName: 'team/app', imageName: 'y-3', targetRepoName: 'prod/app', targetTags: 'rc', transferTimeLimit: '1' } },
        env({ KAHOLO_ECR_TEST_MINUTE_MS: '3000' }),
      ).finished;
    } finally {
      gate.release();
    }
    expect(waited.output).toMatch(/^Waiting for another action on this agent that writes the tag .*prod\/app:rc/m);
    expect(waited.error).toMatch(/^Parameter "transferTimeLimit": the copy did not finish within 1 minute/);
    expect(Date.now() - started).toBeLessThan(3000 + 5000);
    expect((await tagImage.finished).error).toBeUndefined();
    expect(await tmpLeft()).toEqual([]);
  });

  test('a copy killed (SIGKILL) while it writes a tag: its lock goes stale and the next tagImage of that tag takes it over', async () => {
    await writeImage(access(), 'team/app', 'y-4', [64 * 1024]);
    const tagged = await writeImage(access(), 'prod/app', 'x-4', [64 * 1024]);
    const front = place().front;
    if (!front) throw new Error('no front');
    const held = front.hold(/^PUT \/v2\/prod\/app\/manifests\/edge$/);
    const stale = { KAHOLO_ECR_LOCK_STALE_MS: '2000' };
    const copy = startAgentAction({ method: 'copyImage', params: { ...PARAMS, repoName: 'team/app', imageName: 'y-4', targetRepoName: 'prod/app', targetTags: 'edge' } }, env(stale));
    try {
      await held.reached;
      copy.kill('SIGKILL');
      expect((await copy.finished).signal).toBe('SIGKILL');
    } finally {
      held.release();
    }
    expect((await tmpLeft()).filter((name) => name.endsWith('.lock'))).toHaveLength(1); // the dead copy's
    const next = await startAgentAction({ method: 'tagImage', params: { ...PARAMS, repoName: 'prod/app', imageName: 'x-4', tags: 'edge' } }, env(stale)).finished;
    expect(next.error).toBeUndefined();
    expect(next.output).toMatch(/^Waiting for another action on this agent that writes the tag .*prod\/app:edge/m);
    expect(await digestOf('edge')).toBe(tagged.digest);
    expect(await tmpLeft()).toEqual([]);
  });
});
