import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACT_PATH, assertArtifactFresh, compileAttributionRegistry, renderArtifact, type CompiledContract } from '../../scripts/compile-contracts.js';
import { attributionRegistryAbi, attributionRegistryBytecode, attributionRegistryCompiler } from '../../src/chain/index.js';

describe('committed contract artifacts', () => {
  let fresh: CompiledContract;
  // One compile per file: solc-js takes a couple of seconds.
  beforeAll(() => {
    fresh = compileAttributionRegistry();
  });

  it('equal a fresh compile with the pinned compiler (run `npm run compile:contracts` when this fails)', () => {
    expect(readFileSync(ARTIFACT_PATH, 'utf8')).toBe(renderArtifact(fresh));
    expect(() => assertArtifactFresh(fresh)).not.toThrow();
    const edited = renderArtifact(fresh).replace('"name": "BatchExists"', '"name": "BatchAlreadyExists"');
    expect(() => assertArtifactFresh(fresh, edited)).toThrow(expect.objectContaining({ code: 'CHAIN_ARTIFACT_STALE' }));
    expect(attributionRegistryBytecode).toBe(fresh.bytecode);
    expect(attributionRegistryAbi).toEqual(fresh.abi);
  });

  it('are pinned: solc 0.8.28, evmVersion paris (no PUSH0, runs on pre-Shanghai chains), optimizer on', () => {
    expect(attributionRegistryCompiler.solcVersion.startsWith('0.8.28+')).toBe(true);
    expect(attributionRegistryCompiler.evmVersion).toBe('paris');
    expect(attributionRegistryCompiler.optimizerRuns).toBeGreaterThan(0);
    // The CBOR metadata at the end of the bytecode records the compiler: 0x64 'solc' 0x43 <major minor patch>.
    expect(attributionRegistryBytecode.endsWith('64736f6c634300081c0033')).toBe(true);
  });
});

/** Bundles an entry with packages kept external, so the metafile lists our own module graph and the package specifiers it imports. */
const metafileOf = (entry: string) =>
  build({ entryPoints: [entry], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', logLevel: 'silent', packages: 'external' });

describe('entry points', () => {
  it('the `provenant` entry never loads viem or src/chain', async () => {
    const result = await metafileOf('src/index.ts');
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain('src/index.ts');
    expect(inputs.filter((p) => p.includes('src/chain/'))).toEqual([]);
    const imported = Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
    expect(imported.filter((p) => /(^|\/)viem(\/|$)/.test(p))).toEqual([]);
  });

  it('`provenant/chain` is its own tsup entry, and it does import viem (so the check above can see viem)', async () => {
    const config = readFileSync('tsup.config.ts', 'utf8');
    expect(config).toMatch(/'chain\/index':\s*'src\/chain\/index\.ts'/);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, { import: { default: string } }> };
    expect(pkg.exports['./chain']!.import.default).toBe('./dist/chain/index.js');
    const result = await metafileOf('src/chain/index.ts');
    const imported = Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
    expect(imported.some((p) => /^viem(\/|$)/.test(p))).toBe(true);
  });
});
