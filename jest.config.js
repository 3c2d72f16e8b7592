/**
 * Unit tests run against src/ through ts-jest; end-to-end tests load the
 * compiled plugin. The global setup finds or starts one Docker engine for the
 * whole run (or records why there is none) so real-parts tests share it.
 */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};
