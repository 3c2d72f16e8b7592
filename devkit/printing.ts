/** Small helpers for the readable printouts of the demo and the runner. */
import type { ParamDeclaration } from './agent';

const useColor = (stream: NodeJS.WriteStream): boolean => stream.isTTY === true && !process.env.NO_COLOR;

export function bold(text: string, stream: NodeJS.WriteStream = process.stdout): string {
  return useColor(stream) ? `\x1b[1m${text}\x1b[22m` : text;
}

export function dim(text: string, stream: NodeJS.WriteStream = process.stdout): string {
  return useColor(stream) ? `\x1b[2m${text}\x1b[22m` : text;
}

export function indent(text: string, prefix = '  '): string {
  return text
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n');
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'undefined';
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function vaultNote(value: unknown): string {
  return typeof value === 'string' ? `<vault: ${value.length} characters>` : '<vault>';
}

/** Param or setting values with every vault value replaced by a note (the values never print). */
export function maskVault(values: Record<string, unknown>, declarations: ParamDeclaration[]): Record<string, unknown> {
  const masked: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const declaration = declarations.find((d) => d.name === name);
    masked[name] = declaration?.type === 'vault' && value !== '' && value !== undefined ? vaultNote(value) : value;
  }
  return masked;
}

/**
 * Runs `work` with everything written to stdout and stderr (the plugin's activity log, and the
 * output of the docker commands it streams) shown line by line behind `prefix`, on stdout.
 */
export async function withPrefixedOutput<T>(prefix: string, work: () => Promise<T>): Promise<T> {
  const originalOut = process.stdout.write.bind(process.stdout);
  const originalErr = process.stderr.write.bind(process.stderr);
  let pending = '';
  const emit = (chunk: string | Uint8Array): boolean => {
    pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      originalOut(`${prefix}${pending.slice(0, newline)}\n`);
      pending = pending.slice(newline + 1);
    }
    return true;
  };
  process.stdout.write = emit;
  process.stderr.write = emit;
  try {
    return await work();
  } finally {
    process.stdout.write = originalOut;
    process.stderr.write = originalErr;
    if (pending !== '') originalOut(`${prefix}${pending}\n`);
  }
}

/** Runs `work` with stdout redirected to stderr (the runner's --log-to-stderr). */
export async function withStdoutOnStderr<T>(work: () => Promise<T>): Promise<T> {
  const originalOut = process.stdout.write.bind(process.stdout);
  const toStderr = (chunk: string | Uint8Array): boolean => process.stderr.write(chunk);
  process.stdout.write = toStderr;
  try {
    return await work();
  } finally {
    process.stdout.write = originalOut;
  }
}
