import { describe, expect, it } from 'vitest';
import { LoraDense, loraDenseFromDense, tf } from '../../../src/finetune/index.js';
import { matmul64, maxAbsDiff, sameBits, values } from './helpers.js';

function randomize(variable: tf.LayerVariable, seed: number, std = 0.5): void {
  tf.tidy(() => {
    variable.write(tf.randomNormal(variable.shape as number[], 0, std, 'float32', seed));
  });
}

function predict(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  const y = model.predict(x) as tf.Tensor;
  const out = values(y);
  y.dispose();
  return out;
}

describe('LoraDense', () => {
  it('wrapping a trained dense layer: B = 0 ⇒ the same outputs; only A and B are trainable', () => {
    const dense = tf.layers.dense({ units: 3, inputShape: [5], activation: 'tanh', kernelInitializer: tf.initializers.randomNormal({ seed: 1 }) });
    const baseModel = tf.sequential({ layers: [dense] });
    tf.tidy(() => {
      dense.setWeights([dense.getWeights()[0]!, tf.tensor1d([0.1, -0.2, 0.3])]);
    });
    const lora = loraDenseFromDense(dense, { r: 2, alpha: 4, seed: 7 });
    const model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [5] }), lora] });
    const x = tf.randomNormal([6, 5], 0, 1, 'float32', 3);
    expect(maxAbsDiff(predict(model, x), predict(baseModel, x))).toBeLessThan(1e-6);
    expect(model.trainableWeights.map((w) => w.originalName.split('/').pop())).toEqual(['lora_A', 'lora_B']);
    expect(lora.activation).toBe('tanh');
    x.dispose();
  });

  it('gradients of A, B and the input match central finite differences of an independent float64 forward pass', () => {
    const layer = new LoraDense({ units: 3, r: 2, alpha: 6, seed: 5, inputShape: [4] });
    layer.build([null, 4]);
    randomize(layer.loraB!, 11);
    randomize(layer.bias!, 12);
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 13);
    const w = tf.randomNormal([3, 3], 0, 1, 'float32', 14);
    const loss = (xIn: tf.Tensor) => tf.sum(tf.mul(tf.square(layer.apply(xIn) as tf.Tensor), w)) as tf.Scalar;
    const A = layer.loraA!.read() as tf.Variable;
    const B = layer.loraB!.read() as tf.Variable;
    const { grads } = tf.variableGrads(() => loss(x), [A, B]);
    const dx = tf.grad((xIn: tf.Tensor) => loss(xIn))(x);

    // Float64 reference: L = Σ w ⊙ (x·W + b + s·x·A·B)².
    const X = Float64Array.from(values(x));
    const W = values(layer.kernel!.read());
    const bias = values(layer.bias!.read());
    const Wt = values(w);
    const s = 3;
    const f = (xs: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>) => {
      const y = matmul64(xs, W, 3, 4, 3);
      const u = matmul64(matmul64(xs, a, 3, 4, 2), b, 3, 2, 3);
      let total = 0;
      for (let i = 0; i < 9; i++) total += Wt[i]! * (y[i]! + bias[i % 3]! + s * u[i]!) ** 2;
      return total;
    };
    const fd = (target: Float64Array, evaluate: () => number) =>
      Array.from(target, (_, i) => {
        const h = 1e-6;
        const keep = target[i]!;
        target[i] = keep + h;
        const up = evaluate();
        target[i] = keep - h;
        const down = evaluate();
        target[i] = keep;
        return (up - down) / (2 * h);
      });
    const a = Float64Array.from(values(A));
    const b = Float64Array.from(values(B));
    const numeric = { A: fd(a, () => f(X, a, b)), B: fd(b, () => f(X, a, b)), x: fd(X, () => f(X, a, b)) };
    const scaleOf = (v: number[]) => Math.max(1, ...v.map(Math.abs));
    expect(maxAbsDiff(values(grads[A.name]!), numeric.A) / scaleOf(numeric.A)).toBeLessThan(1e-4);
    expect(maxAbsDiff(values(grads[B.name]!), numeric.B) / scaleOf(numeric.B)).toBeLessThan(1e-4);
    expect(maxAbsDiff(values(dx), numeric.x) / scaleOf(numeric.x)).toBeLessThan(1e-4);
    tf.dispose([x, w, dx, ...Object.values(grads)]);
  });

  it('round-trips through model save/load (registered class, config, weights)', async () => {
    const model = tf.sequential({ layers: [new LoraDense({ units: 3, r: 2, alpha: 4, loraDropout: 0.1, useRslora: true, activation: 'relu', seed: 2, inputShape: [5] })] });
    const layer = model.layers[0] as LoraDense;
    randomize(layer.loraB!, 3);
    const x = tf.randomNormal([4, 5], 0, 1, 'float32', 4);
    const before = predict(model, x);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    expect(JSON.stringify(artifacts!.modelTopology)).toContain('ProvenantLoraDense');
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const reloaded = loaded.layers[0] as LoraDense;
    expect(reloaded).toBeInstanceOf(LoraDense);
    expect([reloaded.r, reloaded.alpha, reloaded.useRslora, reloaded.loraDropout, reloaded.activation]).toEqual([2, 4, true, 0.1, 'relu']);
    expect(reloaded.scale).toBeCloseTo(4 / Math.SQRT2, 12);
    expect(sameBits(predict(loaded, x), before)).toBe(true);
    x.dispose();
  });

  it('merge/unmerge: same outputs merged, exact kernel bytes after unmerge; 3-D inputs', () => {
    const layer = new LoraDense({ units: 4, r: 3, alpha: 3, seed: 9, inputShape: [6] });
    const model = tf.sequential({ layers: [layer] });
    randomize(layer.loraB!, 10);
    const x = tf.randomNormal([2, 3, 6], 0, 1, 'float32', 5);
    const y = layer.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 3, 4]);
    const kernel = values(layer.kernel!.read());
    const out = values(y);
    layer.merge();
    expect(layer.merged).toBe(true);
    const merged = layer.apply(x) as tf.Tensor;
    expect(maxAbsDiff(values(merged), out)).toBeLessThan(1e-5);
    expect(maxAbsDiff(values(layer.kernel!.read()), kernel)).toBeGreaterThan(1e-3);
    layer.unmerge();
    expect(sameBits(values(layer.kernel!.read()), kernel)).toBe(true);
    expect(model.layers).toHaveLength(1);
    tf.dispose([x, y, merged]);
  });

  it('fit() trains A and B and leaves the base kernel untouched', async () => {
    const layer = new LoraDense({ units: 2, r: 2, alpha: 2, seed: 1, inputShape: [3] });
    const model = tf.sequential({ layers: [layer] });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
    const kernel = values(layer.kernel!.read());
    const B0 = values(layer.loraB!.read());
    const xs = tf.randomNormal([8, 3], 0, 1, 'float32', 1);
    const ys = tf.randomNormal([8, 2], 0, 1, 'float32', 2);
    const history = await model.fit(xs, ys, { epochs: 3, batchSize: 8, verbose: 0, shuffle: false });
    expect(history.history.loss![2]!).toBeLessThan(history.history.loss![0]! as number);
    expect(sameBits(values(layer.kernel!.read()), kernel)).toBe(true);
    expect(maxAbsDiff(values(layer.loraB!.read()), B0)).toBeGreaterThan(0);
    tf.dispose([xs, ys]);
  });

  it('refuses bad arguments with LORA_CONFIG_INVALID naming them', () => {
    expect(() => new LoraDense({ units: 0, r: 0 })).toThrow(expect.objectContaining({ code: 'LORA_CONFIG_INVALID', data: { fields: ['units', 'r'] } }));
  });
});
