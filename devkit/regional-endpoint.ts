/**
 * One URL in front of the ECR stand-ins of several regions. The SDK takes one endpoint for ECR
 * (AWS_ENDPOINT_URL_ECR) whatever the region; in AWS each region is a host of its own
 * (api.ecr.<region>.amazonaws.com). So each request goes, unchanged, to the stand-in of the region
 * it was signed for (its SigV4 credential scope), as DNS would send it; STS requests (and unsigned
 * ones) go to the first region's. Listens on 127.0.0.1; close() stops it.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { EcrEndpoint } from './ecr-endpoint';
import { listenLocally } from './local-server';

export interface RegionalEndpoint {
  url: string;
  /** Connections clients hold open to it now (an idle keep-alive one counts). */
  openConnections(): number;
  close(): Promise<void>;
}

const SIGNED_REGION = /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/(\w+)\/aws4_request/;

export async function startRegionalEndpoint(byRegion: Record<string, EcrEndpoint>, home: string): Promise<RegionalEndpoint> {
  const server = createServer((req, res) => {
    const signed = SIGNED_REGION.exec(req.headers.authorization ?? '');
    const region = signed && signed[2] === 'ecr' && byRegion[signed[1]] ? signed[1] : home;
    const target = new URL(byRegion[region].url);
    // The Host header goes as it came: the signature covers it. One connection per request behind it.
    const forward = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, connection: 'close' }, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.keepAliveTimeout = 30_000;
  return listenLocally(server);
}
