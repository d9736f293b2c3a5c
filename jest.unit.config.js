// The pure specs (`npm run test:unit`): rules, parsing, policies, the cipher, the error catalogue.
// No global setup, no database and no build: they run on a clean checkout in seconds.
import base from './jest.config.js';

export default {
  testEnvironment: base.testEnvironment,
  extensionsToTreatAsEsm: base.extensionsToTreatAsEsm,
  moduleNameMapper: base.moduleNameMapper,
  transform: base.transform,
  testMatch: ['<rootDir>/test/unit/**/*.spec.ts'],
  testTimeout: 10000,
  maxWorkers: 2,
};
