import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  attachAdapter,
  computeLogits,
  createGemmF32,
  gemmF32Kernel,
  createLinear,
  createPretrainedFromConfig,
  GEMM_MIN_ROWS,
  gemmBatchMatMul,
  gemmBatchMatMulNT,
  gemmLinearOp,
  gemmMatMul,
  initBackend,
  linearForward,
  makeBatch,
  parameterGroups,
  setLinearGemm,
  taskLoss,
  tf,
  tfjsWasmHeap,
  type Linear,
} from '../../../src/finetune/index.js';
import { kernelErrorRatio, maxRelErr, seeded } from './kernel-accuracy.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('createGemmF32 — the float32 WebAssembly product', () => {
  it('equals a brute-force float64 product for odd shapes, every transpose pair, bias, and sizes across the cache blocks', () => {
    // kernelErrorRatio: the worst error over those cases divided by its bound 2e-6·√k + 1e-6.
    const { kernel, worst } = kernelErrorRatio('simd');
    expect(kernel).toBe('simd');
    expect(worst).toBeLessThan(1);
  });

  it('the relaxed-SIMD fused multiply-add kernel equals the brute-force product too (in a child process with the flag where Node needs one)', () => {
    const inProcess = gemmF32Kernel() === 'relaxed-simd-fma';
    const result = inProcess
      ? kernelErrorRatio('relaxed-simd-fma')
      : (JSON.parse(
          execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', 'test/finetune/gemm/kernel-accuracy.ts', 'relaxed-simd-fma'], { encoding: 'utf8' }).trim().split('\n').pop()!,
        ) as { kernel: string; worst: number });
    expect(result.kernel).toBe('relaxed-simd-fma');
    expect(result.worst).toBeLessThan(1);
  });

  it('picks the fused kernel by default only where it compiles, and names a kernel that does not with a typed error', () => {
    const kernel = gemmF32Kernel();
    expect(['simd', 'relaxed-simd-fma']).toContain(kernel);
    const gemm = createGemmF32();
    expect(gemm.kernel).toBe(kernel);
    gemm.dispose();
    if (kernel === 'simd') {
      expect(() => createGemmF32({ kernel: 'relaxed-simd-fma' })).toThrow(expect.objectContaining({ code: 'BACKEND_UNAVAILABLE' }));
    }
  });

  it('satisfies (A·B)ᵀ = Bᵀ·Aᵀ for random shapes (fast-check)', () => {
    const gemm = createGemmF32();
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 19 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 27 }), fc.integer({ min: 0, max: 1000 }), (m, k, n, seed) => {
        const a = seeded(m * k, seed);
        const b = seeded(k * n, seed + 1);
        const ab = gemm.product({ data: a, rows: m, cols: k }, { data: b, rows: k, cols: n }).slice();
        const btat = gemm.product({ data: b, rows: k, cols: n, transpose: true }, { data: a, rows: m, cols: k, transpose: true });
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) expect(btat[j * m + i]).toBeCloseTo(ab[i * n + j]!, 4);
      }),
      { numRuns: 40 },
    );
    gemm.dispose();
  });

  it('refuses operands whose inner sizes differ, and a disposed workspace, with typed errors', () => {
    const gemm = createGemmF32();
    expect(() => gemm.product({ data: new Float32Array(6), rows: 2, cols: 3 }, { data: new Float32Array(8), rows: 4, cols: 2 })).toThrow(
      expect.objectContaining({ code: 'LORA_SHAPE_MISMATCH' }),
    );
    expect(() => gemm.product({ data: new Float32Array(6), rows: 2, cols: 3 }, { data: new Float32Array(3), rows: 3, cols: 1 }, new Float32Array(2))).toThrow(
      expect.objectContaining({ code: 'LORA_SHAPE_MISMATCH' }),
    );
    gemm.dispose();
    expect(() => gemm.product({ data: new Float32Array(1), rows: 1, cols: 1 }, { data: new Float32Array(1), rows: 1, cols: 1 })).toThrow(
      expect.objectContaining({ code: 'BACKEND_UNAVAILABLE' }),
    );
  });
});

