/**
 * The access keys the local AWS endpoint accepts: the base key it was started with, and the
 * temporary keys its STS hands out. A temporary key signs only together with the session token it
 * was issued with; whether it has expired is for each service to refuse.
 */
import { randomBytes } from 'node:crypto';

export interface KeyPair {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface TemporaryKey extends KeyPair {
  sessionToken: string;
  /** The role whose credentials these are. */
  roleArn: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Letters and digits only: what AWS's access keys, secrets and tokens look like closely enough. */
export const randomKey = (length: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'): string =>
  Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join('');

export class AccessKeys {
  /**
   * `temporaryKeys` may be shared by several endpoints (one per region): as in AWS, the keys STS
   * hands out work in every region.
   */
  constructor(
    private readonly base: KeyPair,
    private readonly temporaryKeys = new Map<string, TemporaryKey>(),
  ) {}

  /**
   * The secret that signs for `accessKeyId`: the base key (whatever session token a test sends with
   * it), or a temporary key, only together with the session token it was issued with.
   */
  secretFor(accessKeyId: string, sessionToken: string | undefined): string | undefined {
    if (accessKeyId === this.base.accessKeyId) return this.base.secretAccessKey;
    const temporary = this.temporaryKeys.get(accessKeyId);
    return temporary && sessionToken === temporary.sessionToken ? temporary.secretAccessKey : undefined;
  }

  /** The temporary key issued under this id, if any (with or without its token at hand). */
  temporary(accessKeyId: string): TemporaryKey | undefined {
    return this.temporaryKeys.get(accessKeyId);
  }

  /** A new temporary key for `roleArn`, valid for `seconds`. */
  issue(roleArn: string, seconds: number): TemporaryKey {
    const key: TemporaryKey = {
      accessKeyId: `ASIA${randomKey(16)}`,
      secretAccessKey: randomKey(40, BASE64_ALPHABET),
      sessionToken: `FwoGZXIvYXdzE${randomKey(120, BASE64_ALPHABET)}`,
      roleArn,
      expiresAt: Date.now() + seconds * 1000,
    };
    this.temporaryKeys.set(key.accessKeyId, key);
    return key;
  }
}
