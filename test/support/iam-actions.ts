/**
 * The IAM actions AWS authorizes for what an action was seen to do: each API call the ECR and ECR
 * Public stand-ins recorded, each request a registry front recorded, and the few authorizations
 * AWS documents beyond the operation called. Sources (AWS documentation, as read for this test):
 *
 * - An API call is authorized as the action of its name: "a single action controls access to the
 *   API operation … with the same name" (Service Authorization Reference, Amazon ECR:
 *   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html;
 *   ECR Public: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistrypublic.html).
 * - Requests to a private registry (the Docker Registry HTTP API that docker and the plugin's copy
 *   speak) are authorized as the ECR API actions that the API reference says a push or pull calls
 *   (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_<Action>.html):
 *   GET or HEAD of a manifest: BatchGetImage ("When an image is pulled, the BatchGetImage API is
 *   called once to retrieve the image manifest"); GET of a blob: GetDownloadUrlForLayer ("called
 *   once per image layer that is not already cached"); HEAD of a blob: BatchCheckLayerAvailability
 *   ("each image layer is checked to verify if it has been uploaded before"); POST to uploads:
 *   InitiateLayerUpload; PATCH of an upload: UploadLayerPart; PUT of an upload: CompleteLayerUpload
 *   (and UploadLayerPart when it carries the last bytes); PUT of a manifest: PutImage; tags/list:
 *   ListImages, the action that lists a repository's tags (no method lists them: none is seen).
 * - A cross-repository mount (POST …/blobs/uploads/?mount=…&from=…) starts an upload in the target
 *   (InitiateLayerUpload), and "users need ecr:GetDownloadUrlForLayer IAM permission on a
 *   repository to mount layers from the repository" (Blob mounting in Amazon ECR,
 *   https://docs.aws.amazon.com/AmazonECR/latest/userguide/blob-mounting.html).
 * - The OCI referrers API (GET …/referrers/<digest>) is ListImageReferrers, for which "the IAM
 *   principal … must have the ecr:BatchGetImage permission"
 *   (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ListImageReferrers.html).
 * - GET /v2/ (docker's check of its login) reads nothing: the token is what authorizes it.
 * - ECR Public's registry: "anyone can pull images from the repository"
 *   (https://docs.aws.amazon.com/AmazonECR/latest/public/public-repository-policies.html), and
 *   ECR Public has no read actions (no BatchGetImage or GetDownloadUrlForLayer in its API), so
 *   reads need none; a push's requests are the ecr-public actions of the same names, those the
 *   push policy of https://docs.aws.amazon.com/AmazonECR/latest/public/public-repository-policy-examples.html
 *   grants (BatchCheckLayerAvailability, InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload, PutImage).
 * - Beyond the operation: ECR Public's GetAuthorizationToken "requires the
 *   ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken permissions"
 *   (https://docs.aws.amazon.com/AmazonECRPublic/latest/APIReference/API_GetAuthorizationToken.html);
 *   a CreateRepository with tags: "AWS performs additional authorization … to verify if users have
 *   permissions to create tags" (ecr:TagResource; https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-supported-iam-actions-tagging.html,
 *   and for ECR Public https://docs.aws.amazon.com/AmazonECR/latest/public/ecr-supported-iam-actions-tagging.html);
 *   reading an enhanced scan's findings needs inspector2:ListFindings ("the Amazon Inspector API
 *   permissions needed to … retrieve the scan findings",
 *   https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced-iam.html).
 */

export type Api = 'ecr' | 'ecr-public';

/** One action needed, on which repository when a registry request needs it. */
export interface Needed {
  action: string;
  repository?: string;
}

/** What a call's outcome showed that decides the authorizations beyond its operation. */
export interface CallFacts {
  /** The repository a CreateRepository made holds resource tags (they came with the create). */
  createdWithTags?: boolean;
  /** The scan DescribeImageScanFindings read was an enhanced one (its result says ENHANCED). */
  enhancedScan?: boolean;
}

/** The actions one API call needs. */
export function actionsOfCall(api: Api, operation: string, facts: CallFacts): string[] {
  const actions = [`${api}:${operation}`];
  if (api === 'ecr-public' && operation === 'GetAuthorizationToken') actions.push('sts:GetServiceBearerToken');
  if (operation === 'CreateRepository' && facts.createdWithTags === true) actions.push(`${api}:TagResource`);
  if (api === 'ecr' && operation === 'DescribeImageScanFindings' && facts.enhancedScan === true) actions.push('inspector2:ListFindings');
  return actions;
}

/**
 * The actions one registry request needs, each with the repository it is on (on ECR Public its
 * path names `<alias>/<repository>`). Throws for a request this mapping does not know, so that a
 * new kind of request is looked up in AWS's documentation before a policy is trusted with it.
 */
export function actionsOfRequest(api: Api, request: { method: string; path: string; query?: string; bytesIn: number }, alias?: string): Needed[] {
  const { method, path } = request;
  if (path === '/v2/' || path === '/v2') return [];
  const match = /^\/v2\/(.+)\/(manifests|blobs\/uploads|blobs|tags|referrers)(?:\/(.*))?$/.exec(path);
  if (!match) throw new Error(`no IAM mapping for ${method} ${path}`);
  const [, name, kind, rest = ''] = match;
  const repository = api === 'ecr-public' && alias !== undefined && name.startsWith(`${alias}/`) ? name.slice(alias.length + 1) : name;
  const on = (...actions: string[]): Needed[] => actions.map((action) => ({ action, repository }));
  const key = `${method} ${kind}${kind === 'blobs/uploads' && rest !== '' ? '/<id>' : ''}`;
  const mapped: Record<string, () => Needed[]> = {
    'GET manifests': () => on('ecr:BatchGetImage'),
    'HEAD manifests': () => on('ecr:BatchGetImage'),
    'PUT manifests': () => on('ecr:PutImage'),
    'GET blobs': () => on('ecr:GetDownloadUrlForLayer'),
    'HEAD blobs': () => on('ecr:BatchCheckLayerAvailability'),
    'POST blobs/uploads': () => {
      const from = new URLSearchParams(request.query ?? '').get('from');
      const source = from === null ? undefined : api === 'ecr-public' && alias !== undefined && from.startsWith(`${alias}/`) ? from.slice(alias.length + 1) : from;
      return [...on('ecr:InitiateLayerUpload'), ...(source !== undefined ? [{ action: 'ecr:GetDownloadUrlForLayer', repository: source }] : [])];
    },
    'PATCH blobs/uploads/<id>': () => on('ecr:UploadLayerPart'),
    'PUT blobs/uploads/<id>': () => on(...(request.bytesIn > 0 ? ['ecr:UploadLayerPart'] : []), 'ecr:CompleteLayerUpload'),
    'GET tags': () => on('ecr:ListImages'),
    'GET referrers': () => on('ecr:BatchGetImage'),
  };
  const needed = mapped[key]?.();
  if (needed === undefined) throw new Error(`no IAM mapping for ${method} ${path}`);
  if (api === 'ecr') return needed;
  // ECR Public: reads need nothing (public images are anyone's to pull), writes the ecr-public action of the same name.
  const reads = new Set(['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:ListImages']);
  return needed.filter((n) => !reads.has(n.action)).map((n) => ({ ...n, action: n.action.replace(/^ecr:/, 'ecr-public:') }));
}
