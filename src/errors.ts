/**
 * Errors the user can act on. The message is what Kaholo shows, so it names
 * the parameter or the part that failed and says what was expected.
 */
export class PluginError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginError';
  }
}

/** A parameter value that cannot be used; the message names the parameter. */
export class ParamError extends PluginError {
  constructor(readonly param: string, problem: string) {
    super(`Parameter "${param}": ${problem}`);
    this.name = 'ParamError';
  }
}

interface AwsLikeError {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $metadata?: { requestId?: unknown; httpStatusCode?: unknown };
}

/** Turns an AWS SDK error into one line with its name, message and request id. */
export function describeAwsError(operation: string, error: unknown): PluginError {
  if (error instanceof PluginError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as AwsLikeError;
  const name = typeof e.name === 'string' && e.name !== 'Error' ? e.name : undefined;
  const message = typeof e.message === 'string' ? e.message : String(error);
  const requestId = typeof e.$metadata?.requestId === 'string' ? e.$metadata.requestId : undefined;
  if (name === 'CredentialsProviderError') {
    return new PluginError(
      `ECR ${operation} failed: no AWS credentials found. Set "accessKeyId" and "secretAccessKey" ` +
        `(in the action or the plugin settings), or give the agent a role or profile. (${message})`,
    );
  }
  const network = networkProblem(e.code ?? (error as { cause?: { code?: unknown } })?.cause?.code);
  const parts = [`ECR ${operation} failed: ${name ? `${name}: ` : ''}${message}`];
  if (network) parts.push(network);
  if (requestId) parts.push(`(request id: ${requestId})`);
  return new PluginError(parts.join(' '));
}

function networkProblem(code: unknown): string | undefined {
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return '— the ECR endpoint name does not resolve: check "region" (is it a real AWS region?) and the agent\'s DNS.';
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'ETIMEDOUT':
      return '— the ECR endpoint could not be reached from the agent.';
    default:
      return undefined;
  }
}
