// Unit, integration and end-to-end tests. They run against a real PostgreSQL:
// DATABASE_URL when set, otherwise an embedded one started by test/support/global-setup.ts.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // @fastify/static require()s content-disposition 3, which is ES modules only: Node loads it, Jest's
    // require cannot. Version 2 (installed with Express, for the sandbox bank) has the same `create`.
    '^content-disposition$': '<rootDir>/node_modules/content-disposition/dist/index.js',
  },
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
