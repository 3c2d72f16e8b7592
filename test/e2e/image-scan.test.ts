/**
 * checkImageScan end to end: the compiled plugin, loaded as the agent loads it, reads the scans the
 * local ECR stand-in holds, with the real AWS SDK over HTTP. Every status ECR documents is met
 * here, in basic and enhanced shapes, with findings that arrive late and pages of a thousand.
 * Needs no Docker engine.
 *
 * The wait between reads is at least 5 s against AWS; these tests shorten it with the test-only
 * KAHOLO_ECR_SCAN_POLL_MS, which the plugin honours only against an endpoint on this machine (the
 * stand-in's). The interrupt tests run each action in a node process of its own, without it.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ScanAnswer, ScanFindingSpec } from '../../devkit/ecr-endpoint';
import { agentEnvironment, startAgentAction } from '../../devkit/agent-process';
import { E2E_TEST_TIMEOUT_MS, SETTINGS, UNSET_CONNECTION, expectNoOpenConnections, failed, runAction, succeeded, useLocalStack } from './helpers';

jest.setTimeout(E2E_TEST_TIMEOUT_MS);

const POLL_MS = 100;
const HOST = '127.0.0.1:9'; // the registry host the stand-in's repositories name (no registry behind it)
const REPO = 'scan/app';
let digestCounter = 0;
/** A fresh digest per image, so no test sees another's scan. */
const newDigest = (): string => `sha256:${(++digestCounter).toString(16).padStart(64, '0')}`;

interface Scanned {
  image: string;
  digest: string;
  status: string;
  scanType: string;
  completedAt: string;
  counts: Record<string, number>;
  ignored: string[];
  findings: Array<Record<string, string>>;
  passed: boolean;
}

const FINDINGS: ScanFindingSpec[] = [
  { name: 'CVE-2024-0001', severity: 'HIGH', package: 'openssl', version: '3.0.1', fixedIn: '3.0.2', uri: 'https://cve.example/1', score: 7.5 },
  { name: 'CVE-2024-0002', severity: 'MEDIUM', package: 'zlib', version: '1.2.13', uri: 'https://cve.example/2', score: 5.0 },
  { name: 'CVE-2024-0003', severity: 'LOW', package: 'bash', version: '5.2', uri: 'https://cve.example/3' },
];

