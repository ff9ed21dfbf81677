import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { isProvenantError } from '../../../src/core/index.js';
import { klDivergence } from '../../../src/eval/index.js';
import {
  CHAR_VOCAB_SIZE,
  GUARD_DEFAULTS,
  attachAdapter,
  combineExtraLosses,
  createEwcGuard,
  createKlToBaseGuard,
  createL2SpGuard,
  createLogisticRegression,
  createMlp,
  createReplayGuard,
  createTransformer,
  disableAdapters,
  estimateDiagonalFisher,
  initBackend,
  klToBaseValue,
  l2SpPenalty,
  replaySchedule,
  replaySource,
  setActiveAdapters,
  activeAdapters,
  tf,
  train,
  type DiagonalFisher,
  type ExtraLoss,
  type Model,
  type TrainingExample,
  type TransformerModel,
} from '../../../src/finetune/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const ctx = (model: Model, step = 0) => ({ model, task: 'classification' as const, step, batch: undefined as never });

/** Value of a guard as a number (inside a tidy). */
const valueOf = (g: ExtraLoss, model: Model, step = 0) => tf.tidy(() => g(ctx(model, step))?.dataSync()[0] ?? 0);

/** A·B·s in float64 by loops. */
function update64(A: Float32Array, B: Float32Array, n: number, r: number, m: number, s: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let acc = 0;
    for (let k = 0; k < r; k++) acc += A[i * r + k]! * B[k * m + j]!;
    out[i * m + j] = s * acc;
  }
  return out;
}

function adaptedMlp(seed: number, r = 3, alpha = 6): Model {
  const model = createMlp({ inputSize: 5, hiddenSizes: [4], numClasses: 3, seed });
  // initLoraWeights false: B is random too, so the update is non-zero.
  attachAdapter(model, 'default', { r, alpha, targetModules: ['fc1', 'fc2'], initLoraWeights: false }, { seed });
  return model;
}

/** Central finite differences of f at every entry of v (float32 model, so a coarse h and a relative tolerance). */
function finiteDifferences(v: tf.Variable, f: () => number, h = 1e-2): Float64Array {
  const base = Float32Array.from(v.dataSync() as Float32Array);
  const out = new Float64Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const plus = Float32Array.from(base);
    plus[i] = base[i]! + h;
    tf.tidy(() => v.assign(tf.tensor(plus, v.shape)));
    const fp = f();
    const minus = Float32Array.from(base);
    minus[i] = base[i]! - h;
    tf.tidy(() => v.assign(tf.tensor(minus, v.shape)));
    const fm = f();
    out[i] = (fp - fm) / (2 * h);
  }
  tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
  return out;
}

function gradientOf(g: ExtraLoss, model: Model, v: tf.Variable): Float32Array {
  const { value, grads } = tf.variableGrads(() => g(ctx(model))!, [v]);
  value.dispose();
  const out = Float32Array.from(grads[v.name]!.dataSync() as Float32Array);
  Object.values(grads).forEach((t) => t.dispose());
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, abs = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(rel * scale + abs);
}

describe('L2-SP on the adapter update', () => {
  it('α/2·Σ‖s·A·B‖²_F by the r×r trace equals the explicit product (fast-check over shapes)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 100 }), fc.double({ min: 0.01, max: 10, noNaN: true }), (r, hidden, seed, strength) => {
        const model = createMlp({ inputSize: 6, hiddenSizes: [hidden], numClasses: 2, seed });
        attachAdapter(model, 'default', { r, alpha: 2 * r + 1, targetModules: ['fc1', 'fc2'], initLoraWeights: false }, { seed });
        let expected = 0;
        for (const linear of model.linears.values()) {
          const w = linear.adapters.get('default')!;
          const u = update64(w.A.dataSync() as Float32Array, w.B.dataSync() as Float32Array, linear.inFeatures, r, linear.outFeatures, w.scale);
          for (const x of u) expected += x * x;
        }
        expected *= strength / 2;
        const got = l2SpPenalty(model, { strength });
        const guard = createL2SpGuard({ strength });
        const viaGuard = valueOf(guard, model);
        model.dispose();
        expect(Math.abs(got - expected)).toBeLessThanOrEqual(1e-5 * expected + 1e-9);
        expect(Math.abs(viaGuard - expected)).toBeLessThanOrEqual(1e-5 * expected + 1e-9);
      }),
      { numRuns: 25 },
    );
  });

  it('is 0 right after a standard attach (B = 0) and its gradient matches finite differences', () => {
    const fresh = createMlp({ inputSize: 5, hiddenSizes: [4], numClasses: 3, seed: 3 });
    attachAdapter(fresh, 'default', { r: 2 }, { seed: 3 });
    expect(l2SpPenalty(fresh, { strength: 1 })).toBe(0);
    fresh.dispose();

    const model = adaptedMlp(4);
    const guard = createL2SpGuard({ strength: 0.7 });
    for (const name of ['fc1', 'fc2']) {
      const w = model.linears.get(name)!.adapters.get('default')!;
      for (const v of [w.A, w.B]) {
        const fd = finiteDifferences(v, () => valueOf(guard, model));
        expectClose(gradientOf(guard, model, v), fd, 2e-3, 1e-5);
      }
    }
    model.dispose();
  });
});

