/**
 * TSDoc coverage of the public API, counted with the TypeScript compiler: every function exported through a folder's
 * `index.ts` (resolved through re-exports to its declaration) has a TSDoc comment and an `@example` — every one, named
 * when missing (tsdoc-examples.test.ts checks that each example type-checks). The figures are printed.
 */
import { describe, expect, it } from 'vitest';
import { exportedFunctions } from './exported-functions.js';

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
  it('every exported function has TSDoc and an @example', () => {
    const c = tsdocCoverage();
    console.log(`TSDoc: ${c.total} exported functions; ${c.documented} documented (${c.missing.length} without), ${c.withExample} with an @example (${c.missingExample.length} without)`);
    console.log(`without TSDoc: ${c.missing.join(', ')}`);
    expect(c.total).toBeGreaterThan(300);
    expect(c.missing).toEqual([]);
    expect(c.missingExample).toEqual([]);
  }, 300_000);
});
