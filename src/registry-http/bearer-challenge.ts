/**
 * A registry that authenticates with bearer tokens (public.ecr.aws, and the
 * Docker token protocol generally) answers a request it will not take with
 * 401 and `WWW-Authenticate: Bearer realm="…",service="…",scope="…"`. The
 * client then asks the realm for a token, with its Basic credentials, and
 * sends the request again with `Authorization: Bearer <token>`. Private ECR
 * takes Basic credentials directly and never asks.
 */

/** What a Bearer challenge names: where to get a token, for which service and scope. */
export interface BearerChallenge {
  realm: URL;
  service?: string;
  scope?: string;
}

/** The Bearer challenge of a 401's WWW-Authenticate header; undefined for any other (Basic, none, a realm that is no URL). */
export function parseBearerChallenge(header: string | string[] | undefined): BearerChallenge | undefined {
  const text = (Array.isArray(header) ? header : [header ?? '']).find((value) => /^\s*Bearer\s/i.test(value));
  if (text === undefined) return undefined;
  const fields = new Map<string, string>();
  // key="value" pairs; a quoted value may hold commas (scope="repository:a/b:pull,push").
  for (const match of text.replace(/^\s*Bearer\s+/i, '').matchAll(/([A-Za-z_]+)="([^"]*)"/g)) fields.set(match[1].toLowerCase(), match[2]);
  const realm = fields.get('realm');
  if (realm === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return { realm: url, service: fields.get('service'), scope: fields.get('scope') };
}

/**
 * The token request: the realm with the challenge's service and every scope
 * asked for so far, so that one token serves them all (a pull scope asked for
 * later never takes away the push scope an upload under way needs).
 */
export function tokenUrl({ realm, service }: BearerChallenge, scopes: Iterable<string>): URL {
  const url = new URL(realm);
  if (service !== undefined) url.searchParams.set('service', service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  return url;
}

/**
 * Whether the registry's credentials may go to this realm: only one on the
 * registry's own host name (public.ecr.aws's is https://public.ecr.aws/token/),
 * so a challenge can never send them elsewhere. Another realm is asked for a
 * token with no credentials.
 */
export function mayCarryCredentials(realm: URL, registry: URL): boolean {
  return realm.hostname.toLowerCase() === registry.hostname.toLowerCase() && (realm.protocol === 'https:' || registry.protocol === 'http:');
}

/** The token in the realm's answer (`token`, or OAuth2's `access_token`); undefined when there is none. */
export function tokenOf(body: string): string | undefined {
  try {
    const answer = JSON.parse(body) as { token?: unknown; access_token?: unknown };
    const token = typeof answer.token === 'string' && answer.token !== '' ? answer.token : answer.access_token;
    return typeof token === 'string' && token !== '' ? token : undefined;
  } catch {
    return undefined;
  }
}
