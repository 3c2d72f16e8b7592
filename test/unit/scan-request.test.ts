import { ParamReader } from '../../src/kaholo/param-reader';
import { ignoreState, parseIgnoreEntry } from '../../src/scan/ignore-list';
import { isLoopback, minimumPollInterval, PollSchedule } from '../../src/scan/poll-schedule';
import { readScanRequest } from '../../src/scan/scan-request';

const read = (params: Record<string, unknown>) => readScanRequest(new ParamReader(params, {}));
const refusal = (params: Record<string, unknown>): string => {
  try {
    read(params);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the params to be refused');
};

describe('checkImageScan params', () => {
  it('has the documented defaults', () => {
    expect(read({ failOnSeverity: '', ignoreFindings: '', startScan: '', scanTimeoutSeconds: '' })).toEqual({ failOnSeverity: 'CRITICAL', ignore: [], startScan: false, timeoutMs: 900_000 });
    expect(read({ scanTimeoutSeconds: 120 }).timeoutMs).toBe(120_000); // a number set from the pipeline's code
  });

  it('reads each as Kaholo sends it: options, text lines or an array, booleans as strings', () => {
    expect(
      read({ failOnSeverity: 'NONE', ignoreFindings: 'CVE-2024-1\n CVE-2024-2 until 2026-12-31 ,GHSA-xxxx-yyyy', startScan: 'true', scanTimeoutSeconds: '3600' }),
    ).toEqual({
      failOnSeverity: 'NONE',
      ignore: [{ name: 'CVE-2024-1' }, { name: 'CVE-2024-2', until: '2026-12-31' }, { name: 'GHSA-xxxx-yyyy' }],
      startScan: true,
      timeoutMs: 3_600_000,
    });
    expect(read({ ignoreFindings: ['CVE-1 UNTIL 2026-01-01'], startScan: true }).ignore).toEqual([{ name: 'CVE-1', until: '2026-01-01' }]);
  });

  it.each([
    [{ failOnSeverity: 'high' }, 'Parameter "failOnSeverity": is "high"; expected one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNDEFINED, NONE'],
    [{ scanTimeoutSeconds: '3601' }, 'Parameter "scanTimeoutSeconds": is "3601"; expected a whole number of seconds from 1 to 3600'],
    [{ scanTimeoutSeconds: '0' }, 'Parameter "scanTimeoutSeconds": is "0"; expected a whole number of seconds from 1 to 3600'],
    [{ scanTimeoutSeconds: '1.5' }, 'Parameter "scanTimeoutSeconds": is "1.5"; expected a whole number of seconds from 1 to 3600'],
    [{ scanTimeoutSeconds: 3601 }, 'Parameter "scanTimeoutSeconds": is "3601"; expected a whole number of seconds from 1 to 3600'],
    [{ startScan: 'yes' }, 'Parameter "startScan": is "yes"; expected true or false'],
    [{ ignoreFindings: 'CVE-1 until tomorrow' }, 'Parameter "ignoreFindings": "CVE-1 until tomorrow" is not a finding name, optionally followed by "until YYYY-MM-DD" (such as "CVE-2024-1234 until 2025-06-30")'],
    [{ ignoreFindings: 'CVE-1 CVE-2' }, 'Parameter "ignoreFindings": "CVE-1 CVE-2" is not a finding name, optionally followed by "until YYYY-MM-DD" (such as "CVE-2024-1234 until 2025-06-30")'],
    [{ ignoreFindings: 'CVE-1 until 2026-02-30' }, 'Parameter "ignoreFindings": "CVE-1 until 2026-02-30": 2026-02-30 is not a day of the calendar'],
  ])('refuses %j', (params, message) => {
    expect(refusal(params)).toBe(message);
  });
});

describe('ignore entries', () => {
  it('ignore through their day (UTC), by name in any case, and are listed as expired from the day after', () => {
    const entries = [parseIgnoreEntry('CVE-A'), parseIgnoreEntry('cve-b until 2026-06-15'), parseIgnoreEntry('CVE-C until 2026-06-14')];
    const onTheDay = ignoreState(entries, '2026-06-15');
    expect(['CVE-A', 'cve-a', 'CVE-B', 'CVE-C', 'CVE-D'].map((name) => onTheDay.ignores(name))).toEqual([true, true, true, false, false]);
    expect(onTheDay.expired).toEqual([{ name: 'CVE-C', until: '2026-06-14' }]);
    const dayAfter = ignoreState(entries, '2026-06-16');
    expect(dayAfter.ignores('CVE-B')).toBe(false);
    expect(dayAfter.expired.map((e) => e.name)).toEqual(['cve-b', 'CVE-C']);
  });
});

describe('poll schedule', () => {
  it('grows from the minimum by half each time up to six times it, and fits the last wait to end a fifth of the minimum before the deadline', () => {
    const schedule = new PollSchedule(5000);
    const waits: Array<number | undefined> = [];
    let now = 0;
    for (let i = 0; i < 9; i++) {
      const wait = schedule.next(now, 120_000);
      waits.push(wait);
      now += wait ?? 0;
    }
    expect(waits).toEqual([5000, 7500, 11250, 16875, 25312.5, 30000, 23062.5, undefined, undefined]);
  });

  it('never waits less than the minimum, nor into the last fifth of it before the deadline: a deadline closer than that ends the waiting', () => {
    expect(new PollSchedule(5000).next(0, 5999)).toBeUndefined();
    expect(new PollSchedule(5000).next(0, 6000)).toBe(5000);
  });

  it.each([
    ['http://127.0.0.1:4566', true],
    ['http://127.8.9.10', true],
    ['http://localhost:80', true],
    ['http://[::1]:4566', true],
    ['https://api.ecr.eu-west-2.amazonaws.com', false],
    ['http://127.0.0.1.example.com', false],
    ['http://10.0.0.1:4566', false],
    [undefined, false],
  ])('%s is on this machine: %s', (endpoint, loopback) => {
    expect(isLoopback(endpoint)).toBe(loopback);
  });

  it('is 5 s, or the test setting against a local endpoint only', () => {
    expect(minimumPollInterval('http://127.0.0.1:1', {})).toEqual({ ms: 5000 });
    expect(minimumPollInterval('http://127.0.0.1:1', { KAHOLO_ECR_SCAN_POLL_MS: '200' }).ms).toBe(200);
    expect(minimumPollInterval('https://api.ecr.us-east-1.amazonaws.com', { KAHOLO_ECR_SCAN_POLL_MS: '200' }).ms).toBe(5000);
  });
});
