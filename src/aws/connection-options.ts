/**
 * Node prints the options of every new connection an agent opens when the
 * agent's NODE_DEBUG names http (or net, tls), and an agent is handed the
 * request's own options: its headers too, such as a registry's Authorization
 * or the SDK's x-amz-security-token. A connection needs none of them (the
 * request already carries its headers), so the plugin's agents are handed the
 * options without them.
 */
import type { Agent, ClientRequest } from 'node:http';

type AddRequest = (req: ClientRequest, options: Record<string, unknown>) => void;

/** `agent`, from now on given each request's options without its headers. */
export function withoutHeadersInConnections<T extends Agent>(agent: T): T {
  const withAddRequest = agent as T & { addRequest: AddRequest };
  const addRequest = withAddRequest.addRequest.bind(agent);
  withAddRequest.addRequest = (req, options) => {
    const connection = { ...options };
    delete connection.headers;
    addRequest(req, connection);
  };
  return agent;
}
