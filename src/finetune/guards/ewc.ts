/**
 * Elastic weight consolidation (Kirkpatrick et al. 2017, "Overcoming catastrophic forgetting in neural networks",
 * eq. 3: L(θ) = L_B(θ) + Σ_i λ/2·F_i·(θ_i − θ*_A,i)²) with a diagonal Fisher F estimated on the base task A.
 *
 * For LoRA, θ − θ* on a module is the effective update s·A·B, so the penalty is λ/2·Σ_modules Σ F_W ⊙ (s·A·B)², with F_W
 * the Fisher diagonal of that module's base kernel W. Only the adapted modules' kernels need a Fisher.
 *
 * The Fisher (`estimateDiagonalFisher`): F = mean over examples of (∇_W log p(y | x))², one backward pass per example
 * at the base weights (adapters disabled), where y is
 * - 'empirical': the example's own label (or, for a causal LM, its actual next tokens) — the "empirical Fisher"
 *   (Martens 2020, §11, warns it is not the Fisher in general; it is what most EWC code computes);
 * - 'sampled': drawn from the model's own predictive distribution, one draw per example (per position for an LM) — an
 *   unbiased Monte-Carlo estimate of the true Fisher's diagonal, as Kirkpatrick et al. define it.
 * For an LM, one "example" is a whole sequence: the gradient is of the sequence's summed log-likelihood.
 */
import { ProvenantError, createRng, resolve } from '../../core/index.js';
import type { Model } from '../models/model.js';
import { tf, type Tensor, type Variable } from '../tf.js';
import { disposeBatch, makeBatch, type Batch, type TrainingExample, type TrainingTask } from '../train/data.js';
import { taskLogits, taskLoss } from '../train/loss.js';
import { adapterFactors, makeGuard, type Guard } from './guard.js';
import { EWC_PARAMS, FISHER_PARAMS } from './guard-params.js';
import { withAdaptersDisabled } from './kl-to-base.js';

export type FisherMethod = 'empirical' | 'sampled';

export interface EstimateFisherOptions {
  /** Default 'empirical'. */
  method?: FisherMethod;
  /** Kernels to estimate, by module path; default the modules of the active adapters (or every module without one). */
  modules?: readonly string[] | null;
  /** Use at most this many examples (the first ones). Default 256. */
  maxExamples?: number;
  /** Seed of the 'sampled' labels. Default 0. */
  seed?: number;
  /** Truncate sequences (transformer) to this many input positions. */
  sequenceLength?: number | null;
}

/** A diagonal Fisher per module kernel, in the kernel's tfjs layout [in, out], row-major. */
export interface DiagonalFisher {
  method: FisherMethod;
  task: TrainingTask;
  examples: number;
  modules: Map<string, { shape: [number, number]; values: Float32Array }>;
}

function defaultModules(model: Model): string[] {
  const withAdapters = [...model.linears.values()].filter((l) => l.active.length > 0).map((l) => l.name);
  return withAdapters.length > 0 ? withAdapters : [...model.linears.keys()];
}

/** Labels (classification) or next-token targets (LM) drawn from the model's predictions for one example's batch. */
function sampledTargets(model: Model, task: TrainingTask, batch: Batch, rng: ReturnType<typeof createRng>): Tensor {
  const { targets } = batch;
  const probs = tf.tidy(() => tf.softmax(taskLogits(model, task, batch.inputs, {}, batch)));
  const p = probs.dataSync() as Float32Array;
  const [rows, K] = probs.shape as [number, number];
  probs.dispose();
  const draw = (row: number): number => {
    let u = rng.nextDouble();
    for (let k = 0; k < K; k++) {
      u -= p[row * K + k]!;
      if (u < 0) return k;
    }
    return K - 1;
  };
  if (task === 'classification') return tf.tensor1d(Int32Array.from({ length: rows }, (_, r) => draw(r)), 'int32');
  const padId = (model.config as { padId?: number }).padId ?? 0;
  const real = targets.dataSync() as Int32Array;
  // Positions without a real target stay pad, so they are still excluded from the loss. A Hugging Face batch's loss mask
  // already excludes them (and its pad id may be a real token), so every position is drawn there.
  const sampled = Int32Array.from(real, (t, r) => (!batch.lossMask && t === padId ? padId : draw(r)));
  return tf.tensor(sampled, targets.shape, 'int32');
}

/**
 * Diagonal Fisher of the base kernels on the base task (see the module note for 'empirical' vs 'sampled').
 *
 * @example
 * ```ts
 * import { createEwcGuard, estimateDiagonalFisher, type Model, type TrainingExample } from 'provenant/finetune';
 * declare const model: Model;
 * declare const generalSequences: readonly TrainingExample[];
 * const fisher = estimateDiagonalFisher(model, generalSequences, 'causal-lm', { method: 'sampled', maxExamples: 64, seed: 1 });
 * const guard = createEwcGuard(fisher, { strength: 100 });
 * ```
 */
