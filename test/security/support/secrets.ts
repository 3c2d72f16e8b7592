/**
 * Secrets for the security tests and the checks that they never show: distinctive values that
 * cannot appear by accident, a finder that reports where one leaked, and the kit's stand-in
 * `docker` in the mode that does its worst, as a careless registry or CLI might.
 */
import { randomBytes } from 'node:crypto';
import { installDockerStandIn, type DockerStandIn } from '../../../devkit/docker-stand-in';

/** A named secret to look for. */
export interface Secret {
  name: string;
  value: string;
}

/** A session token in the shape of an STS one (base64, with its "/" and "+"), unique per call. */
export function sessionToken(): string {
  return `IQoJb3JpZ2luX2VjEK/Security+Test/${randomBytes(24).toString('base64')}`;
}

/** ECR's authorization token for a password: base64 of `AWS:<password>`. */
export function authToken(password: string, user = 'AWS'): string {
  return Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
}

/** The registry password and the base64 token that carries it. */
export function registrySecrets(password: string, label = 'registry password'): Secret[] {
  return [
    { name: label, value: password },
    { name: `${label} (base64 token)`, value: authToken(password) },
  ];
}

/** Names of the secrets that occur in `text` (empty: none leaked). */
export function leakedSecrets(text: string, secrets: Secret[]): string[] {
  return secrets.filter((s) => s.value !== '' && text.includes(s.value)).map((s) => s.name);
}

/** Everything a user can see of a failed or finished action, as one text. */
export function visibleText(parts: { output?: string; error?: unknown; result?: unknown }): string {
  const error = parts.error;
  const errorText =
    error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : error === undefined ? '' : typeof error === 'string' ? error : JSON.stringify(error);
  const resultText = parts.result === undefined ? '' : JSON.stringify(parts.result);
  return [parts.output ?? '', errorText, resultText].join('\n');
}

/** The kit's stand-in docker in its leaky mode: it repeats the registry password in its output. */
export function installLeakyDocker(): Promise<DockerStandIn> {
  return installDockerStandIn({ mode: 'leaky' });
}
