import { LAZY_BUNDLES } from '../agent/lazy-bundles';
import type { TransferRequest } from '../docker/image-transfer';
import { namedPublicLocation, parseImageRequest, type ImageRequest } from '../params/image-request';
import { NoCredentialsError, ParamError, quote } from '../errors';
import type { ActionContext } from '../kaholo/action-boundary';
import type { ActivityLog } from '../kaholo/activity-log';
import type { Redactor } from '../kaholo/redactor';
import { readConnection } from '../params/connection';
import { checkNameWithHost } from '../params/image-reference';
import { readTransferOptions } from '../params/transfer-options';
import type { RegistryApi, RegistryLogin, RepositoryLocation } from '../registry/registry-api';
import type { RepositoryTarget } from '../registry/repository-creation';
import { readRegistrySelection, readRepoName, withRegistry } from './registry-access';

/** What push and pull work with once the registry has authorized them. */
export interface Transfer {
  request: TransferRequest;
  /** The docker side, loaded (from its code cache) only once an action gets this far. */
  transfer: typeof import('../docker/image-transfer');
  target: RepositoryTarget;
}

/** Push and pull read the same params and log in the same way; `work` runs with the registry's authorization. */
export async function withTransfer<T>({ params, log, redactor }: ActionContext, direction: 'push' | 'pull', work: (transfer: Transfer) => Promise<T>): Promise<T> {
  const connection = readConnection(params, direction === 'push' ? 'pushImgaeToRepo' : 'pullImage');
  const selection = readRegistrySelection(params);
  const repoName = readRepoName(params);
  const expected = direction === 'push' ? 'a tag ("1.2.0"), a local image ("app:1.2.0") or a full reference' : 'a tag ("1.2.0"), a digest ("sha256:...") or a full reference';
  const imageName = params.requiredString('imageName', expected);
  const image = parseImageRequest(imageName, direction);
  // A public image named in full is where it says: a pull of it needs no API, so no credentials.
  const anonymous = selection.type === 'public' && direction === 'pull';
  const named = anonymous ? namedPublicLocation(image, repoName) : undefined;
  const options = readTransferOptions(params, direction);
  return withRegistry(connection, selection, { redactor, log }, async (registry) => {
    // docker's limit on "<host>/<path>": from the region before any call, and again with the real location.
    const expectedHost = await registry.expectedHost();
    if (expectedHost !== undefined) checkNameWithHost('repoName', repoName, expectedHost);
    // AWS calls keep their own timeouts (about 90 s for one that never answers): the limit comes first.
    const { login, location } = await options.limit.bound(
      authorizeTransfer(registry, { repoName, image, anonymous, named }, log, redactor),
      `it was still waiting for AWS to authorize it (${registry.type === 'public' ? 'ECR Public' : 'ECR'} GetAuthorizationToken, a role's STS AssumeRole)`,
    );
    checkNameWithHost('repoName', repoName, `${location.host}/${location.path}`.slice(0, -(repoName.length + 1)));
    (await import('../agent/code-cache')).preloadWithCodeCache(LAZY_BUNDLES.imageTransfer);
    const transfer = await import('../docker/image-transfer');
    return work({ request: { login, repoName, location, image, options }, transfer, target: { registry, repoName } });
  });
}

/** What the transfer is of: the repository, the image, and for a public pull, whether and where it may go anonymously. */
interface TransferSubject {
  repoName: string;
  image: ImageRequest;
  /** A public pull: with no AWS credentials at all, it goes without a login. */
  anonymous: boolean;
  /** Where the image is when `imageName` names it in full. */
  named: RepositoryLocation | undefined;
}

/**
 * The login for the transfer and where the repository is. A pull of a public
 * image named in full goes without a login when there are no AWS credentials
 * at all, when they cannot get one, or when the image is on another host than
 * the one the token is for (the token is never sent anywhere else).
 */
async function authorizeTransfer(
  registry: RegistryApi,
  { repoName, image, anonymous, named }: TransferSubject,
  log: ActivityLog,
  redactor: Redactor,
): Promise<{ login: RegistryLogin | undefined; location: RepositoryLocation }> {
  let login: RegistryLogin;
  try {
    const [authorization] = await registry.authorize([]);
    // The session hides the password; the token it came in (base64 of user:password) is hidden here.
    redactor.add(authorization.data.authorizationToken);
    login = authorization.login;
  } catch (error) {
    if (!anonymous) throw error;
    if (named === undefined) {
      if (!(error instanceof NoCredentialsError)) throw error;
      throw new ParamError(
        'imageName',
        `with no AWS credentials a public image is pulled anonymously, which needs its full reference, such as ${quote(`public.ecr.aws/<alias>/${repoName}:${image.kind === 'word' ? image.text : 'latest'}`)}; or give credentials`,
      );
    }
    // A login only raises the quotas: credentials that cannot get one (an account with no public
    // registry, a role without ECR Public's permissions) never stop the pull of a public image.
    const why = error instanceof NoCredentialsError ? 'No AWS credentials' : `No login to ECR Public (${error instanceof Error ? error.message : String(error)})`;
    log.info(`${why}: pulling ${named.host}/${named.path} anonymously`);
    return { login: undefined, location: named };
  }
  log.info(`Authorized for ${login.host}`);
  if (named === undefined) return { login, location: { host: login.host, path: await registry.repositoryPath(repoName) } };
  if (named.host.toLowerCase() === login.host.toLowerCase()) return { login, location: named };
  log.info(`The token is for ${login.host}, not ${named.host}: pulling anonymously`);
  return { login: undefined, location: named };
}