describe('checkImageScan (local ECR API endpoint)', () => {
  const stack = useLocalStack({ accounts: 1 });
  let savedPoll: string | undefined;

  beforeAll(() => {
    stack().ecr.endpoint.createRepositories([REPO]);
    savedPoll = process.env.KAHOLO_ECR_SCAN_POLL_MS;
    process.env.KAHOLO_ECR_SCAN_POLL_MS = String(POLL_MS);
  });
  afterAll(() => {
    if (savedPoll === undefined) delete process.env.KAHOLO_ECR_SCAN_POLL_MS;
    else process.env.KAHOLO_ECR_SCAN_POLL_MS = savedPoll;
  });

  /** An image of REPO, tagged `tag`, whose scan answers `scan` read by read. */
  const image = (tag: string, scan: ScanAnswer[], afterStart?: ScanAnswer[]): string => {
    const digest = newDigest();
    stack().ecr.endpoint.scans.set({ repositoryName: REPO, digest, tags: [tag], scan, ...(afterStart ? { afterStart } : {}) });
    return digest;
  };
  const check = (params: Record<string, unknown>) =>
    runAction<Scanned>(stack().plugin, 'checkImageScan', { ...UNSET_CONNECTION, repoName: REPO, failOnSeverity: 'HIGH', ...params }, SETTINGS);
  const readTimes = (digest: string): number[] => stack().ecr.endpoint.scans.readTimes(REPO, digest);
  const scanCalls = (): number => stack().ecr.endpoint.calls.filter((c) => c.operation === 'DescribeImageScanFindings').length;

  test('COMPLETE (basic): the result in the documented shape; passes when nothing is at the threshold', async () => {
    const digest = image('basic-pass', [{ status: 'COMPLETE', findings: FINDINGS.slice(1) }]);
    const run = await check({ imageName: 'basic-pass' });
    const scanned = succeeded(run);
    expect(scanned).toEqual({
      image: `${HOST}/${REPO}:basic-pass`,
      digest,
      status: 'COMPLETE',
      scanType: 'BASIC',
      completedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/) as string,
      counts: { CRITICAL: 0, HIGH: 0, MEDIUM: 1, LOW: 1, INFORMATIONAL: 0, UNDEFINED: 0 },
      ignored: [],
      findings: [
        { name: 'CVE-2024-0002', severity: 'MEDIUM', package: 'zlib', version: '1.2.13', uri: 'https://cve.example/2' },
        { name: 'CVE-2024-0003', severity: 'LOW', package: 'bash', version: '5.2', uri: 'https://cve.example/3' },
      ],
      passed: true,
    });
    expect(run.output).toContain('Passed: no finding at HIGH or above');
    await expectNoOpenConnections(stack());
  });

  test('COMPLETE (basic), gate failed: one line with the threshold, counts and worst findings; the same result in the log first', async () => {
    image('basic-fail', [{ status: 'COMPLETE', findings: FINDINGS }]);
    const run = await check({ imageName: 'basic-fail', failOnSeverity: 'MEDIUM' });
    const error = failed(run);
    expect(error.message).toBe(
      `${HOST}/${REPO}:basic-fail fails the scan gate: 2 findings at MEDIUM or above (failOnSeverity); counts HIGH 1, MEDIUM 1, LOW 1; ` +
        'worst: CVE-2024-0001 (HIGH, openssl 3.0.1); CVE-2024-0002 (MEDIUM, zlib 1.2.13). ' +
        'The full result is in the activity log; fix the image, or list accepted findings in ignoreFindings',
    );
    const line = run.output.split('\n').find((l) => l.startsWith('Scan result: ')) ?? '';
    const printed = JSON.parse(line.slice('Scan result: '.length)) as Scanned;
    expect(printed).toMatchObject({ image: `${HOST}/${REPO}:basic-fail`, status: 'COMPLETE', passed: false, counts: { HIGH: 1, MEDIUM: 1, LOW: 1 } });
    expect(printed.findings.map((f) => f.name)).toEqual(['CVE-2024-0001', 'CVE-2024-0002', 'CVE-2024-0003']);
    expect(run.output.indexOf('Scan result: ')).toBeLessThan(run.output.length);
  });

  test('ACTIVE (enhanced): every page of 1,205 findings, the fixed version where Inspector knows it, UNTRIAGED as UNDEFINED', async () => {
    const many: ScanFindingSpec[] = Array.from({ length: 1200 }, (_, i) => ({ name: `CVE-2023-${String(i).padStart(5, '0')}`, severity: 'LOW', package: `lib${i}`, version: '1' }));
    const digest = image('enhanced', [{ status: 'ACTIVE', scanType: 'ENHANCED', findings: [...many, ...FINDINGS, { name: 'CVE-2024-0009', severity: 'UNTRIAGED', package: 'tar', version: '1.34' }, { name: 'CVE-2024-0010', severity: 'CRITICAL', package: 'glibc', version: '2.36' }] }]);
    const before = scanCalls();
    const run = await check({ imageName: `${REPO}@${digest}`, failOnSeverity: 'NONE' });
    const scanned = succeeded(run);
    expect(scanCalls() - before).toBe(2); // 1,000 and 205
    expect(scanned).toMatchObject({ image: `${HOST}/${REPO}@${digest}`, digest, status: 'ACTIVE', scanType: 'ENHANCED', passed: true });
    expect(scanned.counts).toEqual({ CRITICAL: 1, HIGH: 1, MEDIUM: 1, LOW: 1201, INFORMATIONAL: 0, UNDEFINED: 1 });
    expect(scanned.findings).toHaveLength(50);
    expect(scanned.findings.slice(0, 2)).toEqual([
      { name: 'CVE-2024-0010', severity: 'CRITICAL', package: 'glibc', version: '2.36' },
      { name: 'CVE-2024-0001', severity: 'HIGH', package: 'openssl', version: '3.0.1', fixedIn: '3.0.2', uri: 'https://cve.example/1' },
    ]);
    expect(run.output).toContain('Reported only: failOnSeverity is NONE');
  });

  test('IN_PROGRESS, then PENDING, then COMPLETE: waited for, reading no faster than the interval', async () => {
    const digest = image('later', [{ status: 'IN_PROGRESS' }, { status: 'PENDING' }, { status: 'COMPLETE', findings: [] }]);
    const run = await check({ imageName: 'later' });
    expect(succeeded(run)).toMatchObject({ status: 'COMPLETE', passed: true, counts: { HIGH: 0 } });
    const times = readTimes(digest);
    expect(times).toHaveLength(3);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(POLL_MS - 5);
    expect(run.output).toContain(`The scan of ${REPO}:later is IN_PROGRESS (The scan is in progress.); reading it again in 0.1 s`);
    expect(run.output).toContain(`The scan of ${REPO}:later is PENDING (Pending initial scan.); reading it again in 0.2 s`);
  });

  test.each(['ACTIVE', 'COMPLETE'])('%s before the enhanced findings are there: waited for, and judged once they came', async (status) => {
    const tag = `late-${status.toLowerCase()}`;
    const digest = image(tag, [{ status, scanType: 'ENHANCED' }, { status, scanType: 'ENHANCED' }, { status, scanType: 'ENHANCED', findings: FINDINGS }]);
    const run = await check({ imageName: tag });
    expect(failed(run).message).toMatch(new RegExp(`^${HOST.replace(/\./g, '\\.')}/${REPO}:${tag} fails the scan gate: 1 finding at HIGH or above`));
    expect(readTimes(digest)).toHaveLength(3);
    expect(run.output).toContain(`The scan of ${REPO}:${tag} reads ${status} but its findings are not there yet (no imageScanCompletedAt)`);
  });

  test.each([
    ['FAILED', /^The scan of scan\/app:st-failed failed \(FAILED: UnsupportedImageError: the scan could not be completed\.\): start a new scan/],
    ['UNSUPPORTED_IMAGE', /^ECR cannot scan scan\/app:st-unsupported_image \(UNSUPPORTED_IMAGE: UnsupportedImageError: The operating system and\/or package manager are not supported\.\): /],
    ['SCAN_ELIGIBILITY_EXPIRED', /^The scan of scan\/app:st-scan_eligibility_expired has expired \(SCAN_ELIGIBILITY_EXPIRED: .*\): Amazon Inspector no longer rescans it; push the image again/],
    ['FINDINGS_UNAVAILABLE', /^ECR has no findings for scan\/app:st-findings_unavailable \(FINDINGS_UNAVAILABLE: .*\): check that Amazon Inspector covers the repository/],
    ['LIMIT_EXCEEDED', /^ECR did not scan scan\/app:st-limit_exceeded \(LIMIT_EXCEEDED: The scan quota has been exceeded\.\): the account's scan quota is used up/],
    ['IMAGE_ARCHIVED', /^scan\/app:st-image_archived is archived \(IMAGE_ARCHIVED: The image is archived\.\), and archived images are not scanned/],
  ])('%s ends the action with its own line, at the first read', async (status, message) => {
    const tag = `st-${status.toLowerCase()}`;
    const digest = image(tag, [{ status }]);
    const run = await check({ imageName: tag });
    expect(failed(run).message).toMatch(message);
    expect(failed(run).message).not.toMatch(/\n/);
    expect(readTimes(digest)).toHaveLength(1);
  });

  test('no scan at all (ScanNotFoundException): fails saying how to get one, and starts none', async () => {
    const digest = image('unscanned', []);
    const run = await check({ imageName: 'unscanned' });
    expect(failed(run).message).toBe(
      `${REPO}:unscanned has no scan in ECR (ScanNotFoundException): turn on scan on push for the repository, set startScan to start a basic scan, or use enhanced scanning`,
    );
    expect(stack().ecr.endpoint.scans.starts(REPO, digest)).toBe(0);
  });

  test('no scan, startScan: StartImageScan starts a basic one, which is waited for and judged', async () => {
    const digest = image('to-scan', [], [{ status: 'IN_PROGRESS' }, { status: 'IN_PROGRESS' }, { status: 'COMPLETE', findings: FINDINGS.slice(2) }]);
    const run = await check({ imageName: 'to-scan', startScan: true });
    expect(succeeded(run)).toMatchObject({ digest, status: 'COMPLETE', scanType: 'BASIC', counts: { LOW: 1 }, passed: true });
    expect(stack().ecr.endpoint.scans.starts(REPO, digest)).toBe(1);
    expect(run.output).toContain(`${REPO}:to-scan had no scan: started a basic scan of ${digest} (StartImageScan: IN_PROGRESS)`);
    expect(readTimes(digest)).toHaveLength(4); // ScanNotFound, then the new scan read three times
  });

  test('ignoreFindings: a current entry ignores, an expired one does not and the log says so', async () => {
    image('ignoring', [{ status: 'COMPLETE', scanType: 'ENHANCED', findings: FINDINGS }]);
    const run = await check({ imageName: 'ignoring', failOnSeverity: 'MEDIUM', ignoreFindings: 'CVE-2024-0001 until 2999-12-31\nCVE-2024-0002 until 2001-01-01' });
    expect(failed(run).message).toMatch(/fails the scan gate: 1 finding at MEDIUM or above \(failOnSeverity\); counts MEDIUM 1, LOW 1; worst: CVE-2024-0002 \(MEDIUM, zlib 1\.2\.13\)\./);
    expect(run.output).toContain('ignoreFindings: "CVE-2024-0002 until 2001-01-01" has expired and no longer ignores CVE-2024-0002, which is among the findings and counts');
    expect(run.output).toMatch(/Scan result: .*"ignored":\["CVE-2024-0001"\]/);
  });

  test('a scan that stays IN_PROGRESS ends at scanTimeoutSeconds, with no read past it', async () => {
    const digest = image('stuck', [{ status: 'IN_PROGRESS' }]);
    const started = Date.now();
    const run = await check({ imageName: 'stuck', scanTimeoutSeconds: '1' });
    const took = Date.now() - started;
    expect(failed(run).message).toBe(
      `No usable scan result for ${REPO}:stuck within 1 s: the scan is IN_PROGRESS (The scan is in progress.). Raise scanTimeoutSeconds (at most 3600), or look at the image's scan in the ECR console`,
    );
    const times = readTimes(digest);
    expect(times.length).toBeGreaterThanOrEqual(3);
    // The last read may go at the deadline itself: 100 ms for it to reach the endpoint on a busy machine.
    expect(times[times.length - 1] - times[0]).toBeLessThanOrEqual(1000 + 100);
    expect(took).toBeLessThan(3000);
    await expectNoOpenConnections(stack());
  });

  test('a read the endpoint holds unanswered ends at scanTimeoutSeconds, not at the 60 s request timeout', async () => {
    image('unanswered', [{ status: 'COMPLETE', scanType: 'BASIC', findings: [] }]);
    const held = stack().ecr.endpoint.hold('DescribeImageScanFindings', 30_000);
    const started = Date.now();
    let run: Awaited<ReturnType<typeof check>>;
    try {
      run = await check({ imageName: 'unanswered', scanTimeoutSeconds: '2' });
      expect(held.hasReached()).toBe(true);
    } finally {
      held.release();
    }
    expect(failed(run).message).toMatch(/^No usable scan result for \S+:unanswered within 2 s/);
    expect(Date.now() - started).toBeLessThan(2000 + 1500);
    await expectNoOpenConnections(stack());
  });

  test('a full reference into another repository of this registry: refused before any scan is read or started', async () => {
    const digest = image('elsewhere', [], [{ status: 'IN_PROGRESS' }]);
    const before = scanCalls();
    const run = await check({ imageName: `${HOST}/scan/other:elsewhere`, startScan: true });
    expect(failed(run).message).toBe(`Parameter "imageName": names repository "scan/other" in this registry, but "repoName" is "${REPO}"; make them agree`);
    expect(scanCalls() - before).toBe(0);
    expect(stack().ecr.endpoint.scans.starts(REPO, digest)).toBe(0);
  });

  test('an image or repository that is not there', async () => {
    expect(failed(await check({ imageName: 'no-such-tag' })).message).toBe(
      `Parameter "imageName": ${REPO}:no-such-tag is not in the registry: no such tag or digest in repository "${REPO}"`,
    );
    expect(failed(await check({ repoName: 'no/such-repo', imageName: '1.0' })).message).toMatch(/^ECR DescribeRepositories failed: RepositoryNotFoundException: /);
  });
});

