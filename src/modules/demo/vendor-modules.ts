import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Installed packages the demo page loads as ES modules, by the name the page imports them as under
 * `/js/` and the package they come from. Each must ship a self-contained ESM build (no bare imports:
 * the page has no import map, which the CSP would have to allow as inline script).
 */
const VENDOR_PACKAGES: Readonly<Record<string, string>> = {
  'vendor/openapi-fetch.mjs': 'openapi-fetch',
};

/**
 * Where each vendor module is on disk: the installed package's own ESM entry (`exports["."].import`),
 * found once at start-up, so the page gets exactly the version package-lock.json pins and the repo
 * holds no copy of it. A package that is not installed is left out (and reported to `missing`).
 */
export function resolveVendorModules(missing: (pkg: string, error: unknown) => void = () => {}): ReadonlyMap<string, string> {
  const require = createRequire(import.meta.url);
  const found = new Map<string, string>();
  for (const [name, pkg] of Object.entries(VENDOR_PACKAGES)) {
    try {
      const manifestPath = require.resolve(`${pkg}/package.json`);
      found.set(name, join(dirname(manifestPath), esmEntry(JSON.parse(readFileSync(manifestPath, 'utf8')), pkg)));
    } catch (error) {
      missing(pkg, error);
    }
  }
  return found;
}

/** The file `import '<pkg>'` loads, from the manifest's conditional exports. */
function esmEntry(manifest: { exports?: Record<string, unknown> }, pkg: string): string {
  const root = manifest.exports?.['.'];
  const entry = typeof root === 'object' && root !== null ? (root as Record<string, unknown>).import : undefined;
  if (typeof entry !== 'string') throw new Error(`${pkg} declares no ESM entry (exports["."].import)`);
  return entry;
}
