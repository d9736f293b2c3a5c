import { contractViolations, takeRecorded } from './contract.js';

/**
 * Runs after every test file (setupFilesAfterEnv): each answer its test BFFs sent must be as the
 * OpenAPI document says (test/support/contract.ts). A violation fails the file that received it.
 */
afterAll(() => {
  const violations = [...new Set(takeRecorded().flatMap((r) => contractViolations(r)))];
  if (violations.length > 0) throw new Error(`Answers not as documented in specs/tpp-bff.openapi.json:\n${violations.join('\n')}`);
});
