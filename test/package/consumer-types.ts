/**
 * Type-checks a package consumer: a temporary project whose `node_modules/provenant` holds the published declarations
 * (built by `tsup --dts-only` and scripts/public-dts.mjs, exactly as `npm run build` writes them), compiled with
 * `skipLibCheck: false` under each module resolution (node16, nodenext, bundler), as ESM and CommonJS, with and without
 * the DOM library. One compiler host caches parsed files, so the programs share the cost of parsing lib.dom and viem.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';

export const root = resolve(import.meta.dirname, '../..');
/** The package's entries, as a consumer imports them. */
export const ENTRIES = ['provenant', 'provenant/datanet', 'provenant/finetune', 'provenant/eval', 'provenant/attribution', 'provenant/audit', 'provenant/chain'];

export interface ConsumerConfig {
  /** e.g. `nodenext/esm/dom`. */
  name: string;
  resolution: 'node16' | 'nodenext' | 'bundler';
  format: 'esm' | 'cjs';
  dom: boolean;
}

/** Every configuration the package promises to compile under (bundler resolution reads only the `import` condition). */
export function consumerConfigs(): ConsumerConfig[] {
  const configs: ConsumerConfig[] = [];
  for (const resolution of ['node16', 'nodenext', 'bundler'] as const) {
    for (const format of resolution === 'bundler' ? (['esm'] as const) : (['esm', 'cjs'] as const)) {
      for (const dom of [false, true]) configs.push({ name: `${resolution}/${format}/${dom ? 'dom' : 'es2022'}`, resolution, format, dom });
    }
  }
  return configs;
}

/**
 * Builds the published declarations into a fresh consumer folder (`<dir>/node_modules/provenant`) and links the packages
 * a real install brings (viem, @types/node, the tfjs packages) from this repository's node_modules. Returns the consumer
 * folder.
 */
export function stageConsumer(): string {
  const dir = mkdtempSync(join(tmpdir(), 'provenant-consumer-'));
  const pkg = join(dir, 'node_modules/provenant');
  mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
  mkdirSync(pkg, { recursive: true });
  copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
  const tsup = join(root, 'node_modules/tsup/dist/cli-default.js');
  execFileSync(process.execPath, [tsup, '--dts-only', '--silent', '--out-dir', join(pkg, 'dist')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  execFileSync(process.execPath, [join(root, 'scripts/public-dts.mjs'), join(pkg, 'dist')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  symlinkSync(join(root, 'node_modules/viem'), join(dir, 'node_modules/viem'));
  symlinkSync(join(root, 'node_modules/@types/node'), join(dir, 'node_modules/@types/node'));
  // tfjs is installed beside provenant in a real project: linked here too, so a declaration that still reaches it (even a
  // bare side-effect import, which TypeScript skips silently when the package is absent) fails the check as it would there.
  symlinkSync(join(root, 'node_modules/@tensorflow'), join(dir, 'node_modules/@tensorflow'));
  symlinkSync(join(root, 'node_modules/@webgpu'), join(dir, 'node_modules/@webgpu'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  return dir;
}

function compilerOptions(dir: string, config: ConsumerConfig): ts.CompilerOptions {
  const module = { node16: ts.ModuleKind.Node16, nodenext: ts.ModuleKind.NodeNext, bundler: ts.ModuleKind.ESNext }[config.resolution];
  const moduleResolution = { node16: ts.ModuleResolutionKind.Node16, nodenext: ts.ModuleResolutionKind.NodeNext, bundler: ts.ModuleResolutionKind.Bundler }[config.resolution];
  return {
    target: ts.ScriptTarget.ES2022,
    module,
    moduleResolution,
    lib: config.dom ? ['lib.es2022.d.ts', 'lib.dom.d.ts'] : ['lib.es2022.d.ts'],
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    types: ['node'],
    typeRoots: [join(dir, 'node_modules/@types')],
  };
}

/** A compiler host that parses each file once across programs (keyed by name, language version and module format). */
function cachingHost(): (options: ts.CompilerOptions) => ts.CompilerHost {
  const cache = new Map<string, ts.SourceFile | undefined>();
  return (options) => {
    const host = ts.createCompilerHost(options, true);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (fileName, languageVersionOrOptions, onError, shouldCreate) => {
      const v = languageVersionOrOptions;
      const key = typeof v === 'object' ? `${fileName}|${v.languageVersion}|${v.impliedNodeFormat ?? ''}` : `${fileName}|${v}`;
      if (!cache.has(key)) cache.set(key, getSourceFile(fileName, languageVersionOrOptions, onError, shouldCreate));
      return cache.get(key);
    };
    return host;
  };
}

/**
 * Compiles one consumer file per entry (or only `entries`) under each configuration; returns the error messages, one
 * line each (`file(line,col): message`), by configuration name — and by `configuration entry` when `perEntry` is set
 * (one program per entry, so an error is charged to the entries that load its file).
 */
export function typecheckConsumer(dir: string, configs: ConsumerConfig[], options: { entries?: string[]; perEntry?: boolean } = {}): Map<string, string[]> {
  const entries = options.entries ?? ENTRIES;
  const hostFor = cachingHost();
  const results = new Map<string, string[]>();
  for (const config of configs) {
    const ext = config.format === 'cjs' ? 'cts' : 'mts';
    const files = entries.map((entry, i) => {
      const file = join(dir, `${config.name.replaceAll('/', '-')}-${i}.${ext}`);
      // A namespace import type-checks every declaration the entry reaches.
      writeFileSync(file, `import * as entry from '${entry}';\nexport const names: string[] = Object.keys(entry);\n`);
      return file;
    });
    const groups = options.perEntry ? files.map((f, i) => ({ key: `${config.name} ${entries[i]}`, roots: [f] })) : [{ key: config.name, roots: files }];
    for (const { key, roots } of groups) {
      const opts = compilerOptions(dir, config);
      const program = ts.createProgram(roots, opts, hostFor(opts));
      const diagnostics = ts.getPreEmitDiagnostics(program);
      results.set(
        key,
        diagnostics.map((d) => {
          const where = d.file ? `${d.file.fileName.replace(/.*node_modules\//, '')}(${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1})` : '';
          return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
        }),
      );
    }
  }
  return results;
}
