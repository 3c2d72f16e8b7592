/**
 * jest globalSetup: finds or starts the Docker engine ONCE per jest run and publishes it to the
 * test workers through process.env (see e2e-environment.ts for the variables). Without an engine it
 * prints one line and marks the run, so that the real-parts tests skip; under CI=true it throws.
 * jest.config.js: globalSetup: '<rootDir>/test/support/global-setup.ts'
 */
import { ensureDockerEngine, dockerServerVersion, type DockerEngine } from '../../devkit/docker-engine';
import { MARKER, MARKER_REASON, MARKER_STARTED, e2eAvailability, isCi, skipLine } from './e2e-environment';

/** Read by global-teardown.ts (globalSetup and globalTeardown share the jest main process). */
export const ENGINE_KEY = '__KAHOLO_E2E_ENGINE__';
type Holder = { [ENGINE_KEY]?: DockerEngine };

export default async function globalSetup(): Promise<void> {
  // Each project that needs an engine names this setup; the first one decides for the whole run.
  if (process.env[MARKER]) return;
  const availability = await e2eAvailability();
  if (!availability.ok) {
    process.env[MARKER] = 'unavailable';
    process.env[MARKER_REASON] = availability.reason;
    if (isCi()) throw new Error(`e2e: CI=true but the real-parts tests cannot run: ${availability.reason}`);
    console.warn(`\n${skipLine(availability.reason)}`);
    return;
  }
  const t0 = Date.now();
  const engine = await ensureDockerEngine();
  (globalThis as Holder)[ENGINE_KEY] = engine;
  process.env.DOCKER_HOST = engine.env.DOCKER_HOST;
  process.env[MARKER] = 'ready';
  process.env[MARKER_STARTED] = engine.started ? '1' : '0';
  delete process.env[MARKER_REASON];
  if (isCi() || process.env.KAHOLO_TEST_VERBOSE) {
    const version = (await dockerServerVersion(engine.env.DOCKER_HOST)) ?? '?';
    const how = engine.started ? `private dockerd started in ${Date.now() - t0} ms` : 'existing engine';
    console.warn(`\ne2e: Docker engine ${version} at ${engine.env.DOCKER_HOST} (${how})`);
  }
}
