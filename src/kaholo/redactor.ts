/** Hides every occurrence of every secret it knows in text bound for logs and errors. */
export class Redactor {
  private readonly secrets = new Set<string>();

  /** Remembers a secret; values too short to be secrets are ignored so they do not mangle ordinary text. */
  add(secret: string | undefined): void {
    if (secret && secret.length >= 4) this.secrets.add(secret);
  }

  /** Whether `text` is one of the secrets (which are hidden, never shortened or shown in part). */
  knows(text: string): boolean {
    return this.secrets.has(text);
  }

  redact(text: string): string {
    let result = text;
    // Longest first, so a secret that contains another is hidden whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) {
      result = result.split(secret).join('[REDACTED]');
    }
    return result;
  }
}
