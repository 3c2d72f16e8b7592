import { ActivityLog } from '../../src/kaholo/activity-log';
import { DockerCommandError } from '../../src/docker/docker-cli';
import { Interruption } from '../../src/agent/interruption';
import { Redactor } from '../../src/kaholo/redactor';
import { retryDelayMs, transientReason, withRetries } from '../../src/docker/docker-retries';
import { TimeLimit } from '../../src/params/time-limit';
import { DEFAULT_ATTEMPTS, DEFAULT_BASE_DELAY_MS } from '../../src/params/transfer-options';
import { captureOutput } from '../support/capture-output';

const failure = (stderr: string): DockerCommandError => new DockerCommandError(`docker push failed: ${stderr}`, stderr);

describe('transientReason', () => {
  it.each([
    ['Error response from daemon: Get "http://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused', 'connection refused'],
    ['read tcp 10.0.0.2:51234->52.1.2.3:443: read: connection reset by peer', 'connection reset'],
    ['Get "https://r.example/v2/": net/http: TLS handshake timeout', 'TLS handshake timeout'],
    ['dial tcp 52.1.2.3:443: i/o timeout', 'timeout'],
    ['dial tcp: lookup r.example: Temporary failure in name resolution', 'temporary DNS failure'],
    ['Put "https://r.example/v2/app/blobs/uploads/x": unexpected EOF', 'unexpected EOF'],
    ['toomanyrequests: Rate exceeded', 'HTTP 429 too many requests'],
    ['received unexpected HTTP status: 502 Bad Gateway', 'HTTP 502 bad gateway'],
    ['received unexpected HTTP status: 503 Service Unavailable', 'HTTP 503 service unavailable'],
    ['received unexpected HTTP status: 504 Gateway Time-out', 'HTTP 504 gateway timeout'],
  ])('retries %s', (stderr, reason) => {
    expect(transientReason(failure(stderr))).toBe(reason);
  });

  it.each([
    'Error response from daemon: login attempt to https://r.example/v2/ failed with status: 401 Unauthorized',
    'denied: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecr:InitiateLayerUpload',
    'name unknown: The repository with name \'app\' does not exist in the registry with id \'123456789012\'',
    'tag invalid: The image tag \'1.0\' already exists in the \'app\' repository and cannot be overwritten because the repository is immutable.',
    'manifest unknown: manifest unknown',
    'An image does not exist locally with the tag: r.example/app',
    'invalid reference format',
    // A refusal wins over a transient word in the same output.
    'unauthorized: authentication required (after 503 Service Unavailable)',
  ])('never retries %s', (stderr) => {
    expect(transientReason(failure(stderr))).toBeUndefined();
  });

  it('never retries what is not docker saying so (bad input, an interrupt, a time limit)', () => {
    expect(transientReason(new Error('connection refused'))).toBeUndefined();
  });
});

describe('the default policy', () => {
  it(`makes ${DEFAULT_ATTEMPTS} attempts over at least 5 s, doubling with jitter`, () => {
    const policy = { attempts: DEFAULT_ATTEMPTS, baseDelayMs: DEFAULT_BASE_DELAY_MS };
    expect(DEFAULT_ATTEMPTS).toBeGreaterThanOrEqual(3);
    for (let i = 0; i < 50; i++) {
      const waits = [1, 2].map((retry) => retryDelayMs(policy, retry));
      expect(waits[0]).toBeGreaterThanOrEqual(2000);
      expect(waits[0]).toBeLessThanOrEqual(3000);
      expect(waits[1]).toBeGreaterThanOrEqual(4000);
      expect(waits[1]).toBeLessThanOrEqual(6000);
      expect(waits[0] + waits[1]).toBeGreaterThanOrEqual(5000);
    }
  });
});

describe('withRetries', () => {
  const context = (): { log: ActivityLog; interruption: Interruption } => ({
    log: new ActivityLog(new Redactor()),
    interruption: new Interruption(),
  });

  it('retries a transient failure, logging the reason and the wait, until it succeeds', async () => {
    let calls = 0;
    const { result, output } = await captureOutput(() =>
      withRetries('docker push', { attempts: 3, baseDelayMs: 10 }, context(), () => {
        calls += 1;
        return calls < 3 ? Promise.reject(failure('connect: connection refused')) : Promise.resolve('pushed');
      }),
    );
    expect(result).toBe('pushed');
    expect(output).toMatch(/^docker push failed \(connection refused\); retrying in 0\.0 s \(attempt 2 of 3\)\ndocker push failed \(connection refused\); retrying in 0\.0 s \(attempt 3 of 3\)\n$/);
  });

  it('gives up after the last attempt, and at once on a refusal or with one attempt', async () => {
    const count = async (attempts: number, stderr: string): Promise<number> => {
      let calls = 0;
      await captureOutput(() =>
        withRetries('docker pull', { attempts, baseDelayMs: 1 }, context(), () => {
          calls += 1;
          return Promise.reject(failure(stderr));
        }),
      );
      return calls;
    };
    expect(await count(4, '503 Service Unavailable')).toBe(4);
    expect(await count(4, 'manifest unknown')).toBe(1);
    expect(await count(1, '503 Service Unavailable')).toBe(1);
  });

  describe('under a time limit (a fake clock)', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('waits for no retry that could not start before the limit, and says so naming transferTimeLimit', async () => {
      const limit = new TimeLimit(1, 5000, 'push');
      const started = Date.now();
      const tries: number[] = [];
      const { result: outcome } = await captureOutput(async () => {
        const running = withRetries('docker login', { attempts: 10, baseDelayMs: 1000 }, { ...context(), limit }, () => {
          tries.push(Date.now() - started);
          return Promise.reject(failure('dial tcp 127.0.0.1:5000: connect: connection refused'));
        }).then(
          () => undefined,
          (error: unknown) => error,
        );
        await jest.runAllTimersAsync();
        return running;
      });
      // 1-1.5 s, then 2-3 s: the third try by 4.5 s; the next wait (4-6 s) would pass 5 s, so none.
      expect(tries).toHaveLength(3);
      expect(Date.now() - started).toBe(tries[2]);
      expect(Date.now() - started).toBeLessThan(5000);
      expect((outcome as Error).message).toBe(
        'Parameter "transferTimeLimit": the push did not finish within 1 minute: docker login failed 3 times (connection refused) ' +
          'and the limit came before the next try (last: docker push failed: dial tcp 127.0.0.1:5000: connect: connection refused)',
      );
    });

    it('retries as usual while the limit is far', async () => {
      const limit = new TimeLimit(60, 3_600_000, 'pull');
      let calls = 0;
      const { result } = await captureOutput(async () => {
        const running = withRetries('docker pull', { attempts: 10, baseDelayMs: 1000 }, { ...context(), limit }, () => {
          calls += 1;
          return Promise.reject(failure('503 Service Unavailable'));
        }).catch((error: unknown) => error);
        await jest.runAllTimersAsync();
        return running;
      });
      expect(calls).toBe(10);
      expect((result as Error).message).toBe('docker push failed: 503 Service Unavailable');
    });
  });
});
