import { defineConfig } from 'tsup';

// Two entry points: the core engine, and the optional chain adapter (the only code that loads viem).
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'chain/index': 'src/chain/index.ts',
    // featurizeInWorkers starts this file beside dist/index.js in each worker thread.
    'featurize-worker': 'src/attribution/featurize-worker.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: false,
  // import.meta.url in the CommonJS build (the worker entry is located relative to the module).
  shims: true,
  // Runtime and optional peer dependencies are resolved by the user's package manager, never bundled.
  external: [/^@tensorflow\//, /^@noble\//, 'ml-matrix', 'viem', /^@stdlib\//, 'mnist'],
});
