/**
 * Loads an optional peer dependency. The indirection keeps a real `import()` in the CommonJS build (bundlers rewrite a
 * literal `import()` into `require()`, which cannot load ESM packages with top-level await such as vega-lite), so the
 * report renders from both builds and from tslab notebooks.
 */
import { ProvenantError } from '../core/index.js';

const dynamicImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

export async function importOptional<T>(packageName: string, purpose: string): Promise<T> {
  try {
    try {
      return (await dynamicImport(packageName)) as T;
    } catch (error) {
      // Inside a vm context without an import callback (test runners), fall back to the module system's own import().
      if (!(error instanceof TypeError) || !/dynamic import callback/i.test(error.message)) throw error;
      return (await import(/* @vite-ignore */ packageName)) as T;
    }
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new ProvenantError('OPTIONAL_DEPENDENCY_MISSING', `${purpose} needs the optional package "${packageName}".`, {
        details: `Install it: npm install ${packageName}`,
        data: { packageName },
        cause,
      });
    }
    throw cause;
  }
}
