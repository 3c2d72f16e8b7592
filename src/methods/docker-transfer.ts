import { LAZY_BUNDLES } from '../agent/lazy-bundles';
import type { TransferRequest } from '../docker/image-transfer';
import { parseImageRequest } from '../docker/transfer-plan';
import type { ActionContext } from '../kaholo/action-boundary';
import { readConnection } from '../params/connection';
import { checkNameWithHost } from '../params/image-reference';
import { readTransferOptions } from '../params/transfer-options';
import type { RepositoryTarget } from '../registry/repository-creation';
import { readRegistryId, readRepoName, withRegistry } from './registry-access';

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
  const registryId = readRegistryId(params);
  const repoName = readRepoName(params);
  const expected = direction === 'push' ? 'a tag ("1.2.0"), a local image ("app:1.2.0") or a full reference' : 'a tag ("1.2.0"), a digest ("sha256:...") or a full reference';
  const imageName = params.requiredString('imageName', expected);
  const image = parseImageRequest(imageName, direction);
  const options = readTransferOptions(params, direction);
  return withRegistry(connection, registryId, redactor, async (registry) => {
    // docker's limit on "<host>/<repoName>": from the region before any call, and again with the real host.
    const expectedHost = await registry.expectedHost();
    if (expectedHost !== undefined) checkNameWithHost('repoName', repoName, expectedHost);
    const [authorization] = await registry.authorize([]);
    checkNameWithHost('repoName', repoName, authorization.login.host);
    // The session hides the password; the token it came in (base64 of user:password) is hidden here.
    redactor.add(authorization.data.authorizationToken);
    log.info(`Authorized for ${authorization.login.host}`);
    (await import('../agent/code-cache')).preloadWithCodeCache(LAZY_BUNDLES.imageTransfer);
    const transfer = await import('../docker/image-transfer');
    return work({ request: { login: authorization.login, repoName, image, options }, transfer, target: { registry, repoName } });
  });
}
