import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository's `public/` folder. It sits at a different depth from the compiled module
 * (`dist/src/modules/demo/`) than from the source one (`src/modules/demo/`, under ts-jest), so
 * walk up until a folder holds `public/index.html`. Undefined when the page is not shipped
 * (e.g. a container image built without it): the demo routes then answer 404.
 */
export function findPublicDir(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from, depth = 0; depth < 6; dir = dirname(dir), depth++) {
    const candidate = join(dir, 'public');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    if (dirname(dir) === dir) break;
  }
  return undefined;
}
