/**
 * What the ECR Public stand-in holds: one public registry (an account id, its alias, the real
 * registry behind it and the password its tokens carry), its repositories with their catalog data
 * and resource tags, and the token policy of that registry (devkit/registry-tokens.ts): anyone may
 * pull from an existing repository, only a user logged in with the current password may push to
 * one, and a wrong password is refused, as public.ecr.aws refuses a stale login.
 */
import { optionalString, ServiceError, type Json } from '../aws/json-protocol';
import { RepositoryStore, validateRepositoryName, type ResourceTag } from '../ecr/registries';
import type { ManifestRegistry } from '../ecr/manifest-store';
import type { Access, TokenIssuer, TokenPolicy } from '../registry-tokens';

export interface PublicRepository {
  repositoryArn: string;
  registryId: string;
  repositoryName: string;
  repositoryUri: string;
  /** Epoch seconds, as the JSON protocol carries timestamps. */
  createdAt: number;
}

/** A repository's catalog data as the Gallery would show it (what CreateRepository was given). */
export interface CatalogData {
  description?: string;
  aboutText?: string;
  usageText?: string;
  architectures?: string[];
  operatingSystems?: string[];
}

export interface PublicRegistryOptions {
  registryId: string;
  alias: string;
  /** The real registry behind it ('http://127.0.0.1:<port>'), which trusts `issuer`'s tokens. */
  url: string;
  password: string;
  issuer?: TokenIssuer;
  /** The token service name the registry's challenges carry. */
  service: string;
}

/** The repository name the token scope `<alias>/<name>` means, if it is under this alias. */
const underAlias = (alias: string, name: string): string | undefined => (name.startsWith(`${alias}/`) ? name.slice(alias.length + 1) : undefined);

export class PublicRegistry {
  readonly registryId: string;
  readonly alias: string;
  readonly url: string;
  readonly service: string;
  private password: string;
  private readonly issuer: TokenIssuer | undefined;
  readonly repositories = new RepositoryStore<PublicRepository>();
  readonly catalogs = new Map<string, CatalogData>();
  /** Resource tags by repository ARN. */
  readonly resourceTags = new Map<string, ResourceTag[]>();

  constructor(options: PublicRegistryOptions) {
    this.registryId = options.registryId;
    this.alias = options.alias;
    this.url = options.url;
    this.service = options.service;
    this.password = options.password;
    this.issuer = options.issuer;
  }

  /** Host and port of the registry: what its URIs start with. */
  get host(): string {
    return new URL(this.url).host;
  }

  /** The current password of its tokens (base64 of `AWS:<password>`). */
  currentPassword(): string {
    return this.password;
  }

  /** A new password: logins with the old one become stale. */
  setPassword(password: string): void {
    this.password = password;
  }

  /** The input's registryId, which must be this registry's when given. */
  checkRegistryId(input: Json): void {
    const registryId = optionalString(input, 'registryId');
    if (registryId === undefined || registryId === this.registryId) return;
    throw new ServiceError('RegistryNotFoundException', `The registry with id '${registryId}' does not exist`);
  }

  /** A new repository, or ECR Public's refusal of a name that is taken or malformed. */
  add(name: string): PublicRepository {
    validateRepositoryName(name);
    if (this.repositories.get(name)) {
      throw new ServiceError('RepositoryAlreadyExistsException', `The repository with name '${name}' already exists in the registry with id '${this.registryId}'`);
    }
    const repository: PublicRepository = {
      repositoryArn: `arn:aws:ecr-public::${this.registryId}:repository/${name}`,
      registryId: this.registryId,
      repositoryName: name,
      repositoryUri: `${this.host}/${this.alias}/${name}`,
      createdAt: Date.now() / 1000,
    };
    this.repositories.add(repository);
    this.resourceTags.set(repository.repositoryArn, []);
    return repository;
  }

  /** The registry as the stand-in itself reads and writes it: with tokens of its own. */
  manifestAccess(): ManifestRegistry {
    const { issuer } = this;
    return {
      url: this.url,
      password: this.password,
      ...(issuer ? { bearer: (repository: string) => issuer.mint(this.service, [{ type: 'repository', name: repository, actions: ['pull', 'push'] }], 'kit') } : {}),
    };
  }

  /** Who may have which token. */
  policy(): TokenPolicy {
    return {
      authenticate: (user, password) => user === 'AWS' && password === this.password,
      grant: (requester, requested) =>
        requested.flatMap((access): Access[] => {
          const name = underAlias(this.alias, access.name);
          if (name === undefined || !this.repositories.get(name)) return [];
          const actions = access.actions.filter((action) => action === 'pull' || (requester !== undefined && action === 'push'));
          return actions.length > 0 ? [{ ...access, actions }] : [];
        }),
    };
  }
}
