/**
 * checkImageScan's logic on a mocked SDK (aws-sdk-client-mock) and a fake clock: no test waits
 * for real. Every read, wait and call is recorded with the fake time it happened at, so the
 * deadline and the poll interval are checked on what was done, not on what was meant.
 */
import {
  DescribeImageScanFindingsCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  StartImageScanCommand,
  type DescribeImageScanFindingsCommandInput,
  type DescribeImageScanFindingsResponse,
  type EnhancedImageScanFinding,
  type ImageScanFinding,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import type { ActivityLog } from '../../src/kaholo/activity-log';
import { Interruption } from '../../src/agent/interruption';
import type { Clock } from '../../src/scan/clock';
import { checkScan } from '../../src/scan/scan-check';
import type { ScanRequest } from '../../src/scan/scan-request';
import type { ScanResult } from '../../src/scan/scan-verdict';
import { parseImageRequest } from '../../src/params/image-request';
import { openEcrRegistry } from '../../src/aws/ecr-registry';
import { Redactor } from '../../src/kaholo/redactor';
import type { ImageScanApi } from '../../src/registry/image-scans';

const ecrMock = mockClient(ECRClient);
const DIGEST = `sha256:${'d'.repeat(64)}`;
const OTHER = `sha256:${'e'.repeat(64)}`;
const HOST = '123456789012.dkr.ecr.eu-west-2.amazonaws.com';
const START = Date.UTC(2026, 5, 15, 12, 0, 0);
const COMPLETED = new Date(Date.UTC(2026, 5, 15, 11, 58, 0));

/** Time that moves only when the code under test sleeps, or when a test moves it. */
class FakeClock implements Clock {
  time = START;
  readonly sleeps: number[] = [];
  private timers: Array<{ at: number; fn: () => void }> = [];

  now(): number {
    return this.time;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    // A wait that never ends fails the test instead of spinning forever.
    if (this.sleeps.length > 1000) throw new Error('the code under test slept more than 1000 times');
    this.advance(ms);
    await new Promise((resolve) => setImmediate(resolve));
  }

  after(ms: number, fn: () => void): () => void {
    // A timer already due fires at once, as a real one of 0 ms does before any answer from the network.
    if (ms <= 0) {
      fn();
      return () => undefined;
    }
    const timer = { at: this.time + ms, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((t) => t.at <= this.time);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const timer of due) timer.fn();
  }
}

const basic = (name: string, severity: string, pkg?: string, version?: string, score?: number): ImageScanFinding => ({
  name,
  severity: severity as ImageScanFinding['severity'],
  uri: `https://cve.example/${name}`,
  attributes: [
    ...(version ? [{ key: 'package_version', value: version }] : []),
    ...(pkg ? [{ key: 'package_name', value: pkg }] : []),
    ...(score !== undefined ? [{ key: 'CVSS2_SCORE', value: String(score) }] : []),
  ],
});

const enhanced = (name: string, severity: string, pkg: string, version: string, fixedIn = 'NotAvailable', score?: number): EnhancedImageScanFinding => ({
  title: `${name} - ${pkg}`,
  severity,
  score,
  findingArn: `arn:aws:inspector2:eu-west-2:123456789012:finding/${name}`,
  packageVulnerabilityDetails: { vulnerabilityId: name, sourceUrl: `https://nvd.example/${name}`, vulnerablePackages: [{ name: pkg, version, fixedInVersion: fixedIn }] },
});

type Answer = DescribeImageScanFindingsResponse | Error;

/** An answer with findings: basic ones in `findings`, enhanced ones in `enhancedFindings`. */
function result(status: string, found: { findings?: ImageScanFinding[]; enhancedFindings?: EnhancedImageScanFinding[]; counts?: Record<string, number> }, digest = DIGEST): DescribeImageScanFindingsResponse {
  const all = [...(found.findings ?? []), ...(found.enhancedFindings ?? [])];
  const counts: Record<string, number> = {};
  for (const f of all) counts[f.severity ?? 'UNDEFINED'] = (counts[f.severity ?? 'UNDEFINED'] ?? 0) + 1;
  return {
    imageId: { imageDigest: digest },
    imageScanStatus: { status: status as 'COMPLETE', description: `${status} description` },
    imageScanFindings: { ...found, imageScanCompletedAt: COMPLETED, vulnerabilitySourceUpdatedAt: COMPLETED, findingSeverityCounts: found.counts ?? counts },
  };
}

/** What ECR answers before the findings are there (enhanced scanning: Inspector has not delivered). */
const notYet = (status: string): DescribeImageScanFindingsResponse => ({
  imageId: { imageDigest: DIGEST },
  imageScanStatus: { status: status as 'ACTIVE', description: `${status} description` },
  imageScanFindings: { findings: [] },
});

const statusOnly = (status: string, description?: string): DescribeImageScanFindingsResponse => ({
  imageId: { imageDigest: DIGEST },
  imageScanStatus: { status: status as 'PENDING', ...(description !== undefined ? { description } : {}) },
});

const awsError = (name: string, message = `${name} happened`): Error => Object.assign(new Error(message), { name, $metadata: { requestId: 'req-1' } });

let clock: FakeClock;
let interruption: Interruption;
/** Each DescribeImageScanFindings call: its input and the fake time it arrived at. */
let reads: Array<{ input: DescribeImageScanFindingsCommandInput; at: number }>;

/** DescribeImageScanFindings answers these in order, one per call (pages too); the last one stays. */
function answers(...list: Answer[]): void {
  let next = 0;
  ecrMock.on(DescribeImageScanFindingsCommand).callsFake((input: DescribeImageScanFindingsCommandInput) => {
    reads.push({ input: { ...input }, at: clock.now() });
    const answer = list[Math.min(next++, list.length - 1)];
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  });
}

interface Run {
  result?: ScanResult;
  error?: Error;
  log: string[];
}

async function check(request: Partial<ScanRequest> = {}, options: { image?: string; endpoint?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const log: string[] = [];
  const activity = { info: (line: string) => log.push(line), error: (line: string) => log.push(line) } as unknown as ActivityLog;
  const full: ScanRequest = { failOnSeverity: 'CRITICAL', ignore: [], startScan: false, timeoutMs: 900_000, ...request };
  const registry = await openEcrRegistry({ region: 'eu-west-2', credentials: { accessKeyId: 'AKIAEXAMPLEEXAMPLE00', secretAccessKey: 'secret' } }, undefined, new Redactor());
  const ecrScans = registry.scans as ImageScanApi;
  // ECR's scanning, but for where its calls go: what the poll interval's test setting depends on.
  const scans: ImageScanApi = {
    readScanPage: (...args) => ecrScans.readScanPage(...args),
    startImageScan: (...args) => ecrScans.startImageScan(...args),
    lastEndpoint: () => options.endpoint,
  };
  try {
    const scanned = await checkScan({ registry, scans, repoName: 'team/app' }, parseImageRequest(options.image ?? '1.0', 'pull'), full, {
      log: activity,
      interruption,
      clock,
      env: options.env ?? {},
    });
    return { result: scanned, log };
  } catch (error) {
    return { error: error as Error, log };
  } finally {
    registry.close();
  }
}

function failed(run: Run): string {
  if (!run.error) throw new Error(`expected a failure, got ${JSON.stringify(run.result)}`);
  return run.error.message;
}

function passed(run: Run): ScanResult {
  if (!run.result) throw new Error(`expected a result, got ${run.error?.message ?? '?'}\n${run.log.join('\n')}`);
  return run.result;
}

/** The waits between reads, from the fake times the reads arrived at. */
const gaps = (): number[] => reads.slice(1).map((read, i) => read.at - reads[i].at);

beforeEach(() => {
  ecrMock.reset();
  clock = new FakeClock();
  interruption = new Interruption();
  reads = [];
  ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [{ repositoryName: 'team/app', repositoryUri: `${HOST}/team/app` }] });
});

