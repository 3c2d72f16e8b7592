/**
 * The README says NO_PROXY is read as curl reads it. Each case of the table is put to curl itself
 * (/usr/bin/curl, with http_proxy and NO_PROXY in its environment): a request to a name mapped to
 * 127.0.0.1 with --resolve reaches either the "proxy" or the "direct" server here, each answering
 * with its own name. The plugin's matcher (src/aws/no-proxy.ts) must decide the same, except where the
 * README says the plugin keeps its earlier rules; there curl is asked too, so the list of
 * differences stays true.
 */
import execa from 'execa';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bypassesProxy, parseNoProxy } from '../../src/aws/no-proxy';

type Route = 'direct' | 'proxied';

const ECR = 'api.ecr.eu-west-2.amazonaws.com';
/** Replaced by the port of the request in a NO_PROXY value. */
const PORT = '<port>';

/** Cases where curl and the plugin agree: [host, NO_PROXY, route]. */
const AS_CURL: Array<[string, string, Route]> = [
  [ECR, 'amazonaws.com', 'direct'],
  [ECR, '.amazonaws.com', 'direct'],
  [ECR, ECR, 'direct'],
  [ECR, 'ecr.eu-west-2.amazonaws.com', 'direct'],
  ['amazonaws.com', '.amazonaws.com', 'direct'],
  [ECR, 'AMAZONAWS.COM', 'direct'],
  ['API.ECR.eu-west-2.amazonaws.com', 'amazonaws.com', 'direct'],
  [ECR, 'amazonaws.com.', 'direct'],
  [ECR, 'example.com,amazonaws.com', 'direct'],
  [ECR, 'example.com, amazonaws.com', 'direct'],
  [ECR, 'example.com amazonaws.com', 'direct'],
  [ECR, '  amazonaws.com  ', 'direct'],
  [ECR, '*', 'direct'],
  [ECR, 'zonaws.com', 'proxied'],
  [ECR, 'eu-west-1.amazonaws.com', 'proxied'],
  [ECR, 'example.com;amazonaws.com', 'proxied'],
  [ECR, '*amazonaws.com', 'proxied'],
  [ECR, 'example.com,*', 'proxied'],
  [ECR, '', 'proxied'],
  ['127.0.0.1', '127.0.0.1', 'direct'],
  ['127.0.0.1', '127.0.0.0/8', 'direct'],
  ['127.0.0.1', '10.0.0.0/8', 'proxied'],
  ['127.0.0.1', '127.0.0.2', 'proxied'],
  ['127.0.0.1', '0.0.1', 'proxied'],
];

/** Where the plugin keeps its earlier rules and curl decides otherwise: [host, NO_PROXY, the plugin's route]. */
const KEPT: Array<[string, string, Route]> = [
  [ECR, '*.amazonaws.com', 'direct'],
  [ECR, `amazonaws.com:${PORT}`, 'direct'],
  ['127.0.0.1', `127.0.0.1:${PORT}`, 'direct'],
  ['127.0.0.1', '.0.0.1', 'direct'],
  ['127.0.0.1', '*.0.1', 'direct'],
];

/** A plain HTTP server on 127.0.0.1 that answers every request with its own name. */
async function namedServer(name: Route): Promise<http.Server> {
  const server = http.createServer((_req, res) => res.end(name));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return server;
}

const portOf = (server: http.Server): number => (server.address() as AddressInfo).port;
const other = (route: Route): Route => (route === 'direct' ? 'proxied' : 'direct');

describe('NO_PROXY: the plugin decides as curl does', () => {
  let proxy: http.Server;
  let direct: http.Server;

  beforeAll(async () => {
    [proxy, direct] = await Promise.all([namedServer('proxied'), namedServer('direct')]);
  });

  afterAll(async () => {
    await Promise.all([proxy, direct].map((server) => new Promise((resolve) => server.close(resolve))));
  });

  const noProxyFor = (value: string): string => value.replace(PORT, String(portOf(direct)));

  /** What curl does with a request to http://host:port/ under this NO_PROXY. */
  async function curlRoute(host: string, noProxy: string): Promise<string> {
    const port = portOf(direct);
    const { stdout } = await execa('/usr/bin/curl', ['-sS', '--max-time', '10', '--resolve', `${host}:${port}:127.0.0.1`, `http://${host}:${port}/`], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', http_proxy: `http://127.0.0.1:${portOf(proxy)}`, NO_PROXY: noProxyFor(noProxy) },
      extendEnv: false,
      stdin: 'ignore',
      timeout: 15_000,
    });
    return stdout;
  }

  const pluginRoute = (host: string, noProxy: string): Route => (bypassesProxy(parseNoProxy(noProxyFor(noProxy)), host, portOf(direct)) ? 'direct' : 'proxied');

  test.each(AS_CURL)('%s with NO_PROXY=%j: %s, as curl', async (host, noProxy, route) => {
    expect(await curlRoute(host, noProxy)).toBe(route);
    expect(pluginRoute(host, noProxy)).toBe(route);
  });

  test.each(KEPT)('%s with NO_PROXY=%j: %s, an earlier rule the README names (curl differs)', async (host, noProxy, route) => {
    expect(await curlRoute(host, noProxy)).toBe(other(route));
    expect(pluginRoute(host, noProxy)).toBe(route);
  });
});