export function estimateDiagonalFisher(model: Model, examples: readonly TrainingExample[], task: TrainingTask, options: EstimateFisherOptions = {}): DiagonalFisher {
  const resolved = resolve<Required<EstimateFisherOptions>>(FISHER_PARAMS, options);
  const { method, maxExamples } = resolved;
  const used = examples.slice(0, maxExamples);
  if (used.length === 0) throw new ProvenantError('TRAINING_CONFIG_INVALID', 'ewc: the Fisher needs at least one example.');
  const modules = resolved.modules ?? defaultModules(model);
  const kernels: Variable[] = modules.map((m) => {
    const linear = model.linears.get(m);
    if (!linear) throw new ProvenantError('LORA_TARGET_NOT_FOUND', `ewc: the model has no module "${m}".`, { data: { module: m } });
    return linear.kernel;
  });
  const rng = createRng(`ewc-fisher/${resolved.seed}`);
  const sums: Tensor[] = kernels.map((k) => tf.keep(tf.zeros(k.shape)));
  // Everything else is frozen so the per-example backward pass computes only the kernels' gradients.
  const everything = new Set<Variable>([...model.weights.values()]);
  for (const l of model.linears.values()) for (const w of l.adapters.values()) everything.add(w.A).add(w.B);
  const previous = new Map([...everything].map((v) => [v, v.trainable]));
  try {
    for (const v of everything) v.trainable = false;
    for (const k of kernels) k.trainable = true;
    withAdaptersDisabled(model, () => {
      for (const example of used) {
        const row = task === 'classification' ? { input: example.input, label: example.label ?? 0 } : example;
        const batch = makeBatch(model, task, [row], [0], resolved.sequenceLength ?? undefined);
        if (method === 'sampled') {
          const drawn = sampledTargets(model, task, batch, rng);
          batch.targets.dispose();
          batch.targets = drawn;
        }
        const { value, grads } = tf.variableGrads(() => taskLoss(model, task, batch, {}, true), kernels);
        value.dispose();
        kernels.forEach((k, i) => {
          const g = grads[k.name];
          if (!g) return;
          const next = tf.tidy(() => sums[i]!.add(g.square()));
          sums[i]!.dispose();
          sums[i] = tf.keep(next);
        });
        for (const g of Object.values(grads)) g.dispose();
        disposeBatch(batch);
      }
    });
    const result: DiagonalFisher = { method, task, examples: used.length, modules: new Map() };
    modules.forEach((m, i) => {
      const values = Float32Array.from(sums[i]!.dataSync() as Float32Array, (v) => v / used.length);
      result.modules.set(m, { shape: [kernels[i]!.shape[0]!, kernels[i]!.shape[1]!], values });
    });
    return result;
  } finally {
    for (const [v, t] of previous) v.trainable = t;
    for (const s of sums) s.dispose();
  }
}

export interface EwcOptions {
  /** λ of λ/2·Σ F ⊙ (s·A·B)². Default 1. */
  strength?: number;
  /** Adapters penalised; default every active, unmerged adapter. */
  adapters?: readonly string[] | null;
}

/**
 * EWC guard on the LoRA update: λ/2·Σ_modules Σ F_W ⊙ (s·A·B)². Every penalised module needs a Fisher entry
 * (`MODEL_CONFIG_INVALID` otherwise, naming the missing modules).
 *
 * @example
 * ```ts
 * import { createEwcGuard, estimateDiagonalFisher, train, type Model, type TrainingExample, type DataSource } from 'provenant/finetune';
 * declare const model: Model;
 * declare const baseTaskRows: readonly TrainingExample[];
 * declare const newTaskRows: readonly TrainingExample[] | readonly DataSource[];
 * const fisher = estimateDiagonalFisher(model, baseTaskRows, 'classification');
 * const guard = createEwcGuard(fisher, { strength: 50 });
 * await train(model, { task: 'classification', train: newTaskRows, seed: 1, extraLoss: guard });
 * guard.dispose();
 * ```
 */
export function createEwcGuard(fisher: DiagonalFisher, options: EwcOptions = {}): Guard {
  const used = resolve<Required<EwcOptions>>(EWC_PARAMS, options);
  const { strength, adapters } = used;
  const tensors = new Map<string, Tensor>();
  for (const [m, f] of fisher.modules) tensors.set(m, tf.tensor2d(f.values, f.shape, 'float32'));
  const settings = { ...used, fisher: { method: fisher.method, task: fisher.task, examples: fisher.examples, modules: [...fisher.modules.keys()] } };
  return makeGuard(
    'ewc',
    settings,
    ({ model }) => {
      if (strength === 0) return null;
      const factors = adapterFactors(model, adapters);
      if (factors.length === 0) return null;
      const missing = factors.filter((f) => !tensors.has(f.module)).map((f) => f.module);
      if (missing.length) {
        throw new ProvenantError('MODEL_CONFIG_INVALID', `ewc: no Fisher for ${missing.length} adapted module(s).`, {
          metaMessages: missing,
          details: 'Estimate the Fisher with the adapter attached (its modules are the default) or pass `modules`.',
          data: { missing },
        });
      }
      let total = tf.scalar(0);
      for (const { module, A, B, scale } of factors) {
        const update = tf.matMul(A as tf.Tensor2D, B as tf.Tensor2D).mul(scale);
        total = total.add(tensors.get(module)!.mul(update.square()).sum());
      }
      return total.mul(strength / 2) as tf.Scalar;
    },
    () => {
      for (const t of tensors.values()) t.dispose();
      tensors.clear();
    },
    { table: EWC_PARAMS, used },
  );
}
