/**
 * The package's faces: each room has a subpath export and a build entry; importing `provenant/datanet` (or
 * `provenant/audit`) loads neither tfjs nor viem (checked in a fresh process by the modules it loaded); and a consumer with
 * `skipLibCheck: false` type-checks against those faces.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const SUBPATHS = ['datanet', 'finetune', 'eval', 'attribution', 'audit', 'chain'];

/** Modules of tfjs and viem a fresh Node process has loaded after importing `entry` (a src file, through tsx). */
function heavyModulesLoadedBy(entry: string): string[] {
  const code = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(entry)});
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => /[\\\\/](@tensorflow|viem)[\\\\/]/.test(k));
    console.log('LOADED ' + JSON.stringify(loaded.map((k) => k.replace(/.*node_modules[\\\\/]/, ''))));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const line = out.split('\n').find((l) => l.startsWith('LOADED '));
  if (!line) throw new Error(`no report from the child process:\n${out}`);
  return JSON.parse(line.slice('LOADED '.length)) as string[];
}

describe('package faces', () => {
  it('every room has a subpath export with types for import and require, and a build entry', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { import: { types: string; default: string }; require: { types: string; default: string } }> };
    const tsup = readFileSync(join(root, 'tsup.config.ts'), 'utf8');
    for (const sub of SUBPATHS) {
      const entry = pkg.exports[`./${sub}`];
      expect(entry, sub).toEqual({
        import: { types: `./dist/${sub}/index.d.ts`, default: `./dist/${sub}/index.js` },
        require: { types: `./dist/${sub}/index.d.cts`, default: `./dist/${sub}/index.cjs` },
      });
      expect(tsup).toContain(`'${sub}/index': 'src/${sub}/index.ts'`);
    }
  });

  it('importing the Datanet or audit face loads neither tfjs nor viem; the finetune face loads tfjs', () => {
    expect(heavyModulesLoadedBy('./src/datanet/index.ts')).toEqual([]);
    expect(heavyModulesLoadedBy('./src/audit/index.ts')).toEqual([]);
    // The check sees tfjs when it is loaded (so the empty lists above mean something).
    expect(heavyModulesLoadedBy('./src/finetune/index.ts').some((m) => m.startsWith('@tensorflow/tfjs'))).toBe(true);
  }, 60_000);

  it('a consumer with skipLibCheck: false type-checks against the datanet and audit faces', () => {
    const dir = mkdtempSync(join(tmpdir(), 'provenant-consumer-'));
    try {
      writeFileSync(
        join(dir, 'index.ts'),
        [
          "import { fromText, type DatanetSnapshot } from 'provenant/datanet';",
          "import { verifyAuditRecord, buildAuditRecord, type AuditRecord } from 'provenant/audit';",
          'export const used = [fromText, verifyAuditRecord, buildAuditRecord];',
          'export type S = DatanetSnapshot | AuditRecord;',
        ].join('\n'),
      );
      const config = {
        compilerOptions: {
          target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
          paths: { 'provenant/datanet': [join(root, 'src/datanet/index.ts')], 'provenant/audit': [join(root, 'src/audit/index.ts')] },
        },
        files: [join(dir, 'index.ts')],
      };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config));
      const tsc = join(root, 'node_modules/typescript/bin/tsc');
      const result = (() => {
        try {
          return execFileSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        } catch (error) {
          return String((error as { stdout?: string }).stdout ?? error);
        }
      })();
      expect(result.trim()).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
