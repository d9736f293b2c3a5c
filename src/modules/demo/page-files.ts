import { readdirSync } from 'node:fs';
import { join, sep } from 'node:path';

/**
 * The browser modules of the demo page: every `.js` file under `public/js/`, as paths relative to
 * it with `/` separators (`main.js`, `views/banks.js`). Listed once at start-up, so the routes serve
 * exactly these and nothing else from the folder: no type declarations, no config, nothing above it.
 */
export function listPageModules(publicDir: string): ReadonlySet<string> {
  const root = join(publicDir, 'js');
  const entries = readdirSync(root, { recursive: true, withFileTypes: true });
  return new Set(
    entries
      .filter((e) => e.isFile() && e.name.endsWith('.js'))
      .map((e) =>
        join(e.parentPath, e.name)
          .slice(root.length + 1)
          .split(sep)
          .join('/'),
      ),
  );
}
