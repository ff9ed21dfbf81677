/**
 * embeddedWasm: the one lazy loader of the embedded WebAssembly modules (keccak, the float64 and float32 products).
 * Modules assembled with wat2wasm from the text in each comment; expected values by hand.
 */
import { describe, expect, it } from 'vitest';
import { embeddedWasm } from '../../src/core/index.js';

// (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
const ADD = 'AGFzbQEAAAABBwFgAn9/AX8DAgEABwcBA2FkZAAACgkBBwAgACABags=';
// (module (memory (export "memory") 1))
const MEMORY = 'AGFzbQEAAAAFAwEAAQcKAQZtZW1vcnkCAA==';

describe('embeddedWasm', () => {
  it('compiles a module and runs its export', () => {
    const add = embeddedWasm<{ add: (a: number, b: number) => number }>(ADD);
    expect(add.available()).toBe(true);
    expect(add.instantiate()!.add(2, 3)).toBe(5);
    expect(add.instantiate()!.add(-7, 4)).toBe(-3);
  });

  it('gives every caller its own instance and memory', () => {
    const wasm = embeddedWasm<{ memory: { buffer: ArrayBuffer } }>(MEMORY);
    const a = wasm.instantiate()!, b = wasm.instantiate()!;
    new Uint8Array(a.memory.buffer)[0] = 42;
    expect(new Uint8Array(a.memory.buffer)[0]).toBe(42);
    expect(new Uint8Array(b.memory.buffer)[0]).toBe(0);
    expect(a.memory.buffer.byteLength).toBe(65536);
  });

  it('bytes that are not a module: unavailable and null, never a throw', () => {
    const broken = embeddedWasm<object>(btoa('not a wasm module'));
    expect(broken.available()).toBe(false);
    expect(broken.instantiate()).toBeNull();
  });

  it('a runtime without WebAssembly: unavailable and null (callers take their JavaScript path)', () => {
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'WebAssembly')!;
    Object.defineProperty(globalThis, 'WebAssembly', { value: undefined, configurable: true, writable: true });
    try {
      const add = embeddedWasm<{ add: (a: number, b: number) => number }>(ADD);
      expect(add.available()).toBe(false);
      expect(add.instantiate()).toBeNull();
    } finally {
      Object.defineProperty(globalThis, 'WebAssembly', saved);
    }
    expect(embeddedWasm(ADD).available()).toBe(true);
  });
});