describe('EWC on the adapter update', () => {
  const fisherOf = (model: Model, seed: number): DiagonalFisher => {
    const modules = new Map<string, { shape: [number, number]; values: Float32Array }>();
    let k = seed;
    for (const [name, linear] of model.linears) {
      const values = Float32Array.from({ length: linear.inFeatures * linear.outFeatures }, () => ((k = (k * 1103515245 + 12345) % 2147483648) / 2147483648) * 3);
      modules.set(name, { shape: [linear.inFeatures, linear.outFeatures], values });
    }
    return { method: 'empirical', task: 'classification', examples: 1, modules };
  };

  it('λ/2·Σ F ⊙ (s·A·B)² equals an explicit loop, and its gradient matches finite differences', () => {
    const model = adaptedMlp(5);
    const fisher = fisherOf(model, 9);
    const guard = createEwcGuard(fisher, { strength: 1.3 });
    let expected = 0;
    for (const [name, linear] of model.linears) {
      const w = linear.adapters.get('default')!;
      const u = update64(w.A.dataSync() as Float32Array, w.B.dataSync() as Float32Array, linear.inFeatures, 3, linear.outFeatures, w.scale);
      const F = fisher.modules.get(name)!.values;
      for (let i = 0; i < u.length; i++) expected += F[i]! * u[i]! * u[i]!;
    }
    expected *= 1.3 / 2;
    expect(Math.abs(valueOf(guard, model) - expected)).toBeLessThanOrEqual(1e-5 * expected);
    const w = model.linears.get('fc1')!.adapters.get('default')!;
    for (const v of [w.A, w.B]) expectClose(gradientOf(guard, model, v), finiteDifferences(v, () => valueOf(guard, model)), 2e-3, 1e-5);
    guard.dispose();
    model.dispose();
  });

  it('a module without a Fisher is a typed error naming it', () => {
    const model = adaptedMlp(6);
    const fisher = fisherOf(model, 1);
    fisher.modules.delete('fc2');
    const guard = createEwcGuard(fisher);
    let caught: unknown;
    try {
      valueOf(guard, model);
    } catch (e) {
      caught = e;
    }
    expect(isProvenantError(caught) && caught.code === 'MODEL_CONFIG_INVALID' && caught.metaMessages?.includes('fc2')).toBe(true);
    guard.dispose();
    model.dispose();
  });

  it('empirical Fisher of logistic regression equals mean_i (x_i ⊗ (p_i − e_{y_i}))² in float64', () => {
    const model = createLogisticRegression({ inputSize: 4, numClasses: 3, seed: 2, initStd: 0.8 });
    attachAdapter(model, 'default', { r: 2 }, { seed: 2 });
    const examples: TrainingExample[] = Array.from({ length: 7 }, (_, i) => ({ input: [Math.sin(i + 1), Math.cos(2 * i), (i % 3) - 1, 0.5 * i - 1], label: i % 3 }));
    const fisher = estimateDiagonalFisher(model, examples, 'classification', { method: 'empirical' });
    const W = model.linears.get('linear')!.kernel.dataSync() as Float32Array;
    const b = model.linears.get('linear')!.bias!.dataSync() as Float32Array;
    const expected = new Float64Array(12);
    for (const e of examples) {
      const x = e.input as number[];
      const z = [0, 1, 2].map((k) => b[k]! + x.reduce((a, xi, i) => a + xi * W[i * 3 + k]!, 0));
      const mx = Math.max(...z);
      const ez = z.map((v) => Math.exp(v - mx));
      const p = ez.map((v) => v / ez.reduce((a, c) => a + c, 0));
      for (let i = 0; i < 4; i++) for (let k = 0; k < 3; k++) expected[i * 3 + k]! += (x[i]! * (p[k]! - (k === e.label ? 1 : 0))) ** 2 / examples.length;
    }
    expect(fisher.examples).toBe(7);
    expectClose(fisher.modules.get('linear')!.values, expected, 1e-5, 1e-7);
    // The estimate left the model as it was: adapter active, kernel frozen, adapter factors trainable.
    expect(activeAdapters(model)).toEqual(['default']);
    expect(model.linears.get('linear')!.kernel.trainable).toBe(false);
    expect(model.linears.get('linear')!.adapters.get('default')!.A.trainable).toBe(true);
    model.dispose();
  });

  it('sampled Fisher of logistic regression converges to the true Fisher x_i²·p_k(1 − p_k)', () => {
    const model = createLogisticRegression({ inputSize: 2, numClasses: 3, seed: 4, initStd: 0.7 });
    const x = [1.2, -0.6];
    const examples: TrainingExample[] = Array.from({ length: 3000 }, () => ({ input: x, label: 0 }));
    const fisher = estimateDiagonalFisher(model, examples, 'classification', { method: 'sampled', maxExamples: 3000, seed: 11, modules: ['linear'] });
    const p = tf.tidy(() => tf.softmax(model.forward(tf.tensor2d([x]))).dataSync() as Float32Array);
    for (let i = 0; i < 2; i++) for (let k = 0; k < 3; k++) {
      const truth = x[i]! ** 2 * p[k]! * (1 - p[k]!);
      expect(Math.abs(fisher.modules.get('linear')!.values[i * 3 + k]! - truth)).toBeLessThan(0.08 * truth + 1e-3);
    }
    model.dispose();
  });
});

