import { PluginError } from '../errors';

/**
 * A registry token as ECR (private and public) hands it out: base64 of
 * `user:password`, where the password may itself hold colons.
 */
export function decodeAuthorizationToken(token: string): { user: string; password: string } {
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new PluginError('ECR returned an authorization token that is not base64 of "user:password"');
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** `https://123456789012.dkr.ecr.eu-west-2.amazonaws.com/` → `123456789012.dkr.ecr.eu-west-2.amazonaws.com`. */
export function registryHost(proxyEndpoint: string): string {
  return proxyEndpoint.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/+$/, '');
}

/**
 * The origin of a registry known only by its host (ECR Public's token names
 * none): HTTPS, except for a registry on the agent itself, which docker too
 * reaches over plain HTTP by default (127.0.0.0/8, ::1, localhost).
 */
export function registryOrigin(host: string): string {
  const name = host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const loopback = name === 'localhost' || name === '::1' || /^127(\.\d{1,3}){3}$/.test(name);
  return `${loopback ? 'http' : 'https'}://${host}`;
}
