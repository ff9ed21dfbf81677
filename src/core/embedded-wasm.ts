/**
 * Embedded WebAssembly modules (the keccak permutation, the float64 and float32 matrix products): each ships as base64 in
 * a generated TypeScript file, so nothing is fetched at run time, and compiles once, synchronously, on first use.
 */

// The slice of the WebAssembly API used here (the project's TypeScript lib has no DOM/WebAssembly value types).
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** An embedded module: compiled once on first use and shared; every instance (and its memory) belongs to its caller. */
export interface EmbeddedWasm<Exports> {
  /** Whether the module compiles in this runtime (false where WebAssembly, or a feature it uses such as SIMD, is missing). */
  available(): boolean;
  /**
   * A fresh instance's exports, or null where the module does not compile. `imports`: the module's imports (e.g.
   * `{ env: { memory } }` for a module that imports its memory); none by default.
   */
  instantiate(imports?: object): Exports | null;
}

/**
 * Wraps a base64-embedded WebAssembly module for lazy use: nothing is compiled until `available()` or
 * `instantiate()` is first called; a runtime without WebAssembly, or without a feature the module needs (SIMD), gets
 * `available() === false` and `instantiate() === null`, never an exception, so callers fall back to JavaScript.
 *
 * @param base64 the module's bytes, base64 (as the generators in scripts/gen-*-wasm.py write them).
 * @example
 * ```ts
 * import { embeddedWasm } from 'provenant';
 *
 * // The smallest valid module (magic number and version): it compiles everywhere WebAssembly runs, and exports nothing.
 * const empty = embeddedWasm<Record<string, never>>('AGFzbQEAAAA=');
 * empty.available(); // true on Node ≥ 12 and current browsers
 * const exports = empty.instantiate(); // {} — a fresh instance per call
 * ```
 */
export function embeddedWasm<Exports>(base64: string): EmbeddedWasm<Exports> {
  const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  let compiled: object | null | undefined;
  const module = (): object | null => {
    if (compiled === undefined) {
      try {
        // Synchronous compilation is allowed for small modules (these are 2–4 KB); the module is immutable and shared.
        compiled = api ? new api.Module(Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0))) : null;
      } catch {
        compiled = null; // no WebAssembly (SIMD) here: the caller's JavaScript path runs instead
      }
    }
    return compiled;
  };
  return {
    available: () => module() !== null,
    instantiate: (imports = {}) => {
      const m = module();
      return m && api ? (new api.Instance(m, imports).exports as Exports) : null;
    },
  };
}