const tinyTransformer = (seed: number, numClasses?: number): TransformerModel =>
  createTransformer({ vocabSize: CHAR_VOCAB_SIZE, dModel: 16, nHeads: 2, nLayers: 1, maxSeqLen: 8, mlpHidden: 32, seed, ...(numClasses ? { numClasses } : {}) });

const sequences = (n: number, len: number, seed: number): TrainingExample[] =>
  Array.from({ length: n }, (_, i) => ({ input: Array.from({ length: len - (i % 3) }, (_, t) => 3 + ((seed * 31 + i * 7 + t * 13) % 90)) }));

describe('KL-to-base', () => {
  it('equals the mean of eval klDivergence(p_base, p_tuned) over real next-token rows', () => {
    const model = tinyTransformer(1);
    attachAdapter(model, 'default', { r: 2, alpha: 8, targetModules: ['q_proj', 'v_proj', 'fc_in'], initLoraWeights: false }, { seed: 1 });
    const probe = sequences(5, 9, 2);
    const guard = createKlToBaseGuard(model, { probe, strength: 2 });
    const rowsOf = (logits: tf.Tensor) => {
      const p = tf.tidy(() => tf.softmax(logits));
      const values = p.dataSync() as Float32Array;
      p.dispose();
      return values;
    };
    const T = 8;
    const ids = new Int32Array(5 * T);
    probe.forEach((e, b) => {
      for (let t = 0; t < Math.min(T, e.input.length); t++) ids[b * T + t] = e.input[t]!;
    });
    const input = tf.tensor2d(ids, [5, T], 'int32');
    const tuned = tf.tidy(() => model.forwardLm(input));
    const tunedRows = rowsOf(tuned);
    disableAdapters(model);
    const base = tf.tidy(() => model.forwardLm(input));
    const baseRows = rowsOf(base);
    setActiveAdapters(model, ['default']);
    [input, tuned, base].forEach((t) => t.dispose());
    let sum = 0;
    let rows = 0;
    const V = CHAR_VOCAB_SIZE;
    probe.forEach((e, b) => {
      // Position t predicts token t + 1: real rows are t < length − 1.
      for (let t = 0; t < Math.min(T, e.input.length - 1); t++) {
        const r = b * T + t;
        sum += klDivergence(baseRows.subarray(r * V, (r + 1) * V), tunedRows.subarray(r * V, (r + 1) * V), { epsilon: 0 });
        rows += 1;
      }
    });
    expect(sum / rows).toBeGreaterThan(1e-4);
    expect(Math.abs(klToBaseValue(guard, model) - sum / rows)).toBeLessThan(2e-5 * (sum / rows) + 2e-7);
    expect(Math.abs(valueOf(guard, model) - (2 * sum) / rows)).toBeLessThan(4e-5 * (sum / rows) + 4e-7);
    guard.dispose();
    model.dispose();
  });

  it('is 0 at the base, and its gradient matches finite differences', () => {
    const model = tinyTransformer(2);
    attachAdapter(model, 'default', { r: 2, alpha: 4, targetModules: ['v_proj'] }, { seed: 2 });
    const guard = createKlToBaseGuard(model, { probe: sequences(3, 9, 5) });
    expect(Math.abs(valueOf(guard, model))).toBeLessThan(1e-6);
    const w = model.linears.get('blocks.0.attn.v_proj')!.adapters.get('default')!;
    tf.tidy(() => w.B.assign(tf.randomNormal(w.B.shape, 0, 0.5, 'float32', 3)));
    const fd = finiteDifferences(w.A, () => valueOf(guard, model), 5e-3);
    expectClose(gradientOf(guard, model, w.A), fd, 3e-2, 2e-5);
    guard.dispose();
    model.dispose();
  });
});

