/**
 * Every `@example` of an exported function type-checks against the real signatures. Each example is one fenced ```ts
 * block, a module importing from the package's public entries (`provenant`, `provenant/<room>`), with top-level `await`
 * allowed and `declare const x: T;` for inputs it does not construct. The blocks become virtual modules of ONE program in
 * which `provenant` and `provenant/<room>` map to src/ (so an example is checked against the code as it is now); every
 * example that fails is listed by function and file with its first errors.
 */
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { exportedFunctions, root } from './exported-functions.js';

export interface ExampleBlock {
  /** `name (file)` of the documented function. */
  owner: string;
  /** Index of the @example among the function's examples. */
  index: number;
  /** The fenced code blocks found in the @example (the convention wants exactly one). */
  blocks: string[];
}

/** The text of a JSDoc tag without the comment margin (` * `) and without the tag name. */
function tagText(tag: ts.JSDocTag): string {
  const raw = tag.getSourceFile().text.slice(tag.getStart(), tag.end);
  return raw
    .split('\n')
    .map((line, i) => (i === 0 ? line.replace(/^@\w+/, '') : line.replace(/^\s*\*\/?\s?/, '')))
    .join('\n')
    .replace(/\*\/\s*$/, '');
}

/** Every @example of every exported function, with its fenced ```ts blocks. */
export function exampleBlocks(): ExampleBlock[] {
  const out: ExampleBlock[] = [];
  for (const { name, file, docs } of exportedFunctions()) {
    let index = 0;
    for (const doc of docs) {
      for (const tag of doc.tags ?? []) {
        if (tag.tagName.text !== 'example') continue;
        const text = tagText(tag);
        const blocks = [...text.matchAll(/```(?:ts|typescript)[^\n]*\n([\s\S]*?)```/g)].map((m) => m[1]);
        out.push({ owner: `${name} (${file})`, index: index++, blocks });
      }
    }
  }
  return out;
}

/** Compiles every block in one program; returns the failures (`owner #index: message`) and the count of blocks. */
export function checkExamples(examples: ExampleBlock[]): { failures: string[]; compiled: number } {
  const failures: string[] = [];
  const virtual = new Map<string, { example: ExampleBlock; code: string }>();
  for (const example of examples) {
    if (example.blocks.length !== 1) {
      failures.push(`${example.owner} @example #${example.index + 1}: ${example.blocks.length} fenced \`\`\`ts blocks (the convention is exactly one)`);
    }
    example.blocks.forEach((code, k) => {
      const slug = example.owner.replace(/[^\w]+/g, '_');
      // `export {}` makes a block without imports a module too (top-level await needs one).
      virtual.set(join(root, '.tsdoc-examples', `${slug}_${example.index}_${k}.ts`), { example, code: `${code}\nexport {};\n` });
    });
  }
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts'],
    types: ['node'],
    strict: true,
    esModuleInterop: true,
    resolveJsonModule: true,
    skipLibCheck: true,
    noEmit: true,
    paths: { provenant: [join(root, 'src/index.ts')], 'provenant/*': [join(root, 'src/*/index.ts')] },
  };
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const entry = virtual.get(fileName);
    return entry ? ts.createSourceFile(fileName, entry.code, languageVersion, true, ts.ScriptKind.TS) : getSourceFile(fileName, languageVersion, onError, shouldCreate);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => virtual.has(fileName) || fileExists(fileName);
  const readFile = host.readFile.bind(host);
  host.readFile = (fileName) => virtual.get(fileName)?.code ?? readFile(fileName);
  const program = ts.createProgram([...virtual.keys()], options, host);
  let compiled = 0;
  for (const [fileName, { example }] of virtual) {
    const source = program.getSourceFile(fileName)!;
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    if (diagnostics.length === 0) {
      compiled++;
      continue;
    }
    const messages = diagnostics.slice(0, 3).map((d) => {
      const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line + 1;
      return `line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ').slice(0, 200)}`;
    });
    failures.push(`${example.owner} @example #${example.index + 1}: ${messages.join(' | ')}${diagnostics.length > 3 ? ` (+${diagnostics.length - 3} more)` : ''}`);
  }
  return { failures, compiled };
}

describe('@example blocks', () => {
  it('every @example of an exported function is one ```ts block that type-checks against the public entries', () => {
    const examples = exampleBlocks();
    const { failures, compiled } = checkExamples(examples);
    const blocks = examples.reduce((n, e) => n + e.blocks.length, 0);
    console.log(`@example: ${examples.length} examples, ${blocks} fenced blocks, ${compiled} compile; ${failures.length} failures`);
    if (failures.length > 0) console.log(`failing examples:\n${failures.join('\n')}`);
    expect(examples.length).toBeGreaterThan(200);
    expect(failures).toEqual([]);
  }, 300_000);
});
