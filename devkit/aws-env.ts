import path from 'node:path';

/**
 * Clears the AWS settings of whoever runs the tests (keys, profile, region,
 * endpoint) so a test sees only what it sets, and restores them afterwards.
 */
export function isolateAwsEnvironment(): () => void {
  const saved = { ...process.env };
  for (const key of Object.keys(process.env)) {
    if (key.startsWith('AWS_')) delete process.env[key];
  }
  const nowhere = path.join(__dirname, 'no-such-aws-config');
  process.env.AWS_CONFIG_FILE = nowhere;
  process.env.AWS_SHARED_CREDENTIALS_FILE = nowhere;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  return () => {
    for (const key of Object.keys(process.env)) {
      if (!(key in saved)) delete process.env[key];
    }
    Object.assign(process.env, saved);
  };
}