describe('replay', () => {
  it('adds weight × the LM loss of the planned general-text batch, cycling through a seeded order', () => {
    const model = tinyTransformer(3, 2);
    attachAdapter(model, 'default', { r: 2, targetModules: ['q_proj', 'v_proj'] }, { seed: 3 });
    const general = sequences(5, 9, 7);
    const guard = createReplayGuard({ sequences: general, weight: 0.5, batchSize: 2, seed: 9 });
    const schedule = replaySchedule({ sequences: general, batchSize: 2, seed: 9 }, 6);
    // Every pass over the 5 sequences visits each once (the 3rd batch of a pass holds 1 of the pass, then the next pass).
    const firstPass = schedule.flat().slice(0, 5);
    expect([...firstPass].sort()).toEqual([0, 1, 2, 3, 4]);
    for (let step = 0; step < 3; step++) {
      const got = valueOf(guard, model, step);
      // Independent LM loss: mean over real targets of −log softmax(logits)[next token], one sequence at a time.
      let nll = 0;
      let count = 0;
      for (const i of schedule[step]!) {
        const seq = general[i]!.input as number[];
        const inputs = seq.slice(0, Math.min(8, seq.length - 1));
        const logp = tf.tidy(() => tf.logSoftmax(model.forwardLm(tf.tensor2d([inputs], [1, inputs.length], 'int32'))).dataSync() as Float32Array);
        inputs.forEach((_, t) => {
          nll -= logp[t * CHAR_VOCAB_SIZE + seq[t + 1]!]!;
          count += 1;
        });
      }
      // The guard pads the batch to its longest sequence; causal attention keeps pads out of real positions.
      expect(Math.abs(got - (0.5 * nll) / count)).toBeLessThan(1e-4);
    }
    model.dispose();
  });

  it('replaySource weights the replay share of each batch', () => {
    const s = replaySource(sequences(3, 5, 1), 0.25);
    expect(s.weight).toBeCloseTo(1 / 3, 12);
    expect(() => replaySource(sequences(3, 5, 1), 1)).toThrow(/fraction/);
  });
});

