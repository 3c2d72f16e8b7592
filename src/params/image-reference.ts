import { ParamError, quote, shorten } from '../errors';

/** A docker image reference split into its parts, as docker's reference grammar defines them. */
export interface ImageReference {
  /** Registry host (with port), when the reference names one. */
  domain?: string;
  /** Repository path inside the registry, e.g. `team/app`. */
  path: string;
  tag?: string;
  digest?: string;
}

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const MAX_NAME_LENGTH = 255;

/** A reference with no '/', ':' or '@' could be a bare tag or a bare local name. */
export function isBareWord(text: string): boolean {
  return !/[/:@]/.test(text);
}

export function isValidTag(text: string): boolean {
  return TAG.test(text);
}

/** Parses `[domain/]path[:tag][@digest]`, rejecting what docker would reject. */
export function parseImageReference(param: string, text: string): ImageReference {
  const problem = (what: string): ParamError =>
    new ParamError(param, `${quote(text)} is not a valid image reference: ${what}`);

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest) || (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest))) {
      throw problem('a digest is "sha256:" followed by 64 lower-case hex characters');
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      throw problem('a tag is 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-"');
    }
  }
  if (rest.length === 0) throw problem('the image name is missing');
  if (rest.length > MAX_NAME_LENGTH) throw problem(`the name is longer than ${MAX_NAME_LENGTH} characters`);

  const components = rest.split('/');
  let domain: string | undefined;
  // Docker reads the first component as a registry host when it looks like one.
  if (components.length > 1 && /[.:]|^localhost$|[A-Z]/.test(components[0])) {
    domain = components.shift();
    if (!domain || !DOMAIN.test(domain)) throw problem(`${quote(domain ?? '')} is not a registry host`);
  }
  for (const component of components) {
    if (!PATH_COMPONENT.test(component)) {
      throw problem(
        `${quote(component)} must be lower-case letters and digits, separated by ".", "_", "__" or "-", with "/" between parts`,
      );
    }
  }
  return { domain, path: components.join('/'), tag, digest };
}

/**
 * docker takes image names (`host/repository`, tag aside) of at most 255
 * characters, so a repository name ECR accepts (up to 256) may still be too
 * long for docker with the registry's host in front.
 */
export function checkNameWithHost(param: string, repoName: string, host: string): string {
  const length = host.length + 1 + repoName.length;
  if (length > MAX_NAME_LENGTH) {
    throw new ParamError(
      param,
      `${quote(repoName)} is too long for docker with the registry host ${shorten(host)}: ` +
        `"<host>/<repository>" would be ${length} characters and docker takes at most ${MAX_NAME_LENGTH}, ` +
        `so at most ${Math.max(0, MAX_NAME_LENGTH - host.length - 1)} here; choose a shorter repository name`,
    );
  }
  return repoName;
}

export function formatImageReference(ref: ImageReference): string {
  const name = ref.domain ? `${ref.domain}/${ref.path}` : ref.path;
  return `${name}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
