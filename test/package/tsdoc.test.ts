/**
 * TSDoc coverage of the public API, counted with the TypeScript compiler: every function exported through a folder's
 * `index.ts` (resolved through re-exports to its declaration) should have a TSDoc comment and an `@example`. The floors
 * are the counts reached when this test was written: coverage may only grow. The figures are printed.
 */
import { describe, expect, it } from 'vitest';
import { exportedFunctions } from './exported-functions.js';

/** Floors (exported functions with TSDoc / with an @example), raised as coverage grows. */
const FLOOR = { documented: 364, withExample: 195 };

export function tsdocCoverage(): { total: number; documented: number; withExample: number; missing: string[]; missingExample: string[] } {
  const functions = exportedFunctions();
  const missing: string[] = [];
  const missingExample: string[] = [];
  for (const { name, file, docs } of functions) {
    if (docs.length === 0) missing.push(`${name} (${file})`);
    if (!docs.some((d) => (d.tags ?? []).some((t) => t.tagName.text === 'example'))) missingExample.push(`${name} (${file})`);
  }
  return { total: functions.length, documented: functions.length - missing.length, withExample: functions.length - missingExample.length, missing, missingExample };
}

describe('TSDoc on the public API', () => {
  it('never falls below the coverage reached', () => {
    const c = tsdocCoverage();
    console.log(`TSDoc: ${c.total} exported functions; ${c.documented} documented (${c.missing.length} without), ${c.withExample} with an @example (${c.missingExample.length} without)`);
    console.log(`without TSDoc: ${c.missing.join(', ')}`);
    expect(c.total).toBeGreaterThan(300);
    expect(c.documented).toBeGreaterThanOrEqual(FLOOR.documented);
    expect(c.withExample).toBeGreaterThanOrEqual(FLOOR.withExample);
  }, 120_000);
});
