import { describe, expect, it } from 'vitest';
import {
  createGradientCapture,
  createLinear,
  createMlp,
  disposeCapture,
  linearForward,
  tf,
  type Linear,
} from '../../src/finetune/index.js';

function attachRandomAdapter(layer: Linear, r: number, seed: number, scale = 2): void {
  const A = tf.variable(tf.randomNormal([layer.inFeatures, r], 0, 0.3, 'float32', seed), true);
  const B = tf.variable(tf.randomNormal([r, layer.outFeatures], 0, 0.3, 'float32', seed + 1), true);
  layer.adapters.set('default', { A, B, scale, dropout: 0 });
  layer.active = ['default'];
}

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!);

describe('linearForward', () => {
  it('equals x·W + b + s·x·A·B computed with plain tfjs ops, and its gradients match tfjs autodiff', () => {
    const layer = createLinear('fc', 5, 3, { seed: 1 });
    tf.tidy(() => layer.bias!.assign(tf.randomNormal([3], 0, 1, 'float32', 9)));
    attachRandomAdapter(layer, 2, 3);
    const x = tf.randomNormal([4, 5], 0, 1, 'float32', 5);
    const lora = layer.adapters.get('default')!;
    const reference = (xIn: tf.Tensor, W: tf.Tensor, A: tf.Tensor, B: tf.Tensor) =>
      tf.matMul(xIn as tf.Tensor2D, W as tf.Tensor2D).add(layer.bias!).add(tf.matMul(tf.matMul(xIn as tf.Tensor2D, A as tf.Tensor2D), B as tf.Tensor2D).mul(2));
    const ours = tf.tidy(() => linearForward(layer, x));
    const theirs = tf.tidy(() => reference(x, layer.kernel, lora.A, lora.B));
    expect(maxAbsDiff(ours, theirs)).toBeLessThan(1e-5);

    const weights = tf.randomNormal([4, 3], 0, 1, 'float32', 11);
    const lossOurs = (xIn: tf.Tensor, W: tf.Tensor, A: tf.Tensor, B: tf.Tensor) =>
      tf.sum(tf.mul(reference(xIn, W, A, B).square(), weights)) as tf.Scalar;
    const gradsRef = tf.grads(lossOurs)([x, layer.kernel, lora.A, lora.B]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(linearForward(layer, x).square(), weights)) as tf.Scalar, [layer.kernel, lora.A, lora.B]);
    expect(maxAbsDiff(grads[layer.kernel.name]!, gradsRef[1]!)).toBeLessThan(1e-4);
    expect(maxAbsDiff(grads[lora.A.name]!, gradsRef[2]!)).toBeLessThan(1e-4);
    expect(maxAbsDiff(grads[lora.B.name]!, gradsRef[3]!)).toBeLessThan(1e-4);
    tf.dispose([ours, theirs, x, weights, gradsRef, Object.values(grads)]);
  });

  it('a frozen kernel gets no gradient work and the input gradient still flows', () => {
    const layer = createLinear('fc', 3, 2, { seed: 2, trainable: false });
    attachRandomAdapter(layer, 1, 4);
    const x = tf.variable(tf.randomNormal([2, 3], 0, 1, 'float32', 6));
    const { grads } = tf.variableGrads(() => linearForward(layer, x).sum() as tf.Scalar);
    expect(Object.keys(grads)).not.toContain(layer.kernel.name);
    expect(Object.keys(grads)).toContain(x.name);
    tf.dispose([x, Object.values(grads)]);
  });

  it('captured δ gives per-example gradients equal to one backward pass per example (MLP with LoRA)', () => {
    const model = createMlp({ inputSize: 6, hiddenSizes: [5], numClasses: 3, seed: 3 });
    for (const layer of model.linears.values()) attachRandomAdapter(layer, 2, 20 + layer.inFeatures, 1.5);
    const n = 4;
    const x = tf.randomNormal([n, 6], 0, 1, 'float32', 7);
    const labels = tf.oneHot(tf.tensor1d([0, 2, 1, 2], 'int32'), 3);
    const lossOf = (xs: tf.Tensor, ys: tf.Tensor, capture?: ReturnType<typeof createGradientCapture>) =>
      tf.losses.softmaxCrossEntropy(ys, model.forward(xs, { capture }), undefined, undefined, tf.Reduction.SUM) as tf.Scalar;

    const capture = createGradientCapture();
    const { grads: batchGrads } = tf.variableGrads(() => lossOf(x, labels, capture));
    tf.dispose(Object.values(batchGrads));
    const fc2 = model.linears.get('fc2')!;
    const adapter = fc2.adapters.get('default')!;
    for (let i = 0; i < n; i++) {
      const xi = x.slice([i, 0], [1, 6]);
      const yi = labels.slice([i, 0], [1, 3]);
      const { grads } = tf.variableGrads(() => lossOf(xi, yi), [fc2.kernel, adapter.A, adapter.B]);
      const [dW, dA, dB] = tf.tidy(() => {
        const delta = capture.outputGrads.get('fc2')!.slice([i, 0], [1, 3]);
        const input = capture.inputs.get('fc2')!.slice([i, 0], [1, 5]);
        const { input: loraIn, hidden } = capture.lora.get('fc2/default')!;
        const dWi = tf.matMul(input.transpose(), delta);
        const dBi = tf.matMul(hidden.slice([i, 0], [1, 2]).transpose(), delta).mul(adapter.scale);
        const dAi = tf.matMul(loraIn.slice([i, 0], [1, 5]).transpose(), tf.matMul(delta, adapter.B.transpose())).mul(adapter.scale);
        return [dWi, dAi, dBi];
      });
      expect(maxAbsDiff(dW!, grads[fc2.kernel.name]!)).toBeLessThan(1e-5);
      expect(maxAbsDiff(dA!, grads[adapter.A.name]!)).toBeLessThan(1e-5);
      expect(maxAbsDiff(dB!, grads[adapter.B.name]!)).toBeLessThan(1e-5);
      tf.dispose([xi, yi, dW, dA, dB, Object.values(grads)]);
    }
    disposeCapture(capture);
    tf.dispose([x, labels]);
    model.dispose();
  });

  it('rejects inputs of the wrong width with LORA_SHAPE_MISMATCH', () => {
    const layer = createLinear('fc', 3, 2, { seed: 1 });
    expect(() => tf.tidy(() => linearForward(layer, tf.zeros([2, 4])))).toThrow(/LORA_SHAPE_MISMATCH/);
  });
});
