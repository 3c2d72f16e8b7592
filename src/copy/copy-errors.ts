/**
 * A registry's refusal as the user can act on it: which side and which
 * parameter, and what to do. Anything else is passed on as it is.
 */
import { ParamError, PluginError, quote } from '../errors';
import type { RegistryType } from '../params/registry-type';
import { RegistryError } from '../registry-http/registry-error';

export interface CopyNames {
  source: { host: string; repository: string; reference: string; type: RegistryType };
  target: { host: string; repository: string; type: RegistryType };
}

/** The IAM actions each side needs on its API, for a refusal's hint (ECR Public's images any caller may read). */
const ACTIONS: Record<'source' | 'target', Record<RegistryType, string>> = {
  source: {
    private: 'ecr:BatchGetImage and ecr:GetDownloadUrlForLayer',
    public: 'ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken for its token',
  },
  target: {
    private: 'ecr:BatchCheckLayerAvailability, ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload and ecr:PutImage',
    public: 'ecr-public:BatchCheckLayerAvailability, ecr-public:InitiateLayerUpload, ecr-public:UploadLayerPart, ecr-public:CompleteLayerUpload and ecr-public:PutImage',
  },
};

/** A refusal from reading the image to copy. */
export function explainSourceError(error: unknown, names: CopyNames): unknown {
  if (!(error instanceof RegistryError)) return error;
  const { host, repository, reference } = names.source;
  if (error.code === 'NAME_UNKNOWN' || error.code === 'REPOSITORY_NOT_FOUND') {
    return new ParamError('repoName', `repository ${quote(repository)} is not in ${host} (${error.message})`);
  }
  if (error.status === 404) return new ParamError('imageName', `${quote(reference)} is not in ${host}/${repository}: check "imageName" and "repoName" (${error.message})`);
  return refusal(error, 'source', host, names.source.type) ?? error;
}

/** A refusal from writing to the target. */
export function explainTargetError(error: unknown, names: CopyNames): unknown {
  if (!(error instanceof RegistryError)) return error;
  const { host, repository } = names.target;
  if (error.code === 'NAME_UNKNOWN' || error.code === 'REPOSITORY_NOT_FOUND') {
    return new ParamError('targetRepoName', `repository ${quote(repository)} is not in ${host}: create it, or set "createRepository" (${error.message})`);
  }
  if (error.code === 'TAG_INVALID' || /immutable/i.test(error.message)) {
    return new ParamError('targetTags', `a tag already names another image in ${host}/${repository}, whose tags are immutable: choose another tag (${error.message})`);
  }
  return refusal(error, 'target', host, names.target.type) ?? error;
}

function refusal(error: RegistryError, side: 'source' | 'target', host: string, type: RegistryType): PluginError | undefined {
  if (error.status !== 401 && error.status !== 403) return undefined;
  return new PluginError(`The ${side} registry ${host} refused the copy: the ${side} side needs ${ACTIONS[side][type]} (${error.message})`);
}

/** A part the image names (a blob, a platform's manifest, a referrer) that its source repository does not hold. */
export class MissingPartError extends PluginError {
  constructor(
    message: string,
    readonly digest: string,
  ) {
    super(message);
    this.name = 'MissingPartError';
  }
}

/**
 * A 404 for a part the image names: the image is incomplete in the source,
 * which is no fault of imageName. Anything else is passed on as it is.
 */
export function missingPart(error: unknown, source: { host: string; repository: string }, digest: string): unknown {
  if (!(error instanceof RegistryError) || error.status !== 404) return error;
  return new MissingPartError(`${source.host}/${source.repository} does not hold ${digest}, which the image to copy names: the image is incomplete in the source (${error.message})`, digest);
}
