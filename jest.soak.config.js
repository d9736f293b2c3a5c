// The soak test (npm run test:soak): two BFF processes from the build in dist/, the sandbox ASPSP
// faulting a share of every bank call, users paying and reading for about two minutes, a replica
// killed and restarted, PostgreSQL stopped for 10 s. It brings its own embedded PostgreSQL (so it
// can stop it) on a free loopback port: no global setup, nothing shared with other suites.
import base from './jest.config.js';

export default {
  testEnvironment: base.testEnvironment,
  extensionsToTreatAsEsm: base.extensionsToTreatAsEsm,
  moduleNameMapper: base.moduleNameMapper,
  transform: base.transform,
  testMatch: ['<rootDir>/test/soak/**/*.spec.ts'],
  testTimeout: 300000,
  maxWorkers: 1,
};
