import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { HttpRequest } from '@smithy/protocol-http';
import { AwsRequestHandler, RetryUnlessUnanswered, collectNodeBody, unansweredCallBoundMs } from '../../src/aws/aws-http';
import { CONNECT_TIMEOUT_VARIABLE, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, REQUEST_TIMEOUT_VARIABLE, awsTimeouts } from '../../src/aws/transport-settings';
import { describeAwsError, escapeControl, oneLine, quote, shorten } from '../../src/errors';
import { markFault } from '../../src/aws/transport-faults';
import { proxyAgentFromEnv } from '../../src/aws/proxy-agent';
import { Redactor } from '../../src/kaholo/redactor';

describe('AWS timeouts', () => {
  it('defaults to a few seconds to connect and a minute per request', () => {
    expect(awsTimeouts({})).toEqual({ connectMs: DEFAULT_CONNECT_TIMEOUT_MS, requestMs: DEFAULT_REQUEST_TIMEOUT_MS });
    expect(DEFAULT_CONNECT_TIMEOUT_MS).toBe(5_000);
    expect(DEFAULT_REQUEST_TIMEOUT_MS).toBe(60_000);
  });

  it('bounds a call to an endpoint that never answers under 90 s with the defaults, retries included', () => {
    // Two connection timeouts with their retry waits, then the request timeout, which is not retried.
    expect(unansweredCallBoundMs(awsTimeouts({}))).toBe(5_000 + 6_000 + 5_000 + 7_000 + 60_000);
    expect(unansweredCallBoundMs(awsTimeouts({}))).toBeLessThanOrEqual(90_000);
  });

  it('takes shorter timeouts from the agent environment, and refuses what is not milliseconds', () => {
    expect(awsTimeouts({ [CONNECT_TIMEOUT_VARIABLE]: '250', [REQUEST_TIMEOUT_VARIABLE]: ' 1500 ' })).toEqual({ connectMs: 250, requestMs: 1_500 });
    for (const bad of ['1.5', '-1', '99', 'soon', '600001']) {
      expect(() => awsTimeouts({ [REQUEST_TIMEOUT_VARIABLE]: bad })).toThrow(
        `The agent's environment variable ${REQUEST_TIMEOUT_VARIABLE} must be a number of milliseconds from 100 to 600000`,
      );
    }
  });
});

describe('RetryUnlessUnanswered', () => {
  type RetryErrorInfo = Parameters<RetryUnlessUnanswered['refreshRetryTokenForRetry']>[1];
  // The SDK's timeouts are plain Errors named TimeoutError, seen by the retry strategy as SDK errors.
  const timeout = (message: string): RetryErrorInfo['error'] => Object.assign(new Error(message), { name: 'TimeoutError' }) as RetryErrorInfo['error'];

  it('does not retry a request that got no answer in the whole request timeout', async () => {
    const strategy = new RetryUnlessUnanswered();
    const token = await strategy.acquireInitialRetryToken('ecr');
    const unanswered = timeout('@smithy/node-http-handler - [ERROR] a request has exceeded the configured 60000 ms requestTimeout.');
    await expect(strategy.refreshRetryTokenForRetry(token, { errorType: 'TRANSIENT', error: unanswered })).rejects.toThrow('no retry');
  });

  it('retries a reset or closed connection, which the SDK also names TimeoutError, like a refused one', async () => {
    const strategy = new RetryUnlessUnanswered();
    for (const [message, code] of [['socket hang up', 'ECONNRESET'], ['read ECONNRESET', 'ECONNRESET'], ['write EPIPE', 'EPIPE']]) {
      const token = await strategy.acquireInitialRetryToken('ecr');
      const reset = Object.assign(new Error(message), { name: 'TimeoutError', code }) as RetryErrorInfo['error'];
      const next = await strategy.refreshRetryTokenForRetry(token, { errorType: 'CLIENT_ERROR', error: reset });
      expect(next.getRetryCount()).toBe(1);
    }
  });

  it('retries a connection timeout and a throttling error, as the SDK does', async () => {
    const strategy = new RetryUnlessUnanswered();
    const token = await strategy.acquireInitialRetryToken('ecr');
    const connect = timeout('the request socket did not establish a connection with the server within the configured timeout of 5000 ms.');
    const next = await strategy.refreshRetryTokenForRetry(token, { errorType: 'TRANSIENT', error: connect });
    expect(next.getRetryCount()).toBe(1);
  });
});

describe('AwsRequestHandler against a server that accepts and never answers', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((req) => req.resume());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('throws a TimeoutError after the request timeout and remembers the endpoint', async () => {
    const handler = new AwsRequestHandler({ connectMs: 1_000, requestMs: 300 }, undefined);
    const started = Date.now();
    const request = new HttpRequest({ protocol: 'http:', hostname: '127.0.0.1', port, method: 'POST', path: '/', headers: { host: `127.0.0.1:${port}` }, body: '{}' });
    const error = await handler.handle(request).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(handler.lastEndpoint).toBe(`http://127.0.0.1:${port}`);
    handler.destroy();
  });
});