describe('reading a scan', () => {
  it('reads every page, 1000 findings a page, and judges them all', async () => {
    const page = (from: number, count: number, severity: string) => Array.from({ length: count }, (_, i) => basic(`CVE-2024-${from + i}`, severity, 'pkg', '1'));
    const counts = { LOW: 2000, CRITICAL: 1 };
    answers(
      { ...result('COMPLETE', { findings: page(0, 1000, 'LOW'), counts }), nextToken: 't1' },
      { ...result('COMPLETE', { findings: page(1000, 1000, 'LOW'), counts }), nextToken: 't2' },
      result('COMPLETE', { findings: [basic('CVE-2024-9999', 'CRITICAL', 'openssl', '3.0.1')], counts }),
    );
    const run = await check({ failOnSeverity: 'CRITICAL' });
    expect(reads.map((r) => [r.input.maxResults, r.input.nextToken])).toEqual([[1000, undefined], [1000, 't1'], [1000, 't2']]);
    expect(run.result).toBeUndefined();
    expect(failed(run)).toMatch(/^123456789012\.dkr\.ecr\.eu-west-2\.amazonaws\.com\/team\/app:1\.0 fails the scan gate: 1 finding at CRITICAL or above/);
    // The result printed to the log before the error: every page was counted.
    const printed = JSON.parse(run.log.find((line) => line.startsWith('Scan result: '))?.slice('Scan result: '.length) ?? '{}') as ScanResult;
    expect(printed.counts).toEqual({ CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 2000, INFORMATIONAL: 0, UNDEFINED: 0 });
    expect(printed.findings[0]).toEqual({ name: 'CVE-2024-9999', severity: 'CRITICAL', package: 'openssl', version: '3.0.1', uri: 'https://cve.example/CVE-2024-9999' });
    expect(printed.findings).toHaveLength(50);
  });

  it('reads enhanced findings: the CVE id, package, version, fixed version where known, source URL; UNTRIAGED as UNDEFINED', async () => {
    answers(
      result('ACTIVE', {
        enhancedFindings: [
          enhanced('CVE-2022-49043', 'HIGH', 'libxml2', '2.9.14', 'NotAvailable', 8.1),
          enhanced('CVE-2024-0001', 'MEDIUM', 'zlib', '1.2.13', '1.2.14'),
          enhanced('CVE-2024-0002', 'UNTRIAGED', 'bash', '5.2'),
        ],
      }),
    );
    const scanned = passed(await check({ failOnSeverity: 'CRITICAL' }));
    expect(scanned).toEqual({
      image: `${HOST}/team/app:1.0`,
      digest: DIGEST,
      status: 'ACTIVE',
      scanType: 'ENHANCED',
      completedAt: COMPLETED.toISOString(),
      counts: { CRITICAL: 0, HIGH: 1, MEDIUM: 1, LOW: 0, INFORMATIONAL: 0, UNDEFINED: 1 },
      ignored: [],
      findings: [
        { name: 'CVE-2022-49043', severity: 'HIGH', package: 'libxml2', version: '2.9.14', uri: 'https://nvd.example/CVE-2022-49043' },
        { name: 'CVE-2024-0001', severity: 'MEDIUM', package: 'zlib', version: '1.2.13', fixedIn: '1.2.14', uri: 'https://nvd.example/CVE-2024-0001' },
        { name: 'CVE-2024-0002', severity: 'UNDEFINED', package: 'bash', version: '5.2', uri: 'https://nvd.example/CVE-2024-0002' },
      ],
      passed: true,
    });
  });

  it('reads a basic scan as BASIC, an enhanced one on push (COMPLETE with enhancedFindings) as ENHANCED', async () => {
    answers(result('COMPLETE', { findings: [basic('CVE-1', 'LOW')] }));
    expect(passed(await check()).scanType).toBe('BASIC');
    answers(result('COMPLETE', { enhancedFindings: [enhanced('CVE-1', 'LOW', 'a', '1')] }));
    expect(passed(await check()).scanType).toBe('ENHANCED');
  });

  it('asks by tag first, then by the digest ECR answered with, so a tag moved meanwhile cannot swap the image', async () => {
    answers(statusOnly('IN_PROGRESS'), result('COMPLETE', { findings: [] }));
    passed(await check({}, { image: '1.0' }));
    expect(reads.map((r) => r.input.imageId)).toEqual([{ imageTag: '1.0' }, { imageDigest: DIGEST }]);
    reads = [];
    answers(result('COMPLETE', { findings: [] }));
    passed(await check({}, { image: `team/app@${DIGEST}` }));
    expect(reads.map((r) => r.input.imageId)).toEqual([{ imageDigest: DIGEST }]);
    // A digest alone, as the ECR console and a push's result write it, or with a reference's "@".
    for (const image of [DIGEST, `@${DIGEST}`]) {
      reads = [];
      answers(result('COMPLETE', { findings: [] }));
      passed(await check({}, { image }));
      expect(reads.map((r) => r.input.imageId)).toEqual([{ imageDigest: DIGEST }]);
    }
  });

  it('refuses an answer for another digest than the one pinned, or one without a digest', async () => {
    answers(statusOnly('IN_PROGRESS'), result('COMPLETE', { findings: [] }, OTHER));
    expect(failed(await check())).toBe(`ECR DescribeImageScanFindings answered for ${OTHER}, not for ${DIGEST} (team/app:1.0) as asked`);
    answers({ imageScanStatus: { status: 'COMPLETE' }, imageScanFindings: { findings: [], imageScanCompletedAt: COMPLETED } });
    expect(failed(await check())).toBe('ECR DescribeImageScanFindings answered for team/app:1.0 without the image\'s digest');
  });

  it('reads again when a later page belongs to a newer scan than the first', async () => {
    const newer = { ...result('COMPLETE', { findings: [basic('CVE-2', 'LOW')] }) };
    newer.imageScanFindings = { ...newer.imageScanFindings, imageScanCompletedAt: new Date(COMPLETED.getTime() + 60_000) };
    answers({ ...result('COMPLETE', { findings: [basic('CVE-1', 'LOW')] }), nextToken: 't1' }, newer, newer);
    const run = await check();
    expect(passed(run).findings.map((f) => f.name)).toEqual(['CVE-2']);
    expect(reads.map((r) => r.input.nextToken)).toEqual([undefined, 't1', undefined]);
    expect(run.log).toContain('The scan of team/app:1.0 changed while its pages were read (a newer scan completed); reading it again in 5 s (0 of 900 s)');
  });
});

