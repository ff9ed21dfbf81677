import { defineConfig } from 'tsup';

// Entry points: the whole engine (`provenant`), one per room (`provenant/datanet` loads neither tfjs nor viem), and the
// optional chain adapter (the only code that loads viem).
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'chain/index': 'src/chain/index.ts',
    'datanet/index': 'src/datanet/index.ts',
    'finetune/index': 'src/finetune/index.ts',
    'eval/index': 'src/eval/index.ts',
    'attribution/index': 'src/attribution/index.ts',
    'audit/index': 'src/audit/index.ts',
    // featurizeInWorkers starts this file beside dist/index.js in each worker thread.
    'featurize-worker': 'src/attribution/featurize-worker.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // One copy of each module shared by every entry (chunks), so the library's state (the adapter registry, the variable-name
  // counter) is one across `provenant`, `provenant/finetune`, `provenant/eval` … (separate bundles each carried their own
  // and disagreed silently). test/package/built-entries.test.ts checks it on the built ESM and CommonJS files.
  splitting: true,
  // Rollup re-renders each chunk: tsup's CommonJS splitting otherwise converts esbuild's ESM chunks line by line, which
  // runs the vendored gradients bundle before `require('@tensorflow/tfjs-core')` (ESM hoists imports, that conversion does
  // not) and leaves tfjs with a broken engine. 'safest' keeps every side effect (the kernel and gradient registrations).
  treeshake: 'safest',
  // import.meta.url in the CommonJS build (the worker entry is located relative to the module).
  shims: true,
  // Runtime and optional peer dependencies are resolved by the user's package manager, never bundled.
  external: [/^@tensorflow\//, /^@noble\//, 'ml-matrix', 'viem', /^@stdlib\//, 'mnist'],
});
