/**
 * The package's faces: each room has a subpath export and a build entry; importing `provenant/datanet` (or
 * `provenant/audit`) loads neither tfjs nor viem (checked in a fresh process by the modules it loaded); and a consumer with
 * `skipLibCheck: false` type-checks against every entry of the built declarations (test/package/consumer-types.ts).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { consumerConfigs, stageConsumer, typecheckConsumer } from './consumer-types.js';

const root = resolve(import.meta.dirname, '../..');
const SUBPATHS = ['datanet', 'finetune', 'eval', 'attribution', 'audit', 'chain'];
/** A spread of the configurations (each resolution, each format, each library set) that keeps the check near a minute. */
const CONSUMER_CONFIGS = consumerConfigs().filter((c) => ['nodenext/esm/es2022', 'nodenext/cjs/dom', 'node16/cjs/es2022', 'node16/esm/dom', 'bundler/esm/es2022', 'bundler/esm/dom'].includes(c.name));

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

  it('a consumer with skipLibCheck: false type-checks every entry of the built package (node16, nodenext, bundler; ESM, CJS; with and without DOM)', () => {
    const dir = stageConsumer();
    try {
      // The published declarations never name tfjs (whose own .d.ts needs DOM, WebGL and WebGPU globals).
      const published = readdirSync(join(dir, 'node_modules/provenant/dist'), { recursive: true, encoding: 'utf8' }).filter((f) => /\.d\.c?ts$/.test(f));
      const tfjsImports = published.filter((f) => /^(?:import|export)\b[^\n]*from '@tensorflow\//m.test(readFileSync(join(dir, 'node_modules/provenant/dist', f), 'utf8')));
      expect(tfjsImports).toEqual([]);
      const results = typecheckConsumer(dir, CONSUMER_CONFIGS);
      const ours = new Map<string, string[]>();
      const foreign = new Map<string, string[]>();
      for (const [config, errors] of results) {
        ours.set(config, errors.filter((e) => e.startsWith('provenant/') || !e.includes('(')));
        foreign.set(config, errors.filter((e) => !(e.startsWith('provenant/') || !e.includes('('))));
        console.log(`${config}: ${errors.length} errors (${ours.get(config)!.length} in provenant's declarations)`);
      }
      // Known, and viem's packaging rather than ours: under node16 a CommonJS file cannot import viem's ESM-only
      // declarations (TS1479), so provenant/chain's CommonJS types fail there; nodenext and bundler accept them.
      const viemFromCjs = /^provenant\/dist\/chain\/index\.d\.cts\(\d+\): The current file is a CommonJS module whose imports will produce 'require' calls; however, the referenced file is an ECMAScript module/;
      for (const config of CONSUMER_CONFIGS) {
        const known = config.resolution === 'node16' && config.format === 'cjs' ? (e: string) => viemFromCjs.test(e) : (_e: string) => false;
        expect(ours.get(config.name)!.filter((e) => !known(e)), config.name).toEqual([]);
      }
      // viem's own declarations (its `ox` dependency) need the DOM's WebCrypto types; with DOM nothing else fails.
      for (const config of CONSUMER_CONFIGS) {
        const errors = foreign.get(config.name)!;
        if (config.dom) expect(errors, config.name).toEqual([]);
        else expect(errors.filter((e) => !e.startsWith('ox/')), config.name).toEqual([]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