describe('gemmMatMul / gemmLinearOp — tfjs tensors through the float32 product', () => {
  it('equals tf.matMul on the wasm and cpu backends, with transposes', async () => {
    const gemm = createGemmF32();
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      tf.tidy(() => {
        const a = tf.randomNormal([33, 70], 0, 1, 'float32', 1);
        const b = tf.randomNormal([70, 21], 0, 1, 'float32', 2);
        const ref = tf.matMul(a, b);
        const cases: Array<[tf.Tensor, tf.Tensor, boolean, boolean]> = [
          [a, b, false, false],
          [a.transpose(), b, true, false],
          [a, b.transpose(), false, true],
          [a.transpose(), b.transpose(), true, true],
        ];
        for (const [x, y, ta, tb] of cases) {
          const ours = gemmMatMul(gemm, x, y, { transposeA: ta, transposeB: tb });
          expect(ours.shape).toEqual([33, 21]);
          expect(maxRelErr(ours.dataSync(), ref.dataSync())).toBeLessThan(1e-5);
        }
      });
    }
    await tf.setBackend('wasm');
    gemm.dispose();
  });

  it('has gradients equal to finite differences of a float64 loss, and keeps tf.memory() flat over repeated steps', () => {
    const gemm = createGemmF32();
    const [N, I, O] = [6, 5, 4];
    const xData = seeded(N * I, 3);
    const wData = seeded(I * O, 4);
    const biasData = seeded(O, 6);
    const weights = seeded(N * O, 5);
    // L(x, W) = Σ weights ⊙ (x·W + b)², in float64 from the definition.
    const loss64 = (x: ArrayLike<number>, w: ArrayLike<number>): number => {
      let s = 0;
      for (let i = 0; i < N; i++) {
        for (let j = 0; j < O; j++) {
          let y = biasData[j]!;
          for (let p = 0; p < I; p++) y += x[i * I + p]! * w[p * O + j]!;
          s += weights[i * O + j]! * y * y;
        }
      }
      return s;
    };
    const fd = (which: 'x' | 'w', index: number): number => {
      const h = 1e-3;
      const x = Float64Array.from(xData);
      const w = Float64Array.from(wData);
      const t = which === 'x' ? x : w;
      t[index] = t[index]! + h;
      const up = loss64(x, w);
      t[index] = t[index]! - 2 * h;
      return (up - loss64(x, w)) / (2 * h);
    };
    const x = tf.tensor2d(xData, [N, I]);
    const w = tf.variable(tf.tensor2d(wData, [I, O]), true);
    const bias = tf.tensor1d(biasData);
    const wt = tf.tensor2d(weights, [N, O]);
    const lossOf = (xi: tf.Tensor, wi: tf.Tensor, needX: boolean, needW: boolean) => tf.sum(tf.mul(gemmLinearOp(gemm, xi, wi, bias, needX, needW).square(), wt)) as tf.Scalar;
    const step = () => {
      const [gx, gw] = tf.grads((xi: tf.Tensor, wi: tf.Tensor) => lossOf(xi, wi, true, true))([x, w]);
      const gxData = gx!.dataSync();
      const gwData = gw!.dataSync();
      tf.dispose([gx, gw]);
      return { gxData, gwData };
    };
    const { gxData, gwData } = step();
    for (let i = 0; i < N * I; i++) expect(gxData[i]).toBeCloseTo(fd('x', i), 2);
    for (let i = 0; i < I * O; i++) expect(gwData[i]).toBeCloseTo(fd('w', i), 2);
    // One-sided ops: the input gradient alone (frozen W) and the weight gradient alone (x data).
    const gxOnly = tf.grad((xi: tf.Tensor) => lossOf(xi, w, true, false))(x);
    expect(maxRelErr(gxOnly.dataSync(), gxData)).toBeLessThan(1e-6);
    const { grads } = tf.variableGrads(() => lossOf(x, w, false, true), [w]);
    expect(maxRelErr(grads[w.name]!.dataSync(), gwData)).toBeLessThan(1e-6);
    tf.dispose([gxOnly, grads[w.name]!]);
    const before = tf.memory().numTensors;
    for (let r = 0; r < 3; r++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w, bias, wt]);
    gemm.dispose();
  });

  it('gives linearForward (frozen kernel and bias, LoRA adapter) the same output and adapter gradients as the tf.matMul path', () => {
    const gemm = createGemmF32();
    const base = createLinear('fc', 7, 9, { seed: 1, trainable: false });
    tf.tidy(() => base.bias!.assign(tf.randomNormal([9], 0, 1, 'float32', 2)));
    const A = tf.variable(tf.randomNormal([7, 3], 0, 0.3, 'float32', 3), true);
    const B = tf.variable(tf.randomNormal([3, 9], 0, 0.3, 'float32', 4), true);
    const plain: Linear = { ...base, adapters: new Map([['default', { A, B, scale: 2, dropout: 0 }]]), active: ['default'], merged: [] };
    let calls = 0;
    const fast: Linear = { ...plain, gemm: { ...gemm, product: (a, b, bias, into) => (calls++, gemm.product(a, b, bias, into)) } };
    const x = tf.randomNormal([GEMM_MIN_ROWS + 3, 7], 0, 1, 'float32', 5);
    const run = (layer: Linear) => {
      const { value, grads } = tf.variableGrads(() => linearForward(layer, x).square().sum() as tf.Scalar, [A, B]);
      const out = { y: tf.tidy(() => linearForward(layer, x).dataSync()), loss: value.dataSync()[0]!, gA: grads[A.name]!.dataSync(), gB: grads[B.name]!.dataSync() };
      tf.dispose([value, grads[A.name]!, grads[B.name]!]);
      return out;
    };
    const ref = run(plain);
    const ours = run(fast);
    expect(calls).toBeGreaterThan(0);
    // Fewer rows than GEMM_MIN_ROWS (token-by-token generation): tf.matMul, the workspace is not touched.
    calls = 0;
    tf.tidy(() => linearForward(fast, x.slice([0, 0], [GEMM_MIN_ROWS - 1, 7])));
    expect(calls).toBe(0);
    expect(maxRelErr(ours.y, ref.y)).toBeLessThan(1e-5);
    expect(Math.abs(ours.loss - ref.loss) / ref.loss).toBeLessThan(1e-5);
    expect(maxRelErr(ours.gA, ref.gA)).toBeLessThan(1e-4);
    expect(maxRelErr(ours.gB, ref.gB)).toBeLessThan(1e-4);
    tf.dispose([x, A, B, base.kernel, base.bias!]);
    gemm.dispose();
  });

  it('on a Llama-shaped model (its default, or setLinearGemm): logits and LoRA gradients equal the tf.matMul path, memory flat', async () => {
    const model = await createPretrainedFromConfig(
      { model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 50, max_position_embeddings: 64, rms_norm_eps: 1e-6, rope_theta: 10000, tie_word_embeddings: false },
      { seed: 3 },
    );
    attachAdapter(model, 'default', { r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj', 'down_proj'] }, { seed: 4 });
    // B·T = 2·40 rows ≥ GEMM_MIN_ROWS, so every base product runs on the kernel.
    const rows = [Array.from({ length: 40 }, (_, i) => (i * 7) % 50), Array.from({ length: 40 }, (_, i) => (i * 11 + 3) % 50)];
    const examples = rows.map((r) => ({ input: [...r, 1] }));
    const batch = makeBatch(model, 'causal-lm', examples, examples.map(() => 0));
    const trainable = parameterGroups(model).map((g) => g.variable);
    // Hugging Face models start on their own workspace; the reference runs on tf.matMul.
    expect(model.linears.get('lm_head')!.gemm).toBeDefined();
    setLinearGemm(model, undefined);
    const run = () => {
      const logits = computeLogits(model, { inputIds: rows }).data;
      const { value, grads } = tf.variableGrads(() => taskLoss(model, 'causal-lm', batch, { training: true }), trainable);
      const out = { logits, loss: value.dataSync()[0]!, grads: trainable.map((v) => grads[v.name]!.dataSync()) };
      value.dispose();
      for (const g of Object.values(grads)) g.dispose();
      return out;
    };
    const ref = run();
    // Both workspaces: a private memory (operands copied in, results out), and tfjs's heap lent (tfjsWasmHeap: every
    // product reads the tensors and writes its result in place, so the array returned is the output tensor's memory).
    const heap = tfjsWasmHeap();
    expect(heap).not.toBeNull();
    for (const [name, gemm] of [['private', createGemmF32()], ['tfjs heap', createGemmF32({ heap: heap! })]] as const) {
      let calls = 0;
      setLinearGemm(model, { ...gemm, product: (a, b, bias, into) => (calls++, gemm.product(a, b, bias, into)) });
      const ours = run();
      // Linear layers: 15 base products (2 layers × 7 projections + the head) for the logits, 15 for the loss, and 12 input
      // gradients (layer 0's q/k/v read the frozen embedding: no input gradient; frozen kernels: no weight gradient).
      // Attention: 2 products × 2 layers × (B·H_kv = 4) items, in each of the two forward passes, and twice that backward.
      // LoRA (6 adapters: q, v, down × 2 layers): x·A and h·B in each forward pass (12 + 12); backward dh = dy·Bᵀ, dB = hᵀ·dy
      // and dA = xᵀ·dh for each (18), and dx = dh·Aᵀ except for layer 0's q and v, whose input is data (4).
      expect(calls, name).toBe(15 + 15 + 12 + 16 + 16 + 32 + 12 + 12 + 18 + 4);
      // Every operand and output is a tfjs tensor on the wasm backend, so on the lent heap nothing is copied.
      expect(gemm.counts, name).toEqual(name === 'tfjs heap' ? { inPlace: calls, copied: 0 } : { inPlace: 0, copied: calls });
      const before = tf.memory().numTensors;
      run();
      expect(tf.memory().numTensors, name).toBe(before);
      setLinearGemm(model, undefined);
      gemm.dispose();
      expect(maxRelErr(ours.logits, ref.logits), name).toBeLessThan(1e-5);
      expect(Math.abs(ours.loss - ref.loss), name).toBeLessThan(1e-5);
      ours.grads.forEach((g, i) => expect(maxRelErr(g, ref.grads[i]!), name).toBeLessThan(1e-4));
    }
    model.dispose();
  });

  it('batched products (attention) and their gradients equal tf.matMul and its autodiff', () => {
    const gemm = createGemmF32();
    tf.tidy(() => {
      const a = tf.randomNormal([3, 10, 6], 0, 1, 'float32', 1);
      const b = tf.randomNormal([3, 6, 9], 0, 1, 'float32', 2);
      const bt = tf.randomNormal([3, 9, 6], 0, 1, 'float32', 3);
      const w = tf.randomNormal([3, 10, 9], 0, 1, 'float32', 4);
      const cases: Array<[(x: tf.Tensor, y: tf.Tensor) => tf.Tensor, (x: tf.Tensor, y: tf.Tensor) => tf.Tensor, tf.Tensor]> = [
        [(x, y) => gemmBatchMatMul(gemm, x, y), (x, y) => tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D), b],
        [(x, y) => gemmBatchMatMulNT(gemm, x, y), (x, y) => tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D, false, true), bt],
      ];
      for (const [ours, theirs, y] of cases) {
        expect(maxRelErr(ours(a, y).dataSync(), theirs(a, y).dataSync())).toBeLessThan(1e-5);
        const loss = (f: typeof ours) => (x: tf.Tensor, yy: tf.Tensor) => f(x, yy).square().mul(w).sum();
        const [ga, gb] = tf.grads(loss(ours))([a, y]);
        const [ra, rb] = tf.grads(loss(theirs))([a, y]);
        expect(maxRelErr(ga!.dataSync(), ra!.dataSync())).toBeLessThan(1e-4);
        expect(maxRelErr(gb!.dataSync(), rb!.dataSync())).toBeLessThan(1e-4);
      }
    });
    gemm.dispose();
  });
});