describe('waiting for a usable result', () => {
  it('waits while IN_PROGRESS and PENDING, then judges the result', async () => {
    answers(statusOnly('PENDING', 'Pending initial scan.'), statusOnly('IN_PROGRESS'), result('COMPLETE', { findings: [basic('CVE-1', 'HIGH')] }));
    const run = await check({ failOnSeverity: 'HIGH' });
    expect(failed(run)).toMatch(/1 finding at HIGH or above/);
    expect(reads).toHaveLength(3);
    expect(run.log).toContain('The scan of team/app:1.0 is PENDING (Pending initial scan.); reading it again in 5 s (0 of 900 s)');
  });

  it('waits for enhanced findings that ECR reports ACTIVE or COMPLETE before they are there', async () => {
    for (const status of ['ACTIVE', 'COMPLETE']) {
      reads = [];
      answers(notYet(status), notYet(status), result(status, { enhancedFindings: [enhanced('CVE-2024-7', 'CRITICAL', 'openssl', '3.0.1')] }));
      const run = await check();
      expect(failed(run)).toMatch(/^\S+ fails the scan gate: 1 finding at CRITICAL or above \(failOnSeverity\); counts CRITICAL 1; worst: CVE-2024-7 \(CRITICAL, openssl 3\.0\.1\)\./);
      expect(reads).toHaveLength(3); // the two empty answers were not taken for "no findings"
      expect(run.log).toContain(`The scan of team/app:1.0 reads ${status} but its findings are not there yet (no imageScanCompletedAt); reading it again in 5 s (0 of 900 s)`);
    }
  });

  it('an enhanced result whose findings never come ends at the deadline, never passing', async () => {
    answers(notYet('ACTIVE'));
    const run = await check({ timeoutMs: 60_000 });
    expect(failed(run)).toBe(
      'No usable scan result for team/app:1.0 within 60 s: the scan reads ACTIVE but its findings are not there yet (no imageScanCompletedAt). Raise scanTimeoutSeconds (at most 3600), or look at the image\'s scan in the ECR console',
    );
  });

  it('backs off from 5 s to 30 s, never reads sooner than 5 s after the last read, and never past the deadline', async () => {
    answers(statusOnly('IN_PROGRESS'));
    const run = await check({ timeoutMs: 200_000 });
    expect(failed(run)).toMatch(/^No usable scan result for team\/app:1\.0 within 200 s: the scan is IN_PROGRESS/);
    expect(gaps()).toEqual([5000, 7500, 11250, 16875, 25312.5, 30000, 30000, 30000, 30000, 13062.5]);
    expect(Math.min(...gaps())).toBeGreaterThanOrEqual(5000);
    expect(reads.at(-1)?.at).toBeLessThanOrEqual(START + 200_000);
    expect(clock.time).toBeLessThanOrEqual(START + 200_000);
  });

  it('the last read starts with time left to be answered: a scan that completes by then is judged, not timed out', async () => {
    // Reads at 0, 5, 12.5, 23.75, 40.6, 65.9, then every 30 s to 185.9 s; the last one fits before 200 s.
    answersUnlessAborted(...Array.from({ length: 10 }, () => statusOnly('IN_PROGRESS')), result('COMPLETE', { findings: [] }));
    const run = await check({ timeoutMs: 200_000 });
    expect(passed(run)).toMatchObject({ status: 'COMPLETE', passed: true });
    expect(reads).toHaveLength(11);
    expect(reads.at(-1)?.at).toBe(START + 199_000);
  });

  it.each([1_000, 4_999, 5_000, 9_999, 61_234, 3_600_000])('with a timeout of %i ms: no read after the deadline, none closer than 5 s', async (timeoutMs) => {
    answers(statusOnly('IN_PROGRESS'));
    failed(await check({ timeoutMs }));
    expect(reads.every((r) => r.at <= START + timeoutMs - 1000)).toBe(true);
    expect(gaps().every((gap) => gap >= 5000)).toBe(true);
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(timeoutMs);
  });

  it('a call that does not answer is abandoned at the deadline', async () => {
    hangingReads();
    let settled = false;
    const running = check({ timeoutMs: 30_000 }).finally(() => (settled = true));
    await until(() => reads.length === 1);
    clock.advance(29_999);
    await flush();
    expect(settled).toBe(false);
    clock.advance(1);
    const run = await running;
    expect(failed(run)).toBe(
      'No usable scan result for team/app:1.0 within 30 s: the scan was not read. Raise scanTimeoutSeconds (at most 3600), or look at the image\'s scan in the ECR console',
    );
    expect(aborted).toBe(1);
  });

  it('an interrupt (SIGTERM) aborts the call under way and ends the action with the interruption', async () => {
    hangingReads();
    const running = check();
    await until(() => reads.length === 1);
    (interruption as unknown as { handler(signal: NodeJS.Signals): void }).handler('SIGTERM');
    const run = await running;
    expect(failed(run)).toBe('The action was interrupted (SIGTERM)');
    expect(aborted).toBe(1);
    expect(clock.time).toBe(START); // at once: no wait, no further read
    expect(reads).toHaveLength(1);
  });
});