describe('collectNodeBody', () => {
  it('gathers every chunk of a Node stream, in order, as a plain Uint8Array', async () => {
    const bytes = await collectNodeBody(Readable.from([Buffer.from('{"repositories":'), '[]', Buffer.from('}')]));
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
    expect(Buffer.from(bytes).toString('utf8')).toBe('{"repositories":[]}');
  });

  it('passes bytes through as they are', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    await expect(collectNodeBody(bytes)).resolves.toBe(bytes);
  });

  it('rejects when the body breaks off, rather than handing on half an answer', async () => {
    const body = new PassThrough();
    const collected = collectNodeBody(body);
    body.write('{"repositor');
    body.destroy(new Error('socket hang up'));
    await expect(collected).rejects.toThrow('socket hang up');
  });

  it('rejects when the body closes before its end', async () => {
    const body = new PassThrough();
    const collected = collectNodeBody(body);
    body.write('{"repositor');
    body.destroy();
    await expect(collected).rejects.toThrow(/premature close/i);
  });
});

describe('error text', () => {
  it('escapes control characters, so a value cannot break the line', () => {
    expect(escapeControl('a\nb\r\tc\u0000d\u007f\u2028')).toBe('a\\nb\\r\\tc\\u0000d\\u007f\\u2028');
  });

  it('shortens long values to 80 characters and says how long they were', () => {
    const value = 'x'.repeat(1024 * 1024);
    expect(shorten(value)).toBe(`${'x'.repeat(80)}… (1048576 characters)`);
    expect(quote('team/app')).toBe('"team/app"');
    expect(quote('a\u0000b')).toBe('"a\\u0000b"');
  });

  it('the last guard: one line and at most 1000 characters', () => {
    const message = oneLine(`first\nsecond ${'y'.repeat(5000)}`);
    expect(message).not.toMatch(/\n/);
    expect(message.length).toBeLessThanOrEqual(1010);
    expect(message.startsWith('first\\nsecond ')).toBe(true);
  });

  it('an answer that is not AWS\'s: the status, the endpoint and a short excerpt of its text', () => {
    const error = Object.assign(new Error('HTTP 502 that is not an AWS answer'), {
      name: 'NotAnAwsAnswer',
      $metadata: { httpStatusCode: 502 },
      $response: { statusCode: 502, body: '<html><head><title>502 Bad Gateway</title><script>var x = 1;</script></head><body>\n<h1>Bad Gateway</h1></body></html>' },
    });
    expect(describeAwsError({ service: 'ECR', operation: 'DescribeRepositories', endpoint: 'https://api.ecr.eu-west-2.amazonaws.com' }, error).message).toBe(
      'ECR DescribeRepositories failed: the ECR endpoint https://api.ecr.eu-west-2.amazonaws.com answered HTTP 502 with something that is not an AWS answer: ' +
        '"502 Bad Gateway Bad Gateway". Is a proxy or firewall in between?',
    );
  });

  it('an STS answer without credentials is said as such, not as credentials missing on the agent', () => {
    const error = Object.assign(new Error('Invalid response from STS.assumeRole call with role arn:aws:iam::123456789012:role/ecr-push'), { name: 'CredentialsProviderError' });
    expect(describeAwsError({ service: 'STS', operation: 'AssumeRole', endpoint: 'https://sts.eu-west-2.amazonaws.com' }, error).message).toBe(
      'STS AssumeRole failed: the STS endpoint https://sts.eu-west-2.amazonaws.com answered without temporary credentials; is it really STS?',
    );
  });

  it('a connection timeout names the endpoint and the bound', () => {
    // As the request handler passes it on: marked with what happened (src/aws/transport-faults.ts).
    const error = markFault(
      Object.assign(new Error('@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 5000 ms.'), { name: 'TimeoutError' }),
    );
    expect(describeAwsError({ service: 'STS', operation: 'AssumeRole', endpoint: 'https://sts.eu-west-2.amazonaws.com', timeouts: { connectMs: 5_000, requestMs: 60_000 } }, error).message).toBe(
      'STS AssumeRole failed: the STS endpoint https://sts.eu-west-2.amazonaws.com did not accept a connection within 5 s (connection timeout); ' +
        "check the agent's network, proxy and firewall.",
    );
  });
});

describe('the proxy login as a secret', () => {
  it('a user and password holding ":" (written %3A) are hidden whole, each as it was decoded, however short its parts', () => {
    const redactor = new Redactor();
    const agent = proxyAgentFromEnv(redactor, 1000, { HTTPS_PROXY: 'http://ops%3Aci:ab:cd-9Qz@proxy.example.com:3128' });
    agent?.destroy();
    expect(redactor.redact('Access denied for ops:ci (password ab:cd-9Qz)')).toBe('Access denied for [REDACTED] (password [REDACTED])');
  });

  it('a short user or password (under 4 characters) is hidden where it stands alone, not inside other words', () => {
    const redactor = new Redactor();
    proxyAgentFromEnv(redactor, 1000, { HTTP_PROXY: 'http://ops:x9@proxy.example.com:3128' })?.destroy();
    expect(redactor.redact('Access denied for ops (x9). Ask operations; see ops.example and box9x9.')).toBe(
      'Access denied for [REDACTED] ([REDACTED]). Ask operations; see [REDACTED].example and box9x9.',
    );
  });
});
