/**
 * The public API's functions, found with the TypeScript compiler: every function exported through a folder's `index.ts`
 * (resolved through re-exports to its declaration), with its TSDoc. Shared by the TSDoc coverage test and the test that
 * type-checks every `@example`.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

export const root = resolve(import.meta.dirname, '../..');

export interface ExportedFunction {
  /** The exported name. */
  name: string;
  /** The declaring file, relative to the repository root. */
  file: string;
  /** The declaration (a function declaration, or the variable holding an arrow or function expression). */
  node: ts.Node;
  /** Its TSDoc comments (empty when it has none). */
  docs: readonly ts.JSDoc[];
}

function indexFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return indexFiles(path);
    return name === 'index.ts' ? [path] : [];
  });
}

/** Every exported function of src/, once each (an overloaded function by its first declaration). */
export function exportedFunctions(): ExportedFunction[] {
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
        seen.set(declaration, symbol.name);
      }
    }
  }
  const docOf = (node: ts.Node): readonly ts.JSDoc[] => {
    const host = ts.isVariableDeclaration(node) ? node.parent.parent : node;
    return (host as { jsDoc?: ts.JSDoc[] }).jsDoc ?? [];
  };
  return [...seen].map(([node, name]) => ({ name, file: node.getSourceFile().fileName.replace(`${root}/`, ''), node, docs: docOf(node) }));
}
