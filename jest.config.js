// Unit, integration and end-to-end tests. They run against a real PostgreSQL:
// DATABASE_URL when set, otherwise an embedded one started by test/support/global-setup.ts.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/test/browser/', '<rootDir>/test/soak/'],
  // Every answer a suite receives from a test BFF is checked against the OpenAPI document.
  setupFilesAfterEnv: ['<rootDir>/test/support/contract-check.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 30000,
  maxWorkers: 2,
};
