/**
 * TSDoc coverage of the public API, counted with the TypeScript compiler: every function exported through a folder's
 * `index.ts` (resolved through re-exports to its declaration) should have a TSDoc comment and an `@example`. The floors
 * are the counts reached when this test was written: coverage may only grow. The figures are printed.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
/** Floors (exported functions with TSDoc / with an @example), raised as coverage grows. */
const FLOOR = { documented: 364, withExample: 195 };

function indexFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return indexFiles(path);
    return name === 'index.ts' ? [path] : [];
  });
}

export function tsdocCoverage(): { total: number; documented: number; withExample: number; missing: string[]; missingExample: string[] } {
  const files = indexFiles(join(root, 'src'));
  const program = ts.createProgram(files, { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, allowJs: false, noEmit: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const seen = new Map<ts.Node, string>();
  for (const file of files) {
    const source = program.getSourceFile(file);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) continue;
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      for (const declaration of symbol.declarations ?? []) {
        const isFunction =
          ts.isFunctionDeclaration(declaration) ||
          (ts.isVariableDeclaration(declaration) && !!declaration.initializer && (ts.isArrowFunction(declaration.initializer) || ts.isFunctionExpression(declaration.initializer)));
        if (!isFunction || declaration.getSourceFile().fileName.includes('node_modules')) continue;
        // Overloads: count the function once, by its first declaration.
        if ([...seen.keys()].some((n) => ts.isFunctionDeclaration(n) && n.name?.text === symbol.name && n.getSourceFile() === declaration.getSourceFile())) continue;
        seen.set(declaration, `${symbol.name} (${declaration.getSourceFile().fileName.replace(`${root}/`, '')})`);
      }
    }
  }
  const docOf = (node: ts.Node): readonly ts.JSDoc[] => {
    const host = ts.isVariableDeclaration(node) ? node.parent.parent : node;
    return (host as { jsDoc?: ts.JSDoc[] }).jsDoc ?? [];
  };
  const missing: string[] = [];
  const missingExample: string[] = [];
  for (const [node, name] of seen) {
    const docs = docOf(node);
    if (docs.length === 0) missing.push(name);
    if (!docs.some((d) => (d.tags ?? []).some((t) => t.tagName.text === 'example'))) missingExample.push(name);
  }
  return { total: seen.size, documented: seen.size - missing.length, withExample: seen.size - missingExample.length, missing, missingExample };
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
