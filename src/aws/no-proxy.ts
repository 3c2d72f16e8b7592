/**
 * NO_PROXY read as curl reads it: entries separated by commas or white space;
 * a name matches itself and every name under it (`amazonaws.com` covers
 * `api.ecr.eu-west-2.amazonaws.com`, not `notamazonaws.com`), a leading `.`
 * changes nothing, letter case and a trailing dot neither; an IP address
 * matches itself or a CIDR range (`10.0.0.0/8`); `*` as the whole value
 * matches every host. Kept from the plugin's earlier rules, where curl
 * differs: a leading `*.` reads like a leading `.`, `host:port` matches that
 * port only, and an entry written as a suffix (`.0.0.1`) also reaches into IP
 * addresses. test/e2e/no-proxy-curl.test.ts puts a table of cases to curl itself.
 *
 * Our own code, because the libraries at hand read NO_PROXY otherwise:
 * proxy-from-env, undici and no-proxy match a bare name only exactly, so
 * NO_PROXY=amazonaws.com would still send ECR calls through the proxy.
 */
import { BlockList, isIP } from 'node:net';

export interface NoProxyEntry {
  /** Lower case, without brackets, a leading `.` or `*.`, or a trailing dot. */
  name: string;
  /** Only this port, when the entry says `host:port`. */
  port?: number;
  /** Written as a suffix (`.x` or `*.x`). */
  suffix: boolean;
  /** For an IP range (`10.0.0.0/8`): the addresses it holds. */
  range?: BlockList;
}

/** Every host: NO_PROXY=* (or a `*` entry). */
export type NoProxyRules = NoProxyEntry[] | 'all';

/** The entries of a NO_PROXY value, separated by commas or white space. */
export function parseNoProxy(value: string | undefined): NoProxyRules {
  const text = (value ?? '').trim().toLowerCase();
  if (text === '*') return 'all';
  const entries: NoProxyEntry[] = [];
  for (const raw of text.split(/[\s,]+/)) {
    if (raw === '') continue;
    const range = ipRange(raw);
    if (range) {
      entries.push({ name: raw, suffix: false, range });
      continue;
    }
    const { host, port } = splitPort(raw);
    const suffix = /^\*?\./.test(host);
    const name = withoutTrailingDot(host.replace(/^\*?\./, ''));
    if (name !== '') entries.push({ name, suffix, ...(port !== undefined ? { port } : {}) });
  }
  return entries;
}

/** `10.0.0.0/8` or `fd00::/8` as the addresses it holds; undefined for anything else. */
function ipRange(entry: string): BlockList | undefined {
  const match = /^\[?([^\]/]+)\]?\/(\d{1,3})$/.exec(entry);
  const family = match ? isIP(match[1]) : 0;
  if (!match || family === 0 || Number(match[2]) > (family === 4 ? 32 : 128)) return undefined;
  const range = new BlockList();
  range.addSubnet(match[1], Number(match[2]), family === 4 ? 'ipv4' : 'ipv6');
  return range;
}

function splitPort(entry: string): { host: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1], ...(bracketed[2] !== undefined ? { port: Number(bracketed[2]) } : {}) };
  const withPort = /^([^:]+):(\d+)$/.exec(entry);
  return withPort ? { host: withPort[1], port: Number(withPort[2]) } : { host: entry };
}

function withoutTrailingDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/** Whether a request to `hostname:port` goes straight there rather than through the proxy. */
export function bypassesProxy(rules: NoProxyRules, hostname: string, port: number): boolean {
  if (rules === 'all') return true;
  const host = withoutTrailingDot(hostname.toLowerCase().replace(/^\[|\]$/g, ''));
  const family = isIP(host);
  const ip = family !== 0;
  return rules.some((entry) => {
    if (entry.range) return ip && entry.range.check(host, family === 4 ? 'ipv4' : 'ipv6');
    if (entry.port !== undefined && entry.port !== port) return false;
    if (host === entry.name) return true;
    // A name covers the names under it; an IP address is not a name, so only an entry written as a suffix reaches into it.
    return (!ip || entry.suffix) && host.endsWith(`.${entry.name}`);
  });
}
