// Real-browser end-to-end tests (npm run test:browser): Debian's Chromium (/usr/bin/chromium)
// driven by playwright-core against the BFF and the sandbox ASPSP started in-process, on a real
// PostgreSQL (DATABASE_URL, or the embedded one that test/support/global-setup.ts starts from the
// build in dist/, so run `npm run build` first when DATABASE_URL is unset).
// One file at a time: each launches a browser, and the machine's cores are shared.
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/test/browser/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 120000,
  maxWorkers: 1,
};