describe('checkImageScan interrupted (each action a node process of its own)', () => {
  const stack = useLocalStack({ accounts: 1 });
  let tmp: string;
  beforeAll(async () => {
    stack().ecr.endpoint.createRepositories([REPO]);
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'scan-term-'));
  });
  afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

  /**
   * The action in a process that keeps SIGTERM for itself (as an agent may), so that the signal
   * stops the action only if the action stops itself; without the test setting: 5 s between reads.
   */
  const start = (imageName: string) =>
    startAgentAction(
      { method: 'checkImageScan', params: { ...UNSET_CONNECTION, repoName: REPO, imageName }, settings: SETTINGS },
      agentEnvironment({ ...stack().ecr.env, TMPDIR: tmp }),
      { nodeArgs: ['--require', path.join(__dirname, '..', 'support', 'bin', 'agent-keeps-sigterm.js')] },
    );

  test('SIGTERM during the wait between reads (5 s, as against AWS) ends the action at once', async () => {
    stack().ecr.endpoint.scans.set({ repositoryName: REPO, digest: newDigest(), tags: ['waiting'], scan: [{ status: 'IN_PROGRESS' }] });
    const action = start('waiting');
    await action.waitForOutput(/reading it again in 5 s/, 20_000);
    const signalled = Date.now();
    action.kill('SIGTERM');
    const outcome = await action.finished;
    // At once: not after the 5 s wait, nor when the kill escalates to SIGKILL 5 s after the SIGTERM.
    expect(Date.now() - signalled).toBeLessThan(4_000);
    expect(outcome).toMatchObject({ reported: true, error: 'The action was interrupted (SIGTERM)' });
    expect(outcome.output).toMatch(/^Interrupted \(SIGTERM\): stopping the work; cleaning up$/m);
    await expectNoOpenConnections(stack());
  });

  test('SIGTERM while a read is held unanswered by the endpoint aborts it and ends the action at once', async () => {
    stack().ecr.endpoint.scans.set({ repositoryName: REPO, digest: newDigest(), tags: ['held'], scan: [{ status: 'COMPLETE', findings: [] }] });
    // The endpoint holds reads until two have arrived (or 30 s): the action's one read hangs there.
    stack().ecr.endpoint.gate('DescribeImageScanFindings', 2, 30_000);
    const calls = (): number => stack().ecr.endpoint.calls.filter((c) => c.operation === 'DescribeImageScanFindings').length;
    const before = calls();
    const action = start('held');
    for (let i = 0; i < 400 && calls() === before; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(calls()).toBe(before + 1);
    const signalled = Date.now();
    action.kill('SIGTERM');
    const outcome = await action.finished;
    // At once: not when the endpoint lets the read go (30 s), nor when the kill escalates to SIGKILL after 5 s.
    expect(Date.now() - signalled).toBeLessThan(4_000);
    expect(outcome).toMatchObject({ reported: true, error: 'The action was interrupted (SIGTERM)' });
  });
});
