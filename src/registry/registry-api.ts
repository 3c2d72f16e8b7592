/**
 * registry/: the seam between the methods and the registries' APIs, and the
 * registry-level work done through it. `RegistryApi` (this file) is what a
 * method asks of a registry: describe repositories, authorize, create a
 * repository, read and put manifests, close; private ECR, ECR Public and a
 * registry's own HTTP API (for manifests) are its implementations, so methods,
 * tagging and repository creation never import an SDK client type. An
 * implementation is opened for one registry (an account's, or the caller's
 * default) and closed when the action is done with it.
 */
import type { RegistryType } from '../params/registry-type';
import type { RepositorySettings } from '../params/repository-settings';
import type { ImageScanApi } from './image-scans';

/** An image in a repository: by tag, or by its manifest's digest. */
export type ImageId = { tag: string; digest?: undefined } | { digest: string; tag?: undefined };

/** A manifest exactly as the registry holds it: its bytes are what its digest is of. */
export interface StoredManifest {
  digest: string;
  /** The manifest's bytes as text (manifests are UTF-8 JSON). */
  manifest: string;
  /** Absent where the registry did not say (older Docker v2 schema manifests). */
  mediaType?: string;
}

/** What the registry answered to a manifest put under a tag; the caller settles what it means. */
export type PutManifestAnswer =
  /** Taken; `digest` and `tag` are what the answer's image id carried, if it carried one. */
  | { outcome: 'stored'; digest?: string; tag?: string }
  /** Refused as already there: the registry says the tag already names a manifest (this one, it claims). */
  | { outcome: 'already-exists' }
  /** Refused: the tag names another image and the repository's tags are immutable. */
  | { outcome: 'tag-immutable' };

/** A repository as the registry's API describes it (with the API's other fields, returned to the user as they are). */
export interface RepositoryRecord {
  repositoryName?: string;
  repositoryUri?: string;
  registryId?: string;
}

/** Where a repository's images are: `<host>/<path>` names them in docker references. */
export interface RepositoryLocation {
  /** The registry host, such as `123456789012.dkr.ecr.eu-west-2.amazonaws.com` or `public.ecr.aws`. */
  host: string;
  /** The repository's path on the host: its name on private ECR, `<alias>/<name>` on ECR Public. */
  path: string;
}

/** How to log in to a registry: its host and the user and password its token decodes to. */
export interface RegistryLogin {
  /** The registry host, such as `123456789012.dkr.ecr.eu-west-2.amazonaws.com`. */
  host: string;
  user: string;
  password: string;
}

/** One registry's authorization as the API gave it, and decoded. */
export interface RegistryAuthorization {
  /** The API's own fields (getEcrLogin returns them as they are). */
  data: { authorizationToken: string; proxyEndpoint: string; expiresAt?: Date; [field: string]: unknown };
  login: RegistryLogin;
}

/**
 * Reading and writing an image's manifest: part of every registry API, and
 * all a registry's own HTTP API (registry-http/) offers of the rest.
 */
export interface ManifestApi {
  /** The manifest of an image; a missing image is a `MissingImageError` (errors.ts). `signal` abandons the call. */
  getManifest(repoName: string, image: ImageId, signal?: AbortSignal): Promise<StoredManifest>;
  /** Puts `manifest` under `tag`, reporting what the registry answered. `signal` abandons the call. */
  putManifest(repoName: string, manifest: StoredManifest, tag: string, signal?: AbortSignal): Promise<PutManifestAnswer>;
}

export interface RegistryApi extends ManifestApi {
  /** Which API this is: private ECR, or ECR Public. */
  readonly type: RegistryType;
  /** The region the API's calls go to (for the log). */
  readonly region: string;
  /**
   * The registry host the API will authorize for, when it is known before any
   * call (from the region and the endpoint's rules); undefined when only
   * `authorize` can tell.
   */
  expectedHost(): Promise<string | undefined>;
  /** Every repository (all pages), or only those named. */
  describeRepositories(repositoryNames: string[]): Promise<RepositoryRecord[]>;
  /** Authorization for the given registries; none: the registry this API was opened for. */
  authorize(registryIds: string[]): Promise<RegistryAuthorization[]>;
  /**
   * Where the repository's images are on the registry's host: the repository's
   * name on private ECR, `<alias>/<name>` on ECR Public (the registry's alias).
   */
  repositoryPath(repoName: string): Promise<string>;
  /** Creates the repository unless it exists; true when this call created it. */
  createRepository(repoName: string, settings: RepositorySettings): Promise<boolean>;
  /** The registry's image scanning; absent where the registry has none. */
  readonly scans?: ImageScanApi;
  /**
   * The same API, credentials and connections, for another registry (account)
   * they may reach; closing this one closes both.
   */
  forRegistry(registryId: string | undefined): RegistryApi;
  /** Closes the connections the API keeps for reuse. */
  close(): void;
}
