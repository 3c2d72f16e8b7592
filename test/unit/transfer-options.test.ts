import { ParamReader } from '../../src/kaholo/param-reader';
import { readTransferOptions } from '../../src/params/transfer-options';

const read = (params: Record<string, unknown>, settings: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) =>
  readTransferOptions(new ParamReader(params, settings), 'push', env);

describe('readTransferOptions', () => {
  it('defaults to 3 attempts from 2 s, a 60-minute limit and 15 minutes without progress', () => {
    const options = read({});
    expect(options).toMatchObject({ retry: { attempts: 3, baseDelayMs: 2000 }, limit: { minutes: 60, ms: 60 * 60_000 }, stallMs: 15 * 60_000 });
  });

  it('takes the plugin settings, and the action params over them', () => {
    expect(read({}, { transferAttempts: '5', transferTimeLimit: '10' })).toMatchObject({ retry: { attempts: 5 }, limit: { minutes: 10, ms: 10 * 60_000 } });
    expect(read({ transferAttempts: '1', transferTimeLimit: '2' }, { transferAttempts: '5', transferTimeLimit: '10' })).toMatchObject({
      retry: { attempts: 1 },
      limit: { minutes: 2, ms: 2 * 60_000 },
      stallMs: 2 * 60_000, // never beyond the whole limit
    });
  });

  it('takes numbers set from the pipeline\'s code as the form\'s text, in the action and the settings', () => {
    expect(read({ transferAttempts: 4, transferTimeLimit: 5 })).toMatchObject({ retry: { attempts: 4 }, limit: { minutes: 5 } });
    expect(read({}, { transferAttempts: 6, transferTimeLimit: 7 })).toMatchObject({ retry: { attempts: 6 }, limit: { minutes: 7 } });
    expect(() => read({ transferAttempts: 2.5 })).toThrow('Parameter "transferAttempts": is "2.5"; expected a whole number from 1 to 10');
    expect(() => read({ transferTimeLimit: Number.NaN })).toThrow('Parameter "transferTimeLimit": is a number; expected a string');
  });

  it('names the param or setting and what is expected', () => {
    expect(() => read({ transferAttempts: '0' })).toThrow('Parameter "transferAttempts": is "0"; expected a whole number from 1 to 10');
    expect(() => read({}, { transferTimeLimit: '1e3' })).toThrow('Parameter "transferTimeLimit": is "1e3"; expected a whole number from 1 to 1440');
  });

  it('lets the environment shorten the stall bound and a minute for tests, and nothing else', () => {
    expect(read({}, {}, { KAHOLO_ECR_STALL_MS: '1500' })).toMatchObject({ retry: { baseDelayMs: 2000 }, stallMs: 1500 });
    // Once a test-only knob, read by no test: the retry waits are the documented ones whatever the environment says.
    expect(read({}, {}, { KAHOLO_ECR_RETRY_BASE_MS: '50' }).retry).toEqual(read({}).retry);
    const options = read({ transferTimeLimit: '2' }, {}, { KAHOLO_ECR_TEST_MINUTE_MS: '1000' });
    expect(options.limit).toMatchObject({ minutes: 2, ms: 2000 });
    expect(options.stallMs).toBe(2000);
  });

  it('starts the clock when the action reads it', () => {
    jest.useFakeTimers();
    try {
      const { limit } = read({ transferTimeLimit: '1' });
      expect(limit.remainingMs()).toBe(60_000);
      jest.advanceTimersByTime(59_000);
      expect(limit.remainingMs()).toBe(1000);
      jest.advanceTimersByTime(5000);
      expect(limit.remainingMs()).toBe(0);
      expect(limit.exceeded('docker push was stopped').message).toBe(
        'Parameter "transferTimeLimit": the push did not finish within 1 minute: docker push was stopped',
      );
    } finally {
      jest.useRealTimers();
    }
  });
});
