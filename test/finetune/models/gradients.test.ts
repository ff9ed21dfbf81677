import { beforeAll, describe, expect, it } from 'vitest';
import {
  createLogisticRegression,
  createMlp,
  createTransformer,
  initBackend,
  setBaseTrainable,
  tf,
  type Model,
} from '../../../src/finetune/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/**
 * Checks the autodiff gradient of `loss` with respect to each variable against a central finite difference along a random
 * unit direction d: (L(w + εd) − L(w − εd)) / 2ε ≈ ⟨∇L, d⟩. Float32 loss noise is ~1e-7·|L|, so with ε = 1e-2 the difference
 * quotient is good to ~1e-5 absolute plus the O(ε²) third-derivative term.
 */
function checkGradients(variables: tf.Variable[], loss: () => tf.Scalar, seed: number, tolerance = 2e-3): number {
  const { grads, value } = tf.variableGrads(loss, variables);
  value.dispose();
  let worst = 0;
  variables.forEach((v, i) => {
    const d = tf.tidy(() => {
      const r = tf.randomNormal(v.shape, 0, 1, 'float32', seed + i);
      return r.div(r.norm());
    });
    const original = v.clone();
    const eps = 1e-2;
    const evalAt = (sign: number) => {
      tf.tidy(() => v.assign(original.add(d.mul(sign * eps))));
      return tf.tidy(() => loss().dataSync()[0]!);
    };
    const fd = (evalAt(1) - evalAt(-1)) / (2 * eps);
    v.assign(original);
    const analytic = tf.tidy(() => grads[v.name]!.mul(d).sum().dataSync()[0]!);
    const err = Math.abs(fd - analytic) / (0.1 + Math.abs(fd));
    worst = Math.max(worst, err);
    expect(err, `${v.name}: fd ${fd} vs analytic ${analytic}`).toBeLessThan(tolerance);
    tf.dispose([d, original]);
  });
  tf.dispose(Object.values(grads));
  return worst;
}

function attachTestAdapter(model: Model, modules: string[], r: number, seed: number): tf.Variable[] {
  const vars: tf.Variable[] = [];
  modules.forEach((name, i) => {
    const layer = model.linears.get(name)!;
    const A = tf.variable(tf.randomNormal([layer.inFeatures, r], 0, 0.3, 'float32', seed + 2 * i), true);
    const B = tf.variable(tf.randomNormal([r, layer.outFeatures], 0, 0.3, 'float32', seed + 2 * i + 1), true);
    layer.adapters.set('t', { A, B, scale: 2, dropout: 0 });
    layer.active = ['t'];
    vars.push(A, B);
  });
  return vars;
}

const ce = (labels: tf.Tensor, logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;

describe('gradients against finite differences', () => {
  it('logistic regression and MLP (base weights and LoRA)', () => {
    const x = tf.randomNormal([6, 5], 0, 1, 'float32', 1);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1, 0, 2], 'int32'), 3);
    const lr = createLogisticRegression({ inputSize: 5, numClasses: 3, seed: 1, initStd: 0.5 });
    checkGradients([...lr.weights.values()], () => ce(y, lr.forward(x)), 10);
    const mlp = createMlp({ inputSize: 5, hiddenSizes: [7, 4], numClasses: 3, seed: 2 });
    checkGradients([...mlp.weights.values()], () => ce(y, mlp.forward(x)), 20);
    const lora = attachTestAdapter(mlp, ['fc1', 'fc3'], 2, 30);
    setBaseTrainable(mlp, false);
    checkGradients(lora, () => ce(y, mlp.forward(x)), 40);
    tf.dispose([x, y]);
    lr.dispose();
    mlp.dispose();
  });

  it('transformer: every base weight under the causal LM loss', () => {
    const model = createTransformer({ vocabSize: 9, dModel: 8, nHeads: 2, nLayers: 2, maxSeqLen: 5, mlpHidden: 10, seed: 5 });
    const ids = tf.tensor2d([[1, 2, 3, 4, 5], [8, 7, 6, 5, 0]], [2, 5], 'int32');
    const targets = tf.oneHot(tf.tensor1d([2, 3, 4, 5, 6, 7, 6, 5, 0, 1], 'int32'), 9);
    // Larger weights than the 0.02 init, so every path (attention softmax, GELU curvature) carries gradient.
    for (const v of model.weights.values()) if (!v.name.includes('ln')) tf.tidy(() => v.assign(v.mul(15)));
    checkGradients([...model.weights.values()], () => ce(targets, model.forwardLm(ids)), 100);
    tf.dispose([ids, targets]);
    model.dispose();
  });

  it('transformer: LoRA on q, v, fc_in (frozen base) and the classifier head', () => {
    const model = createTransformer({ vocabSize: 9, dModel: 8, nHeads: 2, nLayers: 2, maxSeqLen: 5, mlpHidden: 10, numClasses: 3, seed: 6 });
    for (const v of model.weights.values()) if (!v.name.includes('ln')) tf.tidy(() => v.assign(v.mul(15)));
    const ids = tf.tensor2d([[1, 2, 3, 0, 0], [8, 7, 6, 5, 4], [3, 3, 1, 2, 0]], [3, 5], 'int32');
    const labels = tf.oneHot(tf.tensor1d([0, 2, 1], 'int32'), 3);
    const lora = attachTestAdapter(model, ['blocks.0.attn.q_proj', 'blocks.0.attn.v_proj', 'blocks.1.mlp.fc_in'], 2, 200);
    setBaseTrainable(model, false);
    const head = model.linears.get('classifier')!;
    head.kernel.trainable = true;
    head.bias!.trainable = true;
    checkGradients([...lora, head.kernel, head.bias!], () => ce(labels, model.forward(ids)), 300);
    tf.dispose([ids, labels]);
    model.dispose();
  });
});
