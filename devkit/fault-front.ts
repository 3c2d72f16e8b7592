/**
 * A front for the local ECR and STS endpoint that breaks connections the way networks do, for the
 * tests of the plugin's transport. Requests pass to the endpoint unchanged (the Host header too,
 * so SigV4 signatures still match), except those a fault meets:
 *
 * - `reset`: the connection is reset (TCP RST) when the request has arrived, before any answer;
 * - `hang-up`: the connection is closed (FIN) when the request has arrived, without an answer;
 * - `forget-idle`: every connection is forgotten once it has answered, as a NAT or load balancer
 *   drops an idle keep-alive connection; a client that sends its next request on it meets a reset.
 *
 * `times` limits how many requests a fault meets (default: all); `service` limits it to ECR or STS
 * requests. Listens on 127.0.0.1 only; its sockets do not keep the process alive.
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { listenLocally } from './local-server';

export type Service = 'ecr' | 'sts';

export interface ConnectionFault {
  mode: 'reset' | 'hang-up' | 'forget-idle';
  times?: number;
  service?: Service;
}

export interface FaultFront {
  /** 'http://127.0.0.1:PORT': point AWS_ENDPOINT_URL_ECR / _STS here. */
  readonly url: string;
  /** From now on, requests meet `fault`; undefined passes every request. */
  setFault(fault: ConnectionFault | undefined): void;
  /** Requests met by a fault, by service, in order. */
  readonly faulted: Service[];
  /** Requests passed to the endpoint, by service, in order. */
  readonly passed: Service[];
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** ECR's JSON protocol names its operation in X-Amz-Target; STS's query protocol does not. */
function serviceOf(req: http.IncomingMessage): Service {
  return req.headers['x-amz-target'] !== undefined ? 'ecr' : 'sts';
}

export async function startFaultFront(target: URL): Promise<FaultFront> {
  let fault: (ConnectionFault & { left: number }) | undefined;
  const faulted: Service[] = [];
  const passed: Service[] = [];
  const forgotten = new WeakSet<Socket>();

  const meets = (service: Service): boolean => {
    if (fault === undefined || fault.left <= 0 || (fault.service !== undefined && fault.service !== service)) return false;
    fault.left -= 1;
    faulted.push(service);
    return true;
  };

  const server = http.createServer((req, res) => {
    const service = serviceOf(req);
    const socket = req.socket;
    if (forgotten.has(socket)) {
      faulted.push(service);
      socket.resetAndDestroy();
      return;
    }
    if (fault?.mode !== 'forget-idle' && meets(service)) {
      if (fault?.mode === 'reset') socket.resetAndDestroy();
      else socket.destroy();
      return;
    }
    passed.push(service);
    const upstream = http.request(
      { host: target.hostname, port: Number(target.port), method: req.method, path: req.url, headers: req.headers, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => socket.destroy());
    req.pipe(upstream);
    res.on('finish', () => {
      if (fault?.mode === 'forget-idle' && (fault.service === undefined || fault.service === service)) forgotten.add(socket);
    });
  });
  server.keepAliveTimeout = 30_000;
  const listening = await listenLocally(server);
  return {
    url: listening.url,
    setFault(next) {
      fault = next ? { ...next, left: next.times ?? Infinity } : undefined;
    },
    faulted,
    passed,
    connections: listening.acceptedConnections,
    close: listening.close,
  };
}
