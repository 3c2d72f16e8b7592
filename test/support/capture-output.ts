/** Captures what code writes to stdout and stderr (the activity log) while a function runs. */
export async function captureOutput<T>(run: () => Promise<T>): Promise<{ output: string; result?: T; error?: unknown }> {
  const chunks: string[] = [];
  const originals = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  const capture = (chunk: string | Uint8Array): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  process.stdout.write = capture;
  process.stderr.write = capture;
  try {
    const result = await run();
    return { output: chunks.join(''), result };
  } catch (error) {
    return { output: chunks.join(''), error };
  } finally {
    process.stdout.write = originals.out;
    process.stderr.write = originals.err;
  }
}
