/**
 * Test tiers, one jest project each (`npm run test:<name>`; `npm test` runs them all):
 *   unit      the plugin's own code against src/ (mocked SDK, stand-in docker): no build, no Docker
 *   kit       the local kit itself (devkit/): the ECR stand-in, the runner's arguments, the harness
 *   e2e       the compiled plugin on real parts: SDK over HTTP, docker CLI, engine, registry
 *   security  the hard rules (secrets, isolation, no shell, faults), on the same real parts
 * Projects that need real parts find or start one Docker engine per jest run (global setup).
 * Activity logs are shown only for a failing test, or always with KAHOLO_TEST_VERBOSE=1.
 */
const shared = {
  preset: 'ts-jest',
  testEnvironment: '<rootDir>/test/support/quiet-environment.ts',
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};
const withEngine = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

module.exports = {
  projects: [
    { ...shared, displayName: 'unit', roots: ['<rootDir>/test/unit'] },
    { ...shared, ...withEngine, displayName: 'kit', roots: ['<rootDir>/test/kit'] },
    { ...shared, ...withEngine, displayName: 'e2e', roots: ['<rootDir>/test/e2e'] },
    { ...shared, ...withEngine, displayName: 'security', roots: ['<rootDir>/test/security'] },
  ],
};
