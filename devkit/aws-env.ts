import path from 'node:path';

/**
 * The AWS settings of whoever runs the kit (keys, profile, region, endpoint) left out, so the
 * plugin sees only what a test, the demo or the benchmark sets: no AWS_* variable, the shared
 * config files pointed nowhere, no instance metadata lookups.
 */
export function withoutAwsSettings(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('AWS_') && value !== undefined) clean[key] = value;
  }
  const nowhere = path.join(__dirname, 'no-such-aws-config');
  return { ...clean, AWS_CONFIG_FILE: nowhere, AWS_SHARED_CREDENTIALS_FILE: nowhere, AWS_EC2_METADATA_DISABLED: 'true' };
}

/** Applies withoutAwsSettings() to this process; returns the function that restores what was there. */
export function isolateAwsEnvironment(): () => void {
  const saved = { ...process.env };
  const clean = withoutAwsSettings(saved);
  for (const key of Object.keys(process.env)) if (!(key in clean)) delete process.env[key];
  Object.assign(process.env, clean);
  return () => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  };
}
