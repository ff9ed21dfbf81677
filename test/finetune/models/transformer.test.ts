import { beforeAll, describe, expect, it } from 'vitest';
import {
  addClassificationHead,
  createTransformer,
  initBackend,
  tf,
  type TransformerConfig,
  type TransformerModel,
} from '../../../src/finetune/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const small: TransformerConfig = { vocabSize: 11, dModel: 8, nHeads: 2, nLayers: 2, maxSeqLen: 6, mlpHidden: 12, seed: 3 };

/** Weights as float64 arrays by name, for the reference implementation. */
function readWeights(model: TransformerModel): Map<string, { data: Float64Array; shape: number[] }> {
  const out = new Map<string, { data: Float64Array; shape: number[] }>();
  for (const [name, v] of model.weights) out.set(name, { data: Float64Array.from(v.dataSync()), shape: v.shape });
  return out;
}

/** Give every weight a non-trivial value (LN gains ≠ 1, biases ≠ 0) so the reference comparison exercises them. */
function randomise(model: TransformerModel, seed: number): void {
  let s = seed;
  for (const [name, v] of model.weights) {
    tf.tidy(() => v.assign(tf.randomNormal(v.shape, name.includes('ln') && name.endsWith('weight') ? 1 : 0, 0.3, 'float32', s++)));
  }
}

/** A plain float64 loop implementation of the same pre-LN GPT block stack, independent of tfjs. */
function referenceForward(model: TransformerModel, ids: number[][]): { lm: number[][]; hidden: number[][][] } {
  const W = readWeights(model);
  const cfg = model.config;
  const D = cfg.dModel, H = cfg.nHeads, hd = D / H, F = cfg.mlpHidden ?? 4 * D, V = cfg.vocabSize;
  const get = (name: string) => W.get(name)!.data;
  const lin = (x: number[], name: string, inF: number, outF: number, bias = true) => {
    const k = get(`${name}.weight`), b = bias ? get(`${name}.bias`) : null;
    return Array.from({ length: outF }, (_, j) => {
      let acc = b ? b[j]! : 0;
      for (let i = 0; i < inF; i++) acc += x[i]! * k[i * outF + j]!;
      return acc;
    });
  };
  const ln = (x: number[], name: string) => {
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
    const g = get(`${name}.weight`), b = get(`${name}.bias`);
    return x.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-5)) * g[i]! + b[i]!);
  };
  const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  const lm: number[][] = [];
  const hidden: number[][][] = [];
  for (const seq of ids) {
    const T = seq.length;
    let h = seq.map((id, t) => Array.from({ length: D }, (_, d) => get('embed_tokens.weight')[id * D + d]! + get('embed_positions.weight')[t * D + d]!));
    for (let l = 0; l < cfg.nLayers; l++) {
      const p = `blocks.${l}`;
      const a = h.map((x) => ln(x, `${p}.ln1`));
      const q = a.map((x) => lin(x, `${p}.attn.q_proj`, D, D));
      const k = a.map((x) => lin(x, `${p}.attn.k_proj`, D, D));
      const v = a.map((x) => lin(x, `${p}.attn.v_proj`, D, D));
      const o = Array.from({ length: T }, () => new Array<number>(D).fill(0));
      for (let head = 0; head < H; head++) {
        for (let t = 0; t < T; t++) {
          const scores: number[] = [];
          for (let u = 0; u <= t; u++) {
            let dot = 0;
            for (let d = 0; d < hd; d++) dot += q[t]![head * hd + d]! * k[u]![head * hd + d]!;
            scores.push(dot / Math.sqrt(hd));
          }
          const max = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - max));
          const z = e.reduce((x, y) => x + y, 0);
          for (let u = 0; u <= t; u++) for (let d = 0; d < hd; d++) o[t]![head * hd + d]! += (e[u]! / z) * v[u]![head * hd + d]!;
        }
      }
      h = h.map((x, t) => lin(o[t]!, `${p}.attn.o_proj`, D, D).map((y, i) => y + x[i]!));
      h = h.map((x) => {
        const m = ln(x, `${p}.ln2`);
        const f = lin(lin(m, `${p}.mlp.fc_in`, D, F).map(gelu), `${p}.mlp.fc_out`, F, D);
        return f.map((y, i) => y + x[i]!);
      });
    }
    const final = h.map((x) => ln(x, 'ln_f'));
    hidden.push(final);
    for (const x of final) lm.push(lin(x, 'lm_head', D, V, false));
  }
  return { lm, hidden };
}

