import { describe, expect, it } from 'vitest';
import { initBackend, describeBackend, tf, type ModuleLoader } from '../../src/finetune/index.js';

const realImport: ModuleLoader = (s) => import(s);

/** A loader where the native packages are "not installed", and the rest load for real. */
const withoutNative: ModuleLoader = async (s) => {
  if (s.startsWith('@tensorflow/tfjs-node')) throw new Error(`Cannot find package '${s}'`);
  return realImport(s);
};

describe('initBackend', () => {
  it('auto: falls back from missing tfjs-node to wasm with SIMD, threads off, and reports why', async () => {
    const info = await initBackend({ loader: withoutNative });
    expect(info.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.wasmSimd).toBe(true);
    expect(info.wasmThreads).toBe(false);
    expect(info.tfjsVersion).toBe(tf.version_core);
    expect(info.backendVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.fallbacks).toHaveLength(2);
    expect(info.fallbacks[0]).toContain('@tensorflow/tfjs-node-gpu');
    expect(describeBackend().backend).toBe('wasm');
    // The backend computes: a small product against a hand value.
    const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
    expect(y.dataSync()[0]).toBe(11);
    y.dispose();
  });

  it('auto: falls back to cpu when wasm cannot load', async () => {
    const loader: ModuleLoader = async (s) => {
      throw new Error(`Cannot find package '${s}'`);
    };
    const info = await initBackend({ loader });
    expect(info.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(info.fallbacks.map((f) => f.split(':')[0])).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm']);
  });

  it('auto: uses tensorflow when an installed tfjs-node registers it', async () => {
    const loaded: string[] = [];
    const loader: ModuleLoader = async (s) => {
      loaded.push(s);
      if (s === '@tensorflow/tfjs-node-gpu') throw new Error('not installed');
      if (s === '@tensorflow/tfjs-node') {
        // Stand-in for tfjs-node's side effect: register a backend named "tensorflow" (here backed by the cpu backend's class).
        const cpuBackend = tf.findBackend('cpu')!;
        tf.registerBackend('tensorflow', () => new (cpuBackend.constructor as new () => tf.KernelBackend)(), 3);
        return { version: { 'tfjs-node': '4.22.0' } };
      }
      return realImport(s);
    };
    const info = await initBackend({ loader });
    expect(info.backend).toBe('tensorflow');
    expect(info.backendPackage).toBe('@tensorflow/tfjs-node');
    expect(info.backendVersion).toBe('4.22.0');
    expect(info.wasmSimd).toBeNull();
    expect(loaded).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    tf.removeBackend('tensorflow');
    await initBackend({ backend: 'cpu' });
  });

  it('explicit choices: tensorflow missing is a typed error; preferNative false skips it; cpu works', async () => {
    await expect(initBackend({ backend: 'tensorflow', loader: withoutNative })).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    const loaded: string[] = [];
    const info = await initBackend({ preferNative: false, loader: async (s) => (loaded.push(s), realImport(s)) });
    expect(info.backend).toBe('wasm');
    expect(loaded).toEqual(['@tensorflow/tfjs-backend-wasm']);
    await expect(initBackend({ backend: 'wasm', loader: async () => Promise.reject(new Error('nope')) })).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
    });
    expect((await initBackend({ backend: 'cpu' })).backend).toBe('cpu');
    await expect(initBackend({ backend: 'gpu' as never })).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });
});
