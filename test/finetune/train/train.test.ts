import { beforeAll, describe, expect, it } from 'vitest';
import { createRng, isProvenantError, type ProgressEvent } from '../../../src/core/index.js';
import {
  addClassificationHead,
  adapterHash,
  attachAdapter,
  createBatchPlan,
  createLogisticRegression,
  disposeBatch,
  makeBatch,
  createMlp,
  createTransformer,
  decodeCheckpoint,
  encodeCheckpoint,
  initBackend,
  namedParameters,
  setBaseTrainable,
  tf,
  train,
  type Model,
  type TrainingCheckpoint,
  type TrainingExample,
  type TrainOptions,
} from '../../../src/finetune/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** Three Gaussian blobs in 4-D: a separable classification problem. */
function blobs(n: number, seed: number): TrainingExample[] {
  const rng = createRng(seed);
  const centres = [[2, 0, 0, 1], [-2, 1, 0, 0], [0, -2, 2, 0]];
  return Array.from({ length: n }, (_, i) => {
    const label = i % 3;
    return { input: centres[label]!.map((c) => c + 0.7 * rng.nextNormal()), label };
  });
}

/** Token sequences with a learnable rule (next = current + 3 mod 8, offset into the vocabulary), some padded short. */
function sequences(n: number, seed: number, fixedLength?: number): TrainingExample[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => {
    const len = fixedLength ?? 5 + rng.nextInt(5);
    let x = rng.nextInt(8);
    const ids: number[] = [];
    for (let t = 0; t < len; t++) {
      ids.push(1 + x);
      x = (x + 3) % 8;
    }
    return { input: ids };
  });
}

function attachAdapters(model: Model, modules: string[], r: number, dropout: number, seed: number): void {
  setBaseTrainable(model, false);
  modules.forEach((name, i) => {
    const layer = model.linears.get(name)!;
    const [A, B] = tf.tidy(() => [
      tf.variable(tf.randomNormal([layer.inFeatures, r], 0, 0.3, 'float32', seed + i)),
      tf.variable(tf.zeros([r, layer.outFeatures])),
    ]);
    layer.adapters.set('default', { A, B, scale: 2, dropout });
    layer.active = ['default'];
  });
}

/** Bytes of every named parameter (base weights and adapters), for exact comparisons. */
function parameterBytes(model: Model): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, v] of namedParameters(model)) out.set(name, Buffer.from((v.dataSync() as Float32Array).buffer.slice(0)).toString('hex'));
  return out;
}

const tinyTransformer = (seed = 1) => createTransformer({ vocabSize: 10, dModel: 8, nHeads: 2, nLayers: 1, maxSeqLen: 12, mlpHidden: 16, seed });