const idsTensor = (ids: number[][]) => tf.tensor2d(ids, [ids.length, ids[0]!.length], 'int32');

describe('createTransformer', () => {
  it('names its modules and weights PEFT-style', () => {
    const model = createTransformer({ ...small, numClasses: 3 });
    expect([...model.linears.keys()]).toEqual([
      'blocks.0.attn.q_proj', 'blocks.0.attn.k_proj', 'blocks.0.attn.v_proj', 'blocks.0.attn.o_proj', 'blocks.0.mlp.fc_in', 'blocks.0.mlp.fc_out',
      'blocks.1.attn.q_proj', 'blocks.1.attn.k_proj', 'blocks.1.attn.v_proj', 'blocks.1.attn.o_proj', 'blocks.1.mlp.fc_in', 'blocks.1.mlp.fc_out',
      'lm_head', 'classifier',
    ]);
    expect(model.weights.get('embed_tokens.weight')!.shape).toEqual([11, 8]);
    expect(model.weights.get('blocks.1.mlp.fc_in.weight')!.shape).toEqual([8, 12]);
    expect(model.weights.has('lm_head.bias')).toBe(false);
    expect(model.weights.has('ln_f.weight')).toBe(true);
    model.dispose();
  });

  it('LM logits equal a float64 loop implementation', () => {
    const model = createTransformer(small);
    randomise(model, 100);
    const ids = [[1, 5, 10, 3, 0], [2, 2, 7, 9, 4]];
    const x = idsTensor(ids);
    const logits = tf.tidy(() => model.forwardLm(x));
    expect(logits.shape).toEqual([10, 11]);
    const got = logits.arraySync() as number[][];
    const { lm } = referenceForward(model, ids);
    let maxErr = 0;
    got.forEach((row, i) => row.forEach((v, j) => (maxErr = Math.max(maxErr, Math.abs(v - lm[i]![j]!)))));
    expect(maxErr).toBeLessThan(2e-4);
    tf.dispose([x, logits]);
    model.dispose();
  });

  it('is causal: changing a later token leaves earlier logits unchanged', () => {
    const model = createTransformer(small);
    randomise(model, 7);
    const a = idsTensor([[3, 4, 5, 6, 7, 8]]);
    const b = idsTensor([[3, 4, 5, 9, 1, 2]]);
    const [la, lb] = tf.tidy(() => [model.forwardLm(a).slice([0, 0], [3, 11]), model.forwardLm(b).slice([0, 0], [3, 11])]);
    expect(tf.tidy(() => la!.sub(lb!).abs().max().dataSync()[0]!)).toBeLessThan(1e-6);
    tf.dispose([a, b, la!, lb!]);
    model.dispose();
  });

  it('classifier pools over real tokens: mean and last pooling equal the reference, padding does not matter', () => {
    for (const pooling of ['mean', 'last'] as const) {
      const model = createTransformer({ ...small, numClasses: 3, pooling });
      randomise(model, 11);
      const seq = [4, 6, 8];
      const padded = idsTensor([[...seq, 0, 0, 0]]);
      const short = idsTensor([seq]);
      const [p1, p2, c1] = tf.tidy(() => [model.pooled(padded), model.pooled(short), model.forward(padded)]);
      const { hidden } = referenceForward(model, [seq]);
      const h = hidden[0]!;
      const expected = pooling === 'mean' ? h[0]!.map((_, d) => (h[0]![d]! + h[1]![d]! + h[2]![d]!) / 3) : h[2]!;
      const got = p1!.dataSync();
      expected.forEach((v, d) => expect(got[d]!).toBeCloseTo(v, 4));
      expect(tf.tidy(() => p1!.sub(p2!).abs().max().dataSync()[0]!)).toBeLessThan(1e-5);
      expect(c1!.shape).toEqual([1, 3]);
      tf.dispose([padded, short, p1!, p2!, c1!]);
      model.dispose();
    }
  });

  it('classifies inputs longer than the context by pooling over independent windows', () => {
    const model = createTransformer({ ...small, numClasses: 2 });
    randomise(model, 31);
    // 14 tokens with maxSeqLen 6: windows [0..6), [6..12), [12..14) + padding; a second, shorter row padded throughout.
    const long = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2, 3, 4];
    const short = [5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const x = idsTensor([long, short]);
    const pooled = tf.tidy(() => model.pooled(x));
    expect(pooled.shape).toEqual([2, 8]);
    const { hidden } = referenceForward(model, [long.slice(0, 6), long.slice(6, 12), long.slice(12)]);
    const rows = hidden.flat();
    const expected = rows[0]!.map((_, d) => rows.reduce((a, r) => a + r[d]!, 0) / rows.length);
    const got = pooled.arraySync() as number[][];
    expected.forEach((v, d) => expect(got[0]![d]!).toBeCloseTo(v, 4));
    const shortRef = referenceForward(model, [[5, 6, 7]]).hidden[0]!;
    shortRef[0]!.forEach((_, d) => expect(got[1]![d]!).toBeCloseTo((shortRef[0]![d]! + shortRef[1]![d]! + shortRef[2]![d]!) / 3, 4));
    expect(tf.tidy(() => model.forward(x).shape)).toEqual([2, 2]);
    tf.dispose([x, pooled]);
    model.dispose();
  });

  it('addClassificationHead switches forward to class logits; bad configs are typed errors', () => {
    const model = createTransformer(small);
    const x = idsTensor([[1, 2, 3]]);
    expect(tf.tidy(() => model.forward(x).shape)).toEqual([3, 11]);
    expect(() => tf.tidy(() => model.forwardClassifier(x))).toThrow(/no classifier head/);
    addClassificationHead(model, 2, { seed: 1 });
    expect(tf.tidy(() => model.forward(x).shape)).toEqual([1, 2]);
    expect(model.config.numClasses).toBe(2);
    expect(model.linears.has('classifier')).toBe(true);
    expect(() => addClassificationHead(model, 2, { seed: 1 })).toThrow(/already has/);
    expect(() => tf.tidy(() => model.forwardLm(idsTensor([[1, 2, 3, 4, 5, 6, 7]])))).toThrow(/maxSeqLen/);
    expect(() => tf.tidy(() => model.forward(tf.zeros([1, 3])))).toThrow(/int32/);
    x.dispose();
    model.dispose();
    expect(() => createTransformer({ ...small, nHeads: 3 })).toThrow(/MODEL_CONFIG_INVALID/);
    expect(() => createTransformer({ ...small, dModel: 0 })).toThrow(/MODEL_CONFIG_INVALID/);
  });

  it('dispose frees every tensor it made', () => {
    const before = tf.memory().numTensors;
    const model = createTransformer({ ...small, numClasses: 2 });
    const x = idsTensor([[1, 2, 3]]);
    tf.tidy(() => model.forward(x)).dispose();
    x.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('attention on the float32 WebAssembly product (at least GEMM_MIN_ROWS query tokens)', () => {
  const wide: TransformerConfig = { ...small, maxSeqLen: 40 };
  // 3 × 40 = 120 query tokens ≥ GEMM_MIN_ROWS (64): the workspace path; one sequence (40 tokens) takes tfjs's products.
  const seqs = Array.from({ length: 3 }, (_, b) => Array.from({ length: 40 }, (_, t) => (b * 7 + t * 3 + ((t * t) % 5)) % 11));

  it('LM logits equal the float64 loop implementation', () => {
    const model = createTransformer(wide);
    randomise(model, 31);
    const x = idsTensor(seqs);
    const got = tf.tidy(() => model.forwardLm(x).arraySync() as number[][]);
    const { lm } = referenceForward(model, seqs);
    let maxErr = 0;
    got.forEach((row, i) => row.forEach((v, j) => (maxErr = Math.max(maxErr, Math.abs(v - lm[i]![j]!)))));
    expect(maxErr).toBeLessThan(2e-4);
    x.dispose();
    model.dispose();
  });

  it('gives the gradients of the tfjs path (the batch as one call vs one sequence at a time), tensors flat', () => {
    const start = tf.memory().numTensors;
    const model = createTransformer({ ...wide, numClasses: 3 });
    randomise(model, 32);
    const labels = [0, 2, 1];
    const variables = [...model.weights].filter(([name]) => name !== 'lm_head.weight').map(([, v]) => v);
    const gradsOf = (rows: number[]) => {
      const ids = idsTensor(rows.map((r) => seqs[r]!));
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(rows.map((r) => labels[r]!), 'int32'), 3).cast('float32'));
      // Sum over the rows' losses, so per-row calls add up to the batched call.
      const { grads, value } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.forward(ids), undefined, undefined, tf.Reduction.SUM) as tf.Scalar, variables);
      const out = variables.map((v) => Float64Array.from(grads[v.name]!.dataSync()));
      tf.dispose([ids, y, value, Object.values(grads)]);
      return out;
    };
    const batched = gradsOf([0, 1, 2]);
    const single = [0, 1, 2].map((r) => gradsOf([r]));
    const before = tf.memory().numTensors; // after the first calls made the model's kept causal mask
    gradsOf([0, 1, 2]);
    expect(tf.memory().numTensors).toBe(before);
    batched.forEach((g, i) => g.forEach((x, j) => expect(x).toBeCloseTo(single[0]![i]![j]! + single[1]![i]![j]! + single[2]![i]![j]!, 4)));
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe('transformer on wasm', () => {
  it('gives the cpu backend’s logits and gradients (wasm one-hot and matmul paths)', async () => {
    const run = async (backend: 'cpu' | 'wasm') => {
      await initBackend({ backend });
      const model = createTransformer({ ...small, numClasses: 3 });
      randomise(model, 21);
      const ids = idsTensor([[1, 5, 10, 3, 0], [2, 2, 7, 9, 4]]);
      const labels = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3).cast('float32');
      const lm = tf.tidy(() => Array.from(model.forwardLm(ids).dataSync()));
      const variables = [...model.weights].filter(([name]) => name !== 'lm_head.weight').map(([, v]) => v);
      const { grads, value } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, model.forward(ids)) as tf.Scalar, variables);
      const g = variables.map((v) => Array.from(grads[v.name]!.dataSync()));
      tf.dispose([ids, labels, value, Object.values(grads)]);
      model.dispose();
      return { lm, g };
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    await initBackend({ backend: 'cpu' });
    wasm.lm.forEach((x, i) => expect(x).toBeCloseTo(cpu.lm[i]!, 4));
    wasm.g.forEach((g, i) => g.forEach((x, j) => expect(x).toBeCloseTo(cpu.g[i]![j]!, 4)));
  });
});

describe('generateText', () => {
  it('greedy decoding picks the argmax at every step, past the context; sampling is seeded', async () => {
    await initBackend({ backend: 'cpu' });
    const { createCharTokenizer, generateText } = await import('../../../src/finetune/index.js');
    const tok = createCharTokenizer();
    const model = createTransformer({ ...small, vocabSize: 98 });
    randomise(model, 41);
    const text = generateText(model, tok, 'ab', { seed: 1, temperature: 0, maxNewTokens: 8 });
    expect(text).toHaveLength(8);
    // Independent replay: argmax over ids 2…97 of the last position's logits, over the last maxSeqLen ids.
    const ids = tok.encode('ab');
    for (const ch of text) {
      const window = ids.slice(-small.maxSeqLen);
      const row = tf.tidy(() => (model.forwardLm(tf.tensor2d(window, [1, window.length], 'int32')).arraySync() as number[][])[window.length - 1]!);
      let best = 2;
      for (let id = 2; id < 98; id++) if (row[id]! > row[best]!) best = id;
      expect(tok.encode(ch)).toEqual([best]);
      ids.push(best);
    }
    const s1 = generateText(model, tok, 'ab', { seed: 5, maxNewTokens: 10, topK: 5 });
    expect(generateText(model, tok, 'ab', { seed: 5, maxNewTokens: 10, topK: 5 })).toBe(s1);
    expect(() => generateText(model, tok, 'ab', { seed: 1, temperature: -1 })).toThrow(/INVALID_ARGUMENT/);
    model.dispose();
  });
});
