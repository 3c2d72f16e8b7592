'use strict';
/**
 * The cold start's floor: one DescribeRepositories page with no SDK at all, signed by hand (SigV4)
 * with node's crypto and sent with node's http, loading https and crypto as any call to real AWS
 * must. No retries, no endpoint rules, no config files: what no implementation can go under.
 * Reads `{ accessKeyId, secretAccessKey, region }` on stdin; the endpoint is AWS_ENDPOINT_URL_ECR.
 */
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');

/** @type {unknown} */
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const keys = /** @type {{ accessKeyId: string, secretAccessKey: string, region: string }} */ (input);
const endpoint = new URL(process.env.AWS_ENDPOINT_URL_ECR ?? '');
const body = JSON.stringify({ maxResults: 1000 });
const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '');
const scope = `${amzDate.slice(0, 8)}/${keys.region}/ecr/aws4_request`;
/** @param {string} data */
const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');
/** @param {crypto.BinaryLike} key @param {string} data */
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

/** @type {Record<string, string>} */
const headers = {
  'content-type': 'application/x-amz-json-1.1',
  host: endpoint.host,
  'x-amz-date': amzDate,
  'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories',
};
const signed = Object.keys(headers).sort();
const canonical = ['POST', '/', '', ...signed.map((name) => `${name}:${headers[name]}`), '', signed.join(';'), sha256(body)].join('\n');
const signingKey = scope.split('/').slice(0, 4).reduce((key, part) => hmac(key, part), /** @type {crypto.BinaryLike} */ (`AWS4${keys.secretAccessKey}`));
const signature = hmac(signingKey, ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n')).toString('hex');
headers.authorization = `AWS4-HMAC-SHA256 Credential=${keys.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;

const request = (endpoint.protocol === 'https:' ? https : http).request({ hostname: endpoint.hostname, port: endpoint.port, method: 'POST', path: '/', headers, timeout: 10_000 }, (response) => {
  let text = '';
  response.setEncoding('utf8');
  response.on('data', (chunk) => (text += chunk));
  response.on('end', () => {
    /** @type {unknown} */
    const parsed = JSON.parse(text);
    const answer = /** @type {{ repositories?: unknown[] }} */ (parsed);
    if (response.statusCode !== 200 || !Array.isArray(answer.repositories)) {
      process.stderr.write(`DescribeRepositories failed: HTTP ${String(response.statusCode)} ${text.slice(0, 200)}\n`);
      process.exitCode = 1;
    }
  });
});
request.on('timeout', () => request.destroy(new Error('no answer within 10 s')));
request.on('error', (error) => {
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
});
request.end(body);
