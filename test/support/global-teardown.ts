/**
 * jest globalTeardown: stops the engine that global-setup.ts started (an engine that was already
 * running is left alone) and removes its directory.
 * jest.config.js: globalTeardown: '<rootDir>/test/support/global-teardown.ts'
 */
import type { DockerEngine } from '../../devkit/docker-engine';
import { ENGINE_KEY } from './global-setup';

type Holder = { [ENGINE_KEY]?: DockerEngine };

export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as Holder;
  const engine = holder[ENGINE_KEY];
  delete holder[ENGINE_KEY];
  if (engine) await engine.stop();
}
