/**
 * Where optional peer dependencies (data sets, the anvil binary) are looked up: from this library's own location first
 * (CJS build: __filename; ESM build: import.meta.url), then from the working directory, so a package installed beside
 * either the library or the app is found.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * `require` functions rooted at the places an optional package may be installed (beside the caller's working folder and
 * beside Provenant), tried in order by the lazy importers of optional packages.
 *
 * @example
 * ```ts
 * import { packageRequirers } from 'provenant';
 * const found = packageRequirers().some((req) => { try { req.resolve('mnist'); return true; } catch { return false; } });
 * ```
 */
export function packageRequirers(): NodeRequire[] {
  const bases: string[] = [];
  if (typeof __filename === 'string') bases.push(__filename);
  else {
    try {
      const url = import.meta.url;
      if (typeof url === 'string') bases.push(url);
    } catch {
      // import.meta is unavailable in this module format.
    }
  }
  bases.push(join(process.cwd(), 'package.json'));
  return bases.map((base) => createRequire(base));
}