describe('train', () => {
  it("maxSteps alone runs exactly that many steps, cycling the data (transformers' max_steps); with explicit epochs, whichever comes first", async () => {
    // 18 examples in batches of 8: 3 steps per epoch.
    const run = async (options: { maxSteps: number; epochs?: number }) => {
      const model = createLogisticRegression({ inputSize: 4, numClasses: 3, seed: 1 });
      const result = await train(model, { task: 'classification', train: blobs(18, 1), seed: 1, batchSize: 8, learningRate: 0.05, ...options });
      model.dispose();
      return result;
    };
    const alone = await run({ maxSteps: 7 });
    expect(alone.steps).toBe(7);
    expect(alone.used.epochs).toBe(3); // ⌈7 / 3⌉ passes, stated as what ran
    expect(alone.used.maxSteps).toBe(7);
    const both = await run({ maxSteps: 7, epochs: 1 });
    expect(both.steps).toBe(3);
    expect(both.used.epochs).toBe(1);
    // Neither: one epoch, as before.
    const model = createLogisticRegression({ inputSize: 4, numClasses: 3, seed: 1 });
    const plain = await train(model, { task: 'classification', train: blobs(18, 1), seed: 1, batchSize: 8 });
    expect([plain.steps, plain.used.epochs]).toEqual([3, 1]);
    model.dispose();
  });

  it('fits logistic regression on separable blobs and logs every step', async () => {
    const model = createLogisticRegression({ inputSize: 4, numClasses: 3, seed: 1 });
    const steps: number[] = [];
    const epochs: number[] = [];
    const progress: ProgressEvent[] = [];
    const result = await train(model, {
      task: 'classification',
      train: blobs(96, 1),
      validation: blobs(30, 2),
      seed: 1,
      epochs: 5,
      batchSize: 16,
      learningRate: 0.05,
      schedule: { kind: 'linear', warmupSteps: 3 },
      onStep: (e) => {
        steps.push(e.step);
        expect(e.examplesPerSecond).toBeGreaterThan(0);
        expect(e.etaSeconds).toBeGreaterThanOrEqual(0);
      },
      onEpoch: (e) => void epochs.push(e.epoch),
      onProgress: (e) => void progress.push(e),
    });
    expect(result.steps).toBe(30);
    expect(progress.at(-1)).toMatchObject({ stage: 'train', done: 30, total: 30 });
    expect(progress.at(-1)!.metrics!.loss).toBe(result.log.at(-1)!.loss);
    expect(steps).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(epochs).toEqual([1, 2, 3, 4, 5]);
    expect(result.log).toHaveLength(30);
    expect(result.log[0]!.lr).toBe(0);
    expect(result.log[1]!.lr).toBeCloseTo(0.05 / 3, 10);
    expect(result.log.at(-1)!.loss).toBeLessThan(result.log[0]!.loss / 3);
    expect(result.validations.at(-1)!.metrics.accuracy).toBeGreaterThan(0.9);
    expect(result.parameterNames).toEqual(['linear.weight', 'linear.bias']);
    model.dispose();
  });

  it('is deterministic: same seed ⇒ identical adapter bytes (with LoRA dropout); another seed differs', async () => {
    const run = async (seed: number) => {
      const model = createMlp({ inputSize: 4, hiddenSizes: [8], numClasses: 3, seed: 3 });
      attachAdapters(model, ['fc1', 'fc2'], 2, 0.2, 10);
      await train(model, { task: 'classification', train: blobs(48, 3), seed, epochs: 2, batchSize: 8 });
      const bytes = parameterBytes(model);
      model.dispose();
      return bytes;
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect([...a.keys()]).toContain('fc1.lora_B.default.weight');
    expect(b).toEqual(a);
    expect(c.get('fc1.lora_B.default.weight')).not.toEqual(a.get('fc1.lora_B.default.weight'));
    // Frozen base weights did not move.
    expect(a.get('fc1.weight')).toEqual(c.get('fc1.weight'));
  });

  it('with attachAdapter (LoRA+, dropout, classifier in modulesToSave): same seed ⇒ same adapter hash', async () => {
    const run = async (seed: number) => {
      const model = tinyTransformer(2);
      addClassificationHead(model, 2, { seed: 4 });
      attachAdapter(model, 'default', { r: 2, alpha: 4, dropout: 0.1, targetModules: ['q_proj', 'v_proj'], loraPlusLrRatio: 4, modulesToSave: ['classifier'] }, { seed: 9 });
      const examples = sequences(12, 6).map((e, i) => ({ ...e, label: i % 2 }));
      const result = await train(model, { task: 'classification', train: examples, seed, epochs: 2, batchSize: 4 });
      const hash = adapterHash(model, 'default');
      model.dispose();
      return { hash, result };
    };
    const a = await run(3);
    const b = await run(3);
    const c = await run(4);
    expect(b.hash).toBe(a.hash);
    expect(c.hash).not.toBe(a.hash);
    expect(a.result.parameterNames).toContain('blocks.0.attn.q_proj.lora_B.default.weight');
    expect(a.result.parameterNames.some((n) => n.startsWith('classifier'))).toBe(true);
    expect(a.result.parameterNames.some((n) => n.startsWith('embed_tokens'))).toBe(false);
  });

  it('classification batches may exceed the context (windows); causal-LM batches may not', () => {
    const model = tinyTransformer(5);
    addClassificationHead(model, 2, { seed: 1 });
    const long = [{ input: Array.from({ length: 30 }, (_, i) => 1 + (i % 9)), label: 1 }, { input: [1, 2, 3], label: 0 }];
    const cls = makeBatch(model, 'classification', long, [0, 0], 40);
    expect(cls.inputs.shape).toEqual([2, 30]);
    const logits = tf.tidy(() => model.forward(cls.inputs));
    expect(logits.shape).toEqual([2, 2]);
    const lm = makeBatch(model, 'causal-lm', long, [0, 0], 40);
    expect(lm.inputs.shape).toEqual([2, 12]);
    tf.dispose([logits]);
    disposeBatch(cls);
    disposeBatch(lm);
    model.dispose();
  });

  it('gradient accumulation of 2 × 4 equals one batch of 8', async () => {
    const run = async (batchSize: number, gradientAccumulationSteps: number) => {
      const model = createMlp({ inputSize: 4, hiddenSizes: [6], numClasses: 3, seed: 4 });
      const result = await train(model, { task: 'classification', train: blobs(40, 4), seed: 2, epochs: 2, batchSize, gradientAccumulationSteps, maxGradNorm: 0 });
      const values = [...model.weights.values()].map((v) => Array.from(v.dataSync()));
      model.dispose();
      return { values, result };
    };
    const one = await run(8, 1);
    const two = await run(4, 2);
    expect(two.result.steps).toBe(one.result.steps);
    two.result.log.forEach((e, i) => {
      expect(e.loss).toBeCloseTo(one.result.log[i]!.loss, 5);
      expect(e.examples).toBe(one.result.log[i]!.examples);
    });
    one.values.forEach((w, i) => w.forEach((x, j) => expect(two.values[i]![j]!).toBeCloseTo(x, 5)));
  });

  it('mixes weighted sources in every batch and covers the primary source once per epoch', () => {
    const primary = { name: 'domain', examples: blobs(30, 5), weight: 3 };
    const replay = { name: 'replay', examples: blobs(7, 6), weight: 1 };
    const plan = createBatchPlan([primary, replay], 8, 1);
    expect(plan.microBatchesPerEpoch).toBe(5);
    const seen: number[] = [];
    for (let k = 0; k < 5; k++) {
      const pairs = plan.examplesOf(k);
      const fromPrimary = pairs.filter(([s]) => s === 0);
      expect(pairs.filter(([s]) => s === 1)).toHaveLength(2);
      expect(fromPrimary.length).toBe(6);
      seen.push(...fromPrimary.map(([, i]) => i));
    }
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    // The replay source cycles through all 7 before repeating (10 draws over 5 batches).
    const replayDraws = Array.from({ length: 5 }, (_, k) => plan.examplesOf(k).filter(([s]) => s === 1).map(([, i]) => i)).flat();
    expect(new Set(replayDraws.slice(0, 7)).size).toBe(7);
  });

  it('resumes from a checkpoint (through bytes) to exactly the uninterrupted result', async () => {
    const options = (extra: Partial<TrainOptions>): TrainOptions => ({
      task: 'causal-lm',
      train: [
        { name: 'a', examples: sequences(24, 1), weight: 3 },
        { name: 'b', examples: sequences(10, 2), weight: 1 },
      ],
      validation: sequences(8, 3),
      seed: 5,
      epochs: 4,
      batchSize: 4,
      gradientAccumulationSteps: 2,
      learningRate: 0.02,
      schedule: { kind: 'cosine', warmupSteps: 2 },
      earlyStopping: { metric: 'perplexity', patience: 3 },
      checkpointEvery: 3,
      ...extra,
    });
    const full = tinyTransformer();
    attachAdapters(full, ['blocks.0.attn.q_proj', 'blocks.0.attn.v_proj', 'lm_head'], 2, 0.1, 20);
    const fullResult = await train(full, options({}));

    const stopped = tinyTransformer();
    attachAdapters(stopped, ['blocks.0.attn.q_proj', 'blocks.0.attn.v_proj', 'lm_head'], 2, 0.1, 20);
    let saved: Uint8Array | undefined;
    await expect(
      train(stopped, {
        ...options({}),
        onCheckpoint: (c) => void (saved = encodeCheckpoint(c)),
        onStep: (e) => {
          if (e.step === 8) throw new Error('stop');
        },
      }),
    ).rejects.toThrow('stop');
    const checkpoint: TrainingCheckpoint = decodeCheckpoint(saved!);
    expect(checkpoint.step).toBe(6);
    stopped.dispose();

    const resumed = tinyTransformer();
    attachAdapters(resumed, ['blocks.0.attn.q_proj', 'blocks.0.attn.v_proj', 'lm_head'], 2, 0.1, 20);
    const resumedResult = await train(resumed, options({ resumeFrom: checkpoint }));
    expect(parameterBytes(resumed)).toEqual(parameterBytes(full));
    expect(resumedResult.steps).toBe(fullResult.steps);
    expect(resumedResult.log.map((e) => [e.step, e.loss, e.lr, e.gradNorm])).toEqual(fullResult.log.map((e) => [e.step, e.loss, e.lr, e.gradNorm]));
    expect(resumedResult.validations).toEqual(fullResult.validations);
    // Other settings refuse the checkpoint.
    await expect(train(resumed, options({ resumeFrom: checkpoint, learningRate: 0.03 }))).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID' });
    full.dispose();
    resumed.dispose();
  });

  it('stops on a non-finite loss before the bad update, keeping the last good checkpoint', async () => {
    const model = createLogisticRegression({ inputSize: 4, numClasses: 3, seed: 1 });
    let error: unknown;
    const weightsAfterStep2: number[][] = [];
    try {
      await train(model, {
        task: 'classification',
        train: blobs(60, 1),
        seed: 1,
        epochs: 1,
        batchSize: 10,
        learningRate: 0.1,
        onStep: (e) => {
          if (e.step === 2) weightsAfterStep2.push(...[...model.weights.values()].map((v) => Array.from(v.dataSync())));
        },
        extraLoss: ({ step }) => (step === 2 ? tf.scalar(Number.NaN) : null),
      });
    } catch (e) {
      error = e;
    }
    expect(isProvenantError(error, 'TRAINING_NON_FINITE_LOSS')).toBe(true);
    const data = (error as { data: { step: number; checkpoint: TrainingCheckpoint } }).data;
    expect(data.step).toBe(3);
    expect(data.checkpoint.step).toBe(2);
    expect(Array.from(data.checkpoint.parameters['linear.weight']!.data)).toEqual(weightsAfterStep2[0]);
    expect(Array.from(model.weights.get('linear.weight')!.dataSync())).toEqual(weightsAfterStep2[0]);
    model.dispose();
  });

  it('early stopping stops after `patience` bad epochs and restores the best weights', async () => {
    const model = createMlp({ inputSize: 4, hiddenSizes: [16], numClasses: 3, seed: 2 });
    const snapshots: Array<{ epoch: number; loss: number; weights: number[] }> = [];
    // Validation labels are shuffled, so validation loss rises as the model fits the training labels.
    const validation = blobs(30, 9).map((e, i) => ({ ...e, label: (i * 7) % 3 }));
    const result = await train(model, {
      task: 'classification',
      train: blobs(60, 8),
      validation,
      seed: 3,
      epochs: 30,
      batchSize: 20,
      learningRate: 0.05,
      earlyStopping: { metric: 'loss', patience: 2 },
      onEpoch: (e) => void snapshots.push({ epoch: e.epoch, loss: e.validation!.loss, weights: Array.from(model.weights.get('fc1.weight')!.dataSync()) }),
    });
    expect(result.stoppedEarly).toBe(true);
    const best = snapshots.reduce((a, b) => (b.loss < a.loss ? b : a));
    expect(result.bestMetric).toBe(best.loss);
    expect(snapshots.at(-1)!.epoch).toBe(best.epoch + 2);
    expect(Array.from(model.weights.get('fc1.weight')!.dataSync())).toEqual(best.weights);
    model.dispose();
  });

  it('adds extraLoss to the differentiated loss', async () => {
    const model = createLogisticRegression({ inputSize: 4, numClasses: 3, seed: 1, initStd: 0.5 });
    const kernel = model.weights.get('linear.weight')!;
    // A strong L2 pull on the kernel alone, with a constant that shows up in the logged loss.
    await train(model, {
      task: 'classification',
      train: blobs(30, 1),
      seed: 1,
      epochs: 20,
      batchSize: 30,
      learningRate: 0.05,
      optimizer: { weightDecay: 0 },
      extraLoss: ({ model: m }) => m.weights.get('linear.weight')!.square().sum().mul(100) as tf.Scalar,
    });
    const norm = tf.tidy(() => kernel.norm().dataSync()[0]!);
    const free = createLogisticRegression({ inputSize: 4, numClasses: 3, seed: 1, initStd: 0.5 });
    await train(free, { task: 'classification', train: blobs(30, 1), seed: 1, epochs: 20, batchSize: 30, learningRate: 0.05, optimizer: { weightDecay: 0 } });
    expect(norm).toBeLessThan(0.2 * tf.tidy(() => free.weights.get('linear.weight')!.norm().dataSync()[0]!));
    model.dispose();
    free.dispose();
  });

  it('keeps the tensor count flat over 500 LoRA steps of the tiny transformer', async () => {
    const before = tf.memory().numTensors;
    const model = tinyTransformer(3);
    attachAdapters(model, ['blocks.0.attn.q_proj', 'blocks.0.attn.v_proj'], 2, 0.1, 30);
    const counts: number[] = [];
    const result = await train(model, {
      task: 'causal-lm',
      // One sequence length, so the model's per-length causal-mask cache is filled at the first step.
      train: sequences(16, 4, 9),
      validation: sequences(4, 5, 9),
      seed: 1,
      epochs: 500,
      maxSteps: 500,
      batchSize: 8,
      onStep: (e) => {
        if (e.step % 100 === 0) counts.push(tf.memory().numTensors);
      },
    });
    expect(result.steps).toBe(500);
    expect(counts).toHaveLength(5);
    expect(new Set(counts).size).toBe(1);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad settings with TRAINING_CONFIG_INVALID', async () => {
    const model = createLogisticRegression({ inputSize: 4, numClasses: 3, seed: 1 });
    const base: TrainOptions = { task: 'classification', train: blobs(6, 1), seed: 1 };
    await expect(train(model, { ...base, batchSize: 0 })).rejects.toMatchObject({ code: 'TRAINING_CONFIG_INVALID' });
    await expect(train(model, { ...base, learningRate: -1 })).rejects.toMatchObject({ code: 'TRAINING_CONFIG_INVALID' });
    await expect(train(model, { ...base, task: 'causal-lm' })).rejects.toMatchObject({ code: 'TRAINING_CONFIG_INVALID' });
    await expect(train(model, { ...base, earlyStopping: {} })).rejects.toMatchObject({ code: 'TRAINING_CONFIG_INVALID' });
    await expect(train(model, { ...base, train: [{ input: [1, 2, 3], label: 0 }] })).rejects.toMatchObject({ code: 'TRAINING_EXAMPLE_INVALID', data: { source: 'train', example: 0 } });
    setBaseTrainable(model, false);
    await expect(train(model, base)).rejects.toThrow(/Nothing to train/);
    model.dispose();
  });
});