describe('combining and recording', () => {
  it('combineExtraLosses adds its parts, is named a+b in the training settings, and disposes its parts', async () => {
    const model = adaptedMlp(8);
    const l2 = createL2SpGuard({ strength: 0.3 });
    const fisher: DiagonalFisher = {
      method: 'empirical',
      task: 'classification',
      examples: 1,
      modules: new Map([...model.linears].map(([n, l]) => [n, { shape: [l.inFeatures, l.outFeatures] as [number, number], values: new Float32Array(l.inFeatures * l.outFeatures).fill(0.5) }])),
    };
    const ewc = createEwcGuard(fisher, { strength: 2 });
    const both = combineExtraLosses(l2, ewc);
    expect(Math.abs(valueOf(both, model) - (valueOf(l2, model) + valueOf(ewc, model)))).toBeLessThan(1e-5);
    const result = await train(model, {
      task: 'classification',
      train: Array.from({ length: 8 }, (_, i) => ({ input: [i, 1, -i, 0.5, 2], label: i % 3 })),
      seed: 1,
      maxSteps: 2,
      batchSize: 4,
      extraLoss: both,
    });
    expect(result.settings.extraLoss).toBe('l2-sp+ewc');
    both.dispose();
    expect(() => valueOf(ewc, model)).toThrow(/disposed/);
    model.dispose();
  });

  it('GUARD_DEFAULTS documents every option the guards record', () => {
    const model = adaptedMlp(9);
    const recorded = new Map<string, string[]>([
      ['l2-sp', Object.keys(createL2SpGuard().settings)],
      ['replay', Object.keys(createReplayGuard({ sequences: sequences(2, 4, 1) }).settings).filter((k) => k !== 'sequences')],
    ]);
    for (const [guard, fields] of recorded) for (const f of fields) expect(GUARD_DEFAULTS.some((d) => d.guard === guard && d.field === f)).toBe(true);
    for (const row of GUARD_DEFAULTS) expect(row.meaning.length).toBeGreaterThan(20);
    model.dispose();
  });

  it('bad options are typed errors', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isProvenantError(e) ? e.code : 'untyped';
      }
      return 'none';
    };
    expect(code(() => createL2SpGuard({ strength: -1 }))).toBe('TRAINING_CONFIG_INVALID');
    expect(code(() => createL2SpGuard({ strength: Number.NaN }))).toBe('TRAINING_CONFIG_INVALID');
    expect(code(() => createReplayGuard({ sequences: [] }))).toBe('TRAINING_CONFIG_INVALID');
    expect(code(() => createReplayGuard({ sequences: [{ input: [5] }] }))).toBe('TRAINING_CONFIG_INVALID');
    const model = tinyTransformer(4);
    expect(code(() => createKlToBaseGuard(model, { probe: [] }))).toBe('TRAINING_CONFIG_INVALID');
    expect(code(() => createKlToBaseGuard(model, { probe: [{ input: [4] }] }))).toBe('TRAINING_CONFIG_INVALID');
    expect(code(() => estimateDiagonalFisher(model, [], 'causal-lm'))).toBe('TRAINING_CONFIG_INVALID');
    expect(code(() => estimateDiagonalFisher(model, sequences(2, 5, 1), 'causal-lm', { modules: ['nope'] }))).toBe('LORA_TARGET_NOT_FOUND');
    expect(code(() => combineExtraLosses())).toBe('TRAINING_CONFIG_INVALID');
    model.dispose();
  });
});

