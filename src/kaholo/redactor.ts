/** Hides every occurrence of every secret it knows in text bound for logs and errors. */
export class Redactor {
  private readonly secrets = new Set<string>();
  /** Short secrets (a proxy user such as "ops"), hidden only where they stand as a word of their own: each with its pattern. */
  private readonly words = new Map<string, RegExp>();

  /** Remembers a secret; values too short to be secrets are ignored so they do not mangle ordinary text. */
  add(secret: string | undefined): void {
    if (secret && secret.length >= 4) this.secrets.add(secret);
  }

  /**
   * A secret that may be short, such as a login's user: one of 4 characters or more is hidden as
   * add() hides it; a shorter one (2 or 3) only where no letter or digit adjoins it ("ops", not "operations").
   */
  addShort(secret: string | undefined): void {
    if (secret && secret.length >= 2 && secret.length < 4) {
      this.words.set(secret, new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(secret)}(?![\\p{L}\\p{N}])`, 'gu'));
    } else this.add(secret);
  }

  /** Whether `text` is one of the secrets (which are hidden, never shortened or shown in part). */
  knows(text: string): boolean {
    return this.secrets.has(text) || this.words.has(text);
  }

  redact(text: string): string {
    let result = text;
    // Longest first, so a secret that contains another is hidden whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) {
      result = result.split(secret).join('[REDACTED]');
    }
    for (const pattern of this.words.values()) result = result.replace(pattern, '[REDACTED]');
    return result;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