/** How many calls were aborted through their abortSignal. */
let aborted = 0;

/** DescribeImageScanFindings never answers; it rejects as the SDK's handler does once its signal aborts. */
function hangingReads(): void {
  aborted = 0;
  // The whole send() (typed with the command alone): the abortSignal comes in its second argument.
  type Send = Parameters<typeof ecrMock.send.callsFake>[0];
  const send = (command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown> => {
    if (command instanceof DescribeRepositoriesCommand) return Promise.resolve({ repositories: [{ repositoryName: 'team/app', repositoryUri: `${HOST}/team/app` }] });
    reads.push({ input: (command as DescribeImageScanFindingsCommand).input, at: clock.now() });
    return new Promise((_resolve, reject) => {
      options?.abortSignal?.addEventListener('abort', () => {
        aborted += 1;
        reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
      });
    });
  };
  ecrMock.send.callsFake(send as unknown as Send);
}

/** As answers(), but a read whose signal has already aborted (no time left) fails as the SDK's handler fails it, unanswered. */
function answersUnlessAborted(...list: DescribeImageScanFindingsResponse[]): void {
  let next = 0;
  type Send = Parameters<typeof ecrMock.send.callsFake>[0];
  const send = (command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown> => {
    if (command instanceof DescribeRepositoriesCommand) return Promise.resolve({ repositories: [{ repositoryName: 'team/app', repositoryUri: `${HOST}/team/app` }] });
    if (options?.abortSignal?.aborted) return Promise.reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
    reads.push({ input: (command as DescribeImageScanFindingsCommand).input, at: clock.now() });
    return Promise.resolve(list[Math.min(next++, list.length - 1)]);
  };
  ecrMock.send.callsFake(send as unknown as Send);
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await flush();
  if (!condition()) throw new Error('the condition never held');
}

describe('what each status means', () => {
  it.each([
    ['FAILED', /^The scan of team\/app:1\.0 failed \(FAILED: why it failed\): start a new scan/],
    ['UNSUPPORTED_IMAGE', /^ECR cannot scan team\/app:1\.0 \(UNSUPPORTED_IMAGE: why it failed\): its operating system or package manager is not supported/],
    ['SCAN_ELIGIBILITY_EXPIRED', /^The scan of team\/app:1\.0 has expired \(SCAN_ELIGIBILITY_EXPIRED: why it failed\): Amazon Inspector no longer rescans it; push the image again/],
    ['FINDINGS_UNAVAILABLE', /^ECR has no findings for team\/app:1\.0 \(FINDINGS_UNAVAILABLE: why it failed\): check that Amazon Inspector covers the repository/],
    ['LIMIT_EXCEEDED', /^ECR did not scan team\/app:1\.0 \(LIMIT_EXCEEDED: why it failed\): the account's scan quota is used up/],
    ['IMAGE_ARCHIVED', /^team\/app:1\.0 is archived \(IMAGE_ARCHIVED: why it failed\), and archived images are not scanned/],
    ['SOMETHING_NEW', /^ECR DescribeImageScanFindings answered \(SOMETHING_NEW: why it failed\) for team\/app:1\.0, a status this plugin does not know/],
  ])('%s ends the action at once with its own line', async (status, message) => {
    answers(statusOnly(status, 'why it failed'));
    const error = failed(await check());
    expect(error).toMatch(message);
    expect(error).not.toContain('\n');
    expect(reads).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('no status at all is not a result', async () => {
    answers({ imageId: { imageDigest: DIGEST } });
    expect(failed(await check())).toMatch(/^ECR DescribeImageScanFindings answered \(\(none\)\) for team\/app:1\.0, a status this plugin does not know/);
  });

  it('an image without a scan fails, saying how to get one', async () => {
    answers(awsError('ScanNotFoundException', 'Image scan does not exist for the image'));
    expect(failed(await check())).toBe(
      'team/app:1.0 has no scan in ECR (ScanNotFoundException): turn on scan on push for the repository, set startScan to start a basic scan, or use enhanced scanning',
    );
    expect(ecrMock.commandCalls(StartImageScanCommand)).toHaveLength(0);
  });

  it('startScan: starts a basic scan by the tag, then waits for it by the digest StartImageScan names', async () => {
    answers(awsError('ScanNotFoundException'), statusOnly('IN_PROGRESS'), result('COMPLETE', { findings: [basic('CVE-1', 'MEDIUM', 'curl', '8.0')] }));
    ecrMock.on(StartImageScanCommand).resolves({ imageId: { imageDigest: DIGEST, imageTag: '1.0' }, imageScanStatus: { status: 'IN_PROGRESS' } });
    const run = await check({ startScan: true });
    const scanned = passed(run);
    expect(scanned).toMatchObject({ status: 'COMPLETE', scanType: 'BASIC', counts: { MEDIUM: 1 }, passed: true });
    expect(ecrMock.commandCalls(StartImageScanCommand).map((c) => c.args[0].input)).toEqual([{ registryId: undefined, repositoryName: 'team/app', imageId: { imageTag: '1.0' } }]);
    expect(reads.map((r) => r.input.imageId)).toEqual([{ imageTag: '1.0' }, { imageDigest: DIGEST }, { imageDigest: DIGEST }]);
    expect(gaps().every((gap) => gap >= 5000)).toBe(true); // the new scan is not read at once
    expect(run.log).toContain(`team/app:1.0 had no scan: started a basic scan of ${DIGEST} (StartImageScan: IN_PROGRESS)`);
  });

  it('startScan: a scan that StartImageScan cannot start ends with its AWS error', async () => {
    answers(awsError('ScanNotFoundException'));
    ecrMock.on(StartImageScanCommand).rejects(awsError('UnsupportedImageTypeException', 'The image is of a type that cannot be scanned.'));
    expect(failed(await check({ startScan: true }))).toBe(
      'ECR StartImageScan failed: UnsupportedImageTypeException: The image is of a type that cannot be scanned. (request id: req-1)',
    );
  });

  it('a full reference into another repository of this registry is refused before any scan is read or started', async () => {
    answers(awsError('ScanNotFoundException'));
    ecrMock.on(StartImageScanCommand).resolves({ imageId: { imageDigest: DIGEST }, imageScanStatus: { status: 'IN_PROGRESS' } });
    const run = await check({ startScan: true }, { image: `${HOST}/team/other:1.0` });
    expect(failed(run)).toBe('Parameter "imageName": names repository "team/other" in this registry, but "repoName" is "team/app"; make them agree');
    expect(reads).toHaveLength(0);
    expect(ecrMock.commandCalls(StartImageScanCommand)).toHaveLength(0);
  });

  it('an image that is not there is an error naming imageName; other AWS errors come through describeAwsError', async () => {
    answers(awsError('ImageNotFoundException'));
    expect(failed(await check())).toBe('Parameter "imageName": team/app:1.0 is not in the registry: no such tag or digest in repository "team/app"');
    answers(awsError('AccessDeniedException', 'not authorized to perform: ecr:DescribeImageScanFindings'));
    expect(failed(await check())).toBe('ECR DescribeImageScanFindings failed: AccessDeniedException: not authorized to perform: ecr:DescribeImageScanFindings (request id: req-1)');
  });
});

describe('judging the findings', () => {
  const mixed = [
    basic('CVE-LOW-1', 'LOW', 'a', '1'),
    basic('CVE-CRIT-LOW-SCORE', 'CRITICAL', 'b', '1', 9.0),
    basic('CVE-INFO', 'INFORMATIONAL', 'c', '1'),
    basic('CVE-MED', 'MEDIUM', 'd', '1'),
    basic('CVE-UNDEF', 'UNDEFINED', 'e', '1'),
    basic('CVE-CRIT-HIGH-SCORE', 'CRITICAL', 'f', '1', 9.8),
    basic('CVE-HIGH', 'HIGH', 'g', '1'),
  ];

  it('orders findings most severe first, by score within a severity, and keeps the 50 most severe', async () => {
    const many = Array.from({ length: 120 }, (_, i) => basic(`CVE-FILL-${String(i).padStart(3, '0')}`, i % 2 === 0 ? 'LOW' : 'MEDIUM'));
    answers(result('COMPLETE', { findings: [...mixed, ...many] }));
    const scanned = passed(await check({ failOnSeverity: 'NONE' }));
    expect(scanned.findings.slice(0, 3).map((f) => f.name)).toEqual(['CVE-CRIT-HIGH-SCORE', 'CVE-CRIT-LOW-SCORE', 'CVE-HIGH']);
    expect(scanned.findings).toHaveLength(50);
    // 61 MEDIUM come before any LOW, by name among themselves (none has a score).
    expect(scanned.findings.slice(3).every((f) => f.severity === 'MEDIUM')).toBe(true);
    expect(scanned.findings.slice(3, 6).map((f) => f.name)).toEqual(['CVE-FILL-001', 'CVE-FILL-003', 'CVE-FILL-005']);
    expect(scanned.counts).toEqual({ CRITICAL: 2, HIGH: 1, MEDIUM: 61, LOW: 61, INFORMATIONAL: 1, UNDEFINED: 1 });
  });

  it.each([
    ['CRITICAL', false],
    ['NONE', true],
  ] as const)('failOnSeverity %s with a CRITICAL finding: passed %s', async (threshold, expected) => {
    answers(result('COMPLETE', { findings: mixed }));
    const run = await check({ failOnSeverity: threshold });
    expect(run.result?.passed ?? false).toBe(expected);
  });

  it.each([
    ['CRITICAL', ['CRITICAL']],
    ['HIGH', ['CRITICAL', 'HIGH']],
    ['MEDIUM', ['CRITICAL', 'HIGH', 'MEDIUM']],
    ['LOW', ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW']],
    ['INFORMATIONAL', ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL']],
    ['UNDEFINED', ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED']],
    ['NONE', []],
  ] as const)('failOnSeverity %s fails on exactly %j', async (threshold, failing) => {
    for (const severity of ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED']) {
      answers(result('COMPLETE', { findings: [basic(`CVE-${severity}`, severity)] }));
      const run = await check({ failOnSeverity: threshold });
      expect({ severity, passed: run.result?.passed ?? false }).toEqual({ severity, passed: !(failing as readonly string[]).includes(severity) });
    }
  });

  it('the gate error names the threshold, the counts and the worst three findings; the log has the whole result first', async () => {
    answers(result('COMPLETE', { findings: mixed }));
    const run = await check({ failOnSeverity: 'MEDIUM' });
    expect(failed(run)).toBe(
      `${HOST}/team/app:1.0 fails the scan gate: 4 findings at MEDIUM or above (failOnSeverity); ` +
        'counts CRITICAL 2, HIGH 1, MEDIUM 1, LOW 1, INFORMATIONAL 1, UNDEFINED 1; ' +
        'worst: CVE-CRIT-HIGH-SCORE (CRITICAL, f 1); CVE-CRIT-LOW-SCORE (CRITICAL, b 1); CVE-HIGH (HIGH, g 1), …. ' +
        'The full result is in the activity log; fix the image, or list accepted findings in ignoreFindings',
    );
    const printed = run.log.find((line) => line.startsWith('Scan result: '));
    expect(JSON.parse(printed?.slice('Scan result: '.length) ?? 'null')).toMatchObject({ passed: false, digest: DIGEST, counts: { CRITICAL: 2 } });
  });

  it('ignores listed findings (any case), through their day; an expired entry no longer ignores, and the log says so', async () => {
    answers(result('COMPLETE', { findings: mixed }));
    // The fake today is 2026-06-15.
    const run = await check({
      failOnSeverity: 'HIGH',
      ignore: [{ name: 'cve-crit-high-score' }, { name: 'CVE-CRIT-LOW-SCORE', until: '2026-06-15' }, { name: 'CVE-HIGH', until: '2026-06-14' }, { name: 'CVE-GONE', until: '2020-01-01' }],
    });
    const printed = JSON.parse(run.log.find((line) => line.startsWith('Scan result: '))?.slice('Scan result: '.length) ?? 'null') as ScanResult;
    expect(printed.ignored).toEqual(['CVE-CRIT-HIGH-SCORE', 'CVE-CRIT-LOW-SCORE']);
    expect(printed.counts).toMatchObject({ CRITICAL: 0, HIGH: 1 });
    expect(printed.findings.map((f) => f.name)).not.toContain('CVE-CRIT-HIGH-SCORE');
    expect(failed(run)).toMatch(/: 1 finding at HIGH or above .*worst: CVE-HIGH \(HIGH, g 1\)\./);
    expect(run.log).toContain('ignoreFindings: "CVE-HIGH until 2026-06-14" has expired and no longer ignores CVE-HIGH, which is among the findings and counts');
    expect(run.log).toContain('ignoreFindings: "CVE-GONE until 2020-01-01" has expired and no longer ignores CVE-GONE (not among the findings)');
    // A day later, the entry that ran through 2026-06-15 has expired too.
    clock.time += 24 * 3600 * 1000;
    answers(result('COMPLETE', { findings: mixed }));
    const later = await check({ failOnSeverity: 'HIGH', ignore: [{ name: 'CVE-CRIT-HIGH-SCORE' }, { name: 'CVE-CRIT-LOW-SCORE', until: '2026-06-15' }, { name: 'CVE-HIGH' }] });
    expect(failed(later)).toMatch(/: 1 finding at HIGH or above .*worst: CVE-CRIT-LOW-SCORE \(CRITICAL, b 1\)\./);
  });

  it('an expired entry for a finding that another entry still ignores: the log says it is still ignored', async () => {
    answers(result('COMPLETE', { findings: mixed }));
    const run = await check({ failOnSeverity: 'HIGH', ignore: [{ name: 'CVE-HIGH', until: '2026-06-14' }, { name: 'CVE-HIGH', until: '2026-12-31' }, { name: 'CVE-CRIT-HIGH-SCORE' }, { name: 'CVE-CRIT-LOW-SCORE' }] });
    expect(passed(run)).toMatchObject({ passed: true, ignored: ['CVE-CRIT-HIGH-SCORE', 'CVE-CRIT-LOW-SCORE', 'CVE-HIGH'] });
    expect(run.log).toContain('ignoreFindings: "CVE-HIGH until 2026-06-14" has expired and no longer ignores CVE-HIGH, but another entry still ignores it');
  });

  it('findings ECR counts but does not list count too, and cannot be ignored', async () => {
    answers(result('COMPLETE', { findings: [basic('CVE-1', 'HIGH')], counts: { HIGH: 3, LOW: 1 } }));
    const run = await check({ failOnSeverity: 'HIGH', ignore: [{ name: 'CVE-1' }] });
    expect(failed(run)).toMatch(/: 2 findings at HIGH or above \(failOnSeverity\); counts HIGH 2, LOW 1; worst: \(not listed by ECR\)\./);
    expect(run.log).toContain('ECR counts 3 HIGH findings but listed 1: the 2 it did not list count too');
  });
});

describe('the poll interval', () => {
  it('a test setting for a shorter interval is ignored unless the endpoint is on this machine', async () => {
    answers(statusOnly('IN_PROGRESS'), statusOnly('IN_PROGRESS'), result('COMPLETE', { findings: [] }));
    const env = { KAHOLO_ECR_SCAN_POLL_MS: '50' };
    const run = await check({}, { env, endpoint: 'https://api.ecr.eu-west-2.amazonaws.com' });
    passed(run);
    expect(gaps()).toEqual([5000, 7500]);
    expect(run.log).toContain('KAHOLO_ECR_SCAN_POLL_MS is ignored: it is for tests against a local endpoint, and ECR is read at most every 5 s');
    reads = [];
    answers(statusOnly('IN_PROGRESS'), statusOnly('IN_PROGRESS'), result('COMPLETE', { findings: [] }));
    passed(await check({}, { env }));
    expect(gaps()).toEqual([5000, 7500]); // no endpoint known: not local
  });

  it('against a local endpoint the test setting applies, and still grows and ends at the deadline', async () => {
    answers(statusOnly('IN_PROGRESS'));
    const run = await check({ timeoutMs: 1_000 }, { env: { KAHOLO_ECR_SCAN_POLL_MS: '50' }, endpoint: 'http://127.0.0.1:4566' });
    failed(run);
    expect(gaps().slice(0, 4)).toEqual([50, 75, 112.5, 168.75]);
    expect(Math.max(...gaps())).toBe(300);
    expect(reads.at(-1)?.at).toBeLessThanOrEqual(START + 1_000);
    expect(run.log).toContain('Reading the local endpoint every 50 ms or more (KAHOLO_ECR_SCAN_POLL_MS, a test setting)');
  });

  it.each(['5', '5001', 'fast', '-1'])('a test setting of %j is refused', async (value) => {
    answers(statusOnly('IN_PROGRESS'));
    expect(failed(await check({}, { env: { KAHOLO_ECR_SCAN_POLL_MS: value }, endpoint: 'http://127.0.0.1:4566' }))).toBe(
      "The agent's environment variable KAHOLO_ECR_SCAN_POLL_MS (for tests) must be a number of milliseconds from 10 to 5000",
    );
  });
});