describe('guards reduce drift from the base', () => {
  /** Task A (what the base knows) and task B (the fine-tune) label the same inputs by different rules. */
  const inputs = Array.from({ length: 48 }, (_, i) => [Math.sin(i * 1.3), Math.cos(i * 0.7), ((i * 37) % 11) / 5 - 1, Math.sin(i * 0.3 + 1), ((i * 13) % 7) / 3 - 1]);
  const taskA = inputs.map((x) => ({ input: x, label: x[0]! + x[1]! > 0 ? 1 : 0 }));
  const taskB = inputs.map((x) => ({ input: x, label: x[2]! - x[3]! > 0 ? 1 : 0 }));

  async function driftAfterFineTune(makeGuard: ((model: Model) => ExtraLoss) | null): Promise<number> {
    const model = createMlp({ inputSize: 5, hiddenSizes: [8], numClasses: 2, seed: 21 });
    await train(model, { task: 'classification', train: taskA, seed: 1, epochs: 30, batchSize: 16, learningRate: 3e-2 });
    const probs = () => tf.tidy(() => tf.softmax(model.forward(tf.tensor2d(inputs))).dataSync() as Float32Array);
    const before = probs();
    attachAdapter(model, 'default', { r: 2, alpha: 4, targetModules: ['fc1', 'fc2'] }, { seed: 2 });
    const guard = makeGuard?.(model);
    await train(model, { task: 'classification', train: taskB, seed: 2, maxSteps: 40, epochs: 100, batchSize: 16, learningRate: 5e-2, ...(guard ? { extraLoss: guard } : {}) });
    const after = probs();
    (guard as Partial<{ dispose(): void }> | undefined)?.dispose?.();
    model.dispose();
    let kl = 0;
    for (let i = 0; i < inputs.length; i++) kl += klDivergence(before.subarray(2 * i, 2 * i + 2), after.subarray(2 * i, 2 * i + 2)) / inputs.length;
    return kl;
  }

  it('L2-SP, KL-to-base and EWC each leave the task-A outputs closer to the base than an unguarded fine-tune', async () => {
    const none = await driftAfterFineTune(null);
    const l2 = await driftAfterFineTune(() => createL2SpGuard({ strength: 5 }));
    const kl = await driftAfterFineTune((model) => createKlToBaseGuard(model, { probe: taskA, task: 'classification', strength: 5 }));
    const ewc = await driftAfterFineTune((model) => createEwcGuard(estimateDiagonalFisher(model, taskA, 'classification'), { strength: 200 }));
    expect(none).toBeGreaterThan(0.05);
    expect(l2).toBeLessThan(0.5 * none);
    expect(kl).toBeLessThan(0.5 * none);
    expect(ewc).toBeLessThan(0.5 * none);
  });

  it('replay keeps general-text loss nearer the base during a classification fine-tune of a transformer', async () => {
    const general = sequences(16, 9, 3);
    const lmLoss = (model: TransformerModel) =>
      tf.tidy(() => {
        let total = 0;
        for (const e of general) {
          const seq = e.input as number[];
          const x = seq.slice(0, seq.length - 1);
          const logp = tf.logSoftmax(model.forwardLm(tf.tensor2d([x], [1, x.length], 'int32'))).dataSync() as Float32Array;
          x.forEach((_, t) => (total -= logp[t * CHAR_VOCAB_SIZE + seq[t + 1]!]!));
        }
        return total;
      });
    const run = async (weight: number) => {
      const model = tinyTransformer(5, 2);
      // A base that has learned the general sequences, so there is something to forget.
      await train(model, { task: 'causal-lm', train: general, seed: 1, epochs: 100, maxSteps: 40, batchSize: 8, learningRate: 1e-2 });
      const before = lmLoss(model);
      attachAdapter(model, 'default', { r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj', 'fc_in', 'fc_out'], modulesToSave: ['classifier'] }, { seed: 1 });
      const texts = Array.from({ length: 32 }, (_, i) => ({ input: Array.from({ length: 8 }, (_, t) => 3 + ((i * 11 + t * (i % 2 ? 5 : 17)) % 90)), label: i % 2 }));
      const guard = weight > 0 ? createReplayGuard({ sequences: general, weight, batchSize: 8, seed: 4 }) : undefined;
      await train(model, { task: 'classification', train: texts, seed: 3, epochs: 100, maxSteps: 15, batchSize: 16, learningRate: 3e-2, ...(guard ? { extraLoss: guard } : {}) });
      const increase = lmLoss(model) - before;
      model.dispose();
      return increase;
    };
    const none = await run(0);
    const replay = await run(1);
    expect(none).toBeGreaterThan(0);
    expect(replay).toBeLessThan(none);
  });
});

describe('guards: tensors', () => {
  it('a KL-to-base or EWC guard frees what it keeps on dispose, and a step leaves nothing behind', () => {
    const model = tinyTransformer(6);
    attachAdapter(model, 'default', { r: 2, targetModules: ['q_proj', 'v_proj'] }, { seed: 6 });
    const cycle = () => {
      const kl = createKlToBaseGuard(model, { probe: sequences(4, 9, 1), batchSize: 2 });
      const ewc = createEwcGuard(estimateDiagonalFisher(model, sequences(3, 9, 2), 'causal-lm', { method: 'sampled', seed: 1 }));
      const both = combineExtraLosses(kl, ewc, createL2SpGuard(), createReplayGuard({ sequences: sequences(4, 9, 3), batchSize: 2 }));
      const during = tf.memory().numTensors;
      valueOf(both, model, 0);
      valueOf(both, model, 1);
      expect(tf.memory().numTensors).toBe(during);
      both.dispose();
    };
    // The first cycle fills the model's causal-mask cache (one kept mask per sequence length, freed by model.dispose).
    cycle();
    const before = tf.memory().numTensors;
    cycle();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
