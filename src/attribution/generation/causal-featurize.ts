/**
 * Causal-LM featurization: per-example gradients of a completion's loss (prompt tokens masked) with respect to the LoRA
 * parameters, projected LoGra-style — the expensive, cacheable step of generated-text attribution.
 *
 * LoGra (Choe et al. 2024, "What is Your Data Worth to GPT? LLM-Scale Data Valuation with Influence Functions", §3.2,
 * eq. 6–7): the gradient of a linear layer y = a·W is a sum over tokens of outer products, ∇_W L = Σ_t a_tᵀ g_t with
 * g_t = ∂L/∂y_t. Projecting with a Kronecker-structured P = P_in ⊗ P_out gives
 *   (P_in ⊗ P_out)ᵀ vec(∇_W L) = Σ_t (P_inᵀ a_t)ᵀ ⊗ (P_outᵀ g_t),
 * so each token's input activation and output gradient are projected *before* the sum, and the in × out gradient is never
 * formed: a layer costs T·(in·k_in + out·k_out + k_in·k_out) per example and stores k_in·k_out numbers.
 * For a LoRA module y = x·W + s·x·A·B, A and B are each such a layer: A's input is x̃ (the adapter input) and its output
 * gradient s·δ·Bᵀ; B's input is u = x̃·A and its output gradient s·δ, where δ = ∂L/∂y is captured by the identity tap of
 * `linearForward` in one ordinary backward pass per batch (../per-example-gradients.ts). A side no wider than its k is
 * kept as it is (projecting r = 4 numbers to 16 adds nothing), so a block is min(in, k_in)·min(out, k_out) wide.
 * Kernels and biases (e.g. `modulesToSave` heads) take the same path with a = x, g = δ (a bias: a = 1).
 *
 * The loss of an example is Σ_t −log p(y_t | y_<t) over its completion tokens (a sum, as the completion log-likelihood
 * is), so a row's feature is the gradient the training loss takes from it, up to the batch's 1/N. Sequences longer than
 * the context are windowed (./causal-lm.ts) and their windows' features summed.
 */
import { ProvenantError, createProgressReporter, resolve, type ParamTable, type ProgressCallback } from '../../core/index.js';
import { disposeCapture, tf, type GradientCapture } from '../../finetune/index.js';
import type { FeatureBlock } from '../feature-matrix.js';
import type { Features, FeaturizeInfo } from '../featurize.js';
import { PARAMETER_FIELDS, backwardWithCapture, outerSum, rowsPerExample, selectParameters, type ParameterEntry, type ParameterOptions } from '../per-example-gradients.js';
import { deriveSeed, projectionMatrix, validateProjection, type FactorizedProjectionSpec } from '../projection.js';
import { causalLogits, causalWindows, contextLength, packWindows, tokenLossGradients, type CausalExample, type CausalLmModel, type CausalWindow } from './causal-lm.js';

/** Defaults of causal featurization, each with its reason (recorded with the features). */
export const CAUSAL_FEATURIZE_DEFAULTS = Object.freeze({
  /** Parameters: the LoRA adapters only — what fine-tuning changed, and what DataInf was derived for (Kwon et al. 2024). */
  parameters: 'adapters' as const,
  /** k_in = k_out = 16: per LoRA module (r = 4) blocks of 16·4 + 4·16 = 128 numbers; LoGra uses 64 per side at 7B scale. */
  projection: { kind: 'gaussian' as const, inDim: 16, outDim: 16, seed: 0 },
  /** Windows per backward pass. */
  batchSize: 32,
});

export interface CausalFeaturizeOptions extends ParameterOptions {
  /** LoGra's factorized projection; `null` keeps the raw gradient (tests, tiny models). Default {@link CAUSAL_FEATURIZE_DEFAULTS}. */
  projection?: FactorizedProjectionSpec | null;
  /** Windows per backward pass; default 32. */
  batchSize?: number;
  /** Sliding-window stride for sequences longer than the context; default half the context. */
  stride?: number;
  onProgress?: ProgressCallback;
}

/**
 * The options of {@link featurizeCausal} and {@link createCausalFeaturizer}: a misspelt name is refused with the nearest
 * field, never ignored (a misspelt projection would otherwise leave the default one on). Defaults from
 * {@link CAUSAL_FEATURIZE_DEFAULTS}.
 */
export const CAUSAL_FEATURIZE_PARAMS: ParamTable = Object.freeze({
  name: 'featurizeCausal',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    ...PARAMETER_FIELDS.map((f) => (f.name === 'parameters' ? { ...f, default: CAUSAL_FEATURIZE_DEFAULTS.parameters } : f)),
    {
      name: 'projection',
      default: CAUSAL_FEATURIZE_DEFAULTS.projection,
      meaning: 'LoGra\'s factorized projection { kind, inDim, outDim, seed } (Choe et al. 2024); null keeps the raw gradient.',
      aliases: ['factorizedProjection'],
    },
    { name: 'batchSize', default: CAUSAL_FEATURIZE_DEFAULTS.batchSize, meaning: 'Windows per backward pass.', aliases: ['batch_size'] },
    { name: 'stride', default: null, meaning: 'Sliding-window stride in tokens for sequences longer than the context (null: half the context).' },
  ],
  inputs: ['onProgress'],
});

/** {@link FeaturizeInfo} of causal-LM features: what a query must be featurized with to be scored against them. */
export interface CausalFeaturizeInfo extends FeaturizeInfo {
  task: 'causal-lm';
  /** Context length and stride of the windows. */
  context: number;
  stride: number;
  /** What the features are: the gradient of the summed completion-token loss. */
  objective: 'sum of completion-token cross-entropy (prompt masked)';
  /** Per parameter: the side widths after projection, [kIn', kOut'] (a side no wider than k is kept whole). */
  sides: Record<string, [number, number]>;
}

/**
 * Causal features plus, per example, the number of completion tokens scored (0: the example had none).
 *
 * Two different reductions, on purpose: `features` row i is the gradient of the **summed** completion-token
 * cross-entropy Σ_t −log p(y_t | y_<t) (what the training loss takes from the row), while `loss[i]` is the **mean** over
 * those tokens, Σ_t −log p(y_t | y_<t) / tokens[i] (nats per token; ln-perplexity). The summed loss whose gradient the
 * features are is `loss[i] · tokens[i]`.
 */
export interface CausalFeatures extends Features {
  info: CausalFeaturizeInfo;
  /**
   * Per example, the mean completion-token cross-entropy in nats per token (Σ_t −log p(y_t | y_<t) / tokens[i]; 0 when
   * nothing was scored). Not the loss the features are gradients of: that one is the sum, `loss[i] · tokens[i]`.
   */
  loss: Float32Array;
  /** Per example, the per-token geometric-mean probability exp(−loss[i]). */
  labelProbability: Float32Array;
  /** Completion tokens scored per example. */
  tokens: Int32Array;
}

/** A reusable causal featurizer (projection matrices kept on the backend). Dispose it. */
export interface CausalFeaturizer {
  readonly info: CausalFeaturizeInfo;
  readonly blocks: FeatureBlock[];
  readonly dim: number;
  run(examples: readonly CausalExample[], onProgress?: ProgressCallback): CausalFeatures;
  dispose(): void;
}

interface Side {
  entry: ParameterEntry;
  p: number;
  q: number;
  pIn: tf.Tensor2D | null;
  pOut: tf.Tensor2D | null;
  size: number;
}

/** Input and output widths of a parameter seen as a linear layer: [in, out] kernels and LoRA factors, [out] biases (in = 1). */
function sideWidths(e: ParameterEntry): [number, number] {
  return e.shape.length === 2 ? [e.shape[0]!, e.shape[1]!] : [1, e.shape[0]!];
}

/**
 * Builds a causal featurizer over the model's LoRA parameters (or `parameters`/`modules`/`names`).
 *
 * @example
 * ```ts
 * import { createCausalFeaturizer, type CausalLmModel } from 'provenant/attribution';
 * import { createCharTokenizer } from 'provenant/finetune';
 * declare const model: CausalLmModel;
 * const tok = createCharTokenizer();
 * const f = createCausalFeaturizer(model, { projection: { kind: 'gaussian', inDim: 16, outDim: 16, seed: 1 } });
 * const { features } = f.run([{ ids: tok.encode('Q: capital? A: Quixville'), promptLength: 13 }]);
 * f.dispose();
 * ```
 */
export function createCausalFeaturizer(model: CausalLmModel, options: CausalFeaturizeOptions = {}): CausalFeaturizer {
  resolve(CAUSAL_FEATURIZE_PARAMS, options);
  const projection: FactorizedProjectionSpec | null = options.projection === undefined ? { ...CAUSAL_FEATURIZE_DEFAULTS.projection } : options.projection;
  const batchSize = options.batchSize ?? CAUSAL_FEATURIZE_DEFAULTS.batchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `batchSize must be a positive integer, got ${batchSize}.`);
  if (projection) validateProjection(projection.kind, [projection.inDim, projection.outDim], projection.density);
  const context = contextLength(model);
  const stride = options.stride ?? Math.max(1, Math.floor(context / 2));
  const entries = selectParameters(model, { parameters: options.parameters ?? CAUSAL_FEATURIZE_DEFAULTS.parameters, modules: options.modules, names: options.names });
  const kept: tf.Tensor[] = [];
  const sides: Side[] = entries.map((entry) => {
    const [p, q] = sideWidths(entry);
    let pIn: tf.Tensor2D | null = null;
    let pOut: tf.Tensor2D | null = null;
    if (projection && p > projection.inDim) {
      pIn = tf.keep(tf.tensor2d(projectionMatrix(projection.kind, p, projection.inDim, deriveSeed(projection.seed, `${entry.name}/in`), projection.density), [p, projection.inDim]));
      kept.push(pIn);
    }
    if (projection && q > projection.outDim) {
      pOut = tf.keep(tf.tensor2d(projectionMatrix(projection.kind, q, projection.outDim, deriveSeed(projection.seed, `${entry.name}/out`), projection.density), [q, projection.outDim]));
      kept.push(pOut);
    }
    const pw = pIn ? pIn.shape[1] : p;
    const qw = pOut ? pOut.shape[1] : q;
    return { entry, p, q, pIn, pOut, size: pw * qw };
  });
  let offset = 0;
  const blocks: FeatureBlock[] = sides.map((s) => {
    const b = { name: s.entry.name, module: s.entry.module, offset, size: s.size };
    offset += s.size;
    return b;
  });
  const dim = offset;
  const rawDim = entries.reduce((a, e) => a + e.size, 0);
  const info: CausalFeaturizeInfo = {
    task: 'causal-lm',
    target: 'loss',
    parameters: entries.map((e) => e.name),
    rawDim,
    projection: projection ? { type: 'factorized', ...projection } : null,
    context,
    stride,
    objective: 'sum of completion-token cross-entropy (prompt masked)',
    sides: Object.fromEntries(sides.map((s) => [s.entry.name, [s.pIn ? s.pIn.shape[1] : s.p, s.pOut ? s.pOut.shape[1] : s.q]])),
  };
  const padId = ((model.config as { padId?: number; pad_token_id?: number }).padId ?? (model.config as { pad_token_id?: number }).pad_token_id ?? 0) as number;

  const project = (capture: GradientCapture, batch: number): tf.Tensor2D =>
    tf.concat(
      sides.map((s) => {
        const e = s.entry;
        const delta = capture.outputGrads.get(e.module);
        if (!delta) return tf.zeros([batch, s.size]) as tf.Tensor2D; // off the path to the logits: exactly zero
        const T = rowsPerExample(delta.shape[0], batch, e.module);
        const layer = model.linears.get(e.module)!;
        let a: tf.Tensor | null;
        let g: tf.Tensor;
        if (e.kind === 'weight') [a, g] = [capture.inputs.get(e.module)!, delta];
        else if (e.kind === 'bias') [a, g] = [null, delta];
        else {
          const adapter = layer.adapters.get(e.adapter!)!;
          const lora = capture.lora.get(`${e.module}/${e.adapter}`)!;
          if (e.kind === 'lora_A') [a, g] = [lora.input, tf.matMul(delta, tf.transpose(adapter.B) as tf.Tensor2D).mul(adapter.scale)];
          else [a, g] = [lora.hidden, delta.mul(adapter.scale)];
        }
        const gP = s.pOut ? tf.matMul(g as tf.Tensor2D, s.pOut) : g;
        if (a === null) return (T === 1 ? gP : gP.reshape([batch, T, gP.shape[1]!]).sum(1)) as tf.Tensor2D;
        const aP = s.pIn ? tf.matMul(a as tf.Tensor2D, s.pIn) : a;
        return outerSum(aP, gP, batch, T);
      }),
      1,
    ) as tf.Tensor2D;

  const backward = (windows: readonly CausalWindow[]): { capture: GradientCapture; loss: Float64Array } => {
    const { ids, targets, T } = packWindows(windows, padId);
    const B = windows.length;
    let loss: Float64Array = new Float64Array(B);
    const capture = backwardWithCapture(entries, (capture) => {
      const z = causalLogits(model, tf.tensor2d(ids, [B, T], 'int32'), { capture });
      const vocab = z.shape[1]!;
      const seeded = tokenLossGradients(z.dataSync() as Float32Array, vocab, targets, B);
      loss = seeded.loss;
      return tf.sum(tf.mul(z, tf.tensor2d(seeded.grad, [B * T, vocab]))) as tf.Scalar;
    });
    return { capture, loss };
  };

  return {
    info,
    blocks,
    dim,
    run(examples, onProgress) {
      const n = examples.length;
      const windows = causalWindows(examples, context, stride);
      const acc = new Float64Array(n * dim);
      const lossSum = new Float64Array(n);
      const tokens = new Int32Array(n);
      const progress = createProgressReporter('featurize-causal', windows.length, onProgress ?? options.onProgress);
      for (let start = 0; start < windows.length; start += batchSize) {
        const batch = windows.slice(start, start + batchSize);
        const { capture, loss } = backward(batch);
        try {
          const t = tf.tidy(() => project(capture, batch.length));
          const data = t.dataSync() as Float32Array;
          t.dispose();
          batch.forEach((w, b) => {
            const row = acc.subarray(w.example * dim, (w.example + 1) * dim);
            for (let c = 0; c < dim; c++) row[c]! += data[b * dim + c]!;
            lossSum[w.example]! += loss[b]!;
            tokens[w.example]! += w.scored;
          });
        } finally {
          disposeCapture(capture);
        }
        progress.tick(Math.min(windows.length, start + batchSize));
      }
      const meanLoss = new Float32Array(n);
      const probability = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        meanLoss[i] = tokens[i]! > 0 ? lossSum[i]! / tokens[i]! : 0;
        probability[i] = Math.exp(-meanLoss[i]!);
      }
      return {
        features: { rows: n, dim, data: Float32Array.from(acc), blocks: blocks.map((b) => ({ ...b })) },
        loss: meanLoss,
        labelProbability: probability,
        info,
        tokens,
      };
    },
    dispose() {
      tf.dispose(kept);
      kept.length = 0;
    },
  };
}

/**
 * Causal features of every example (build, run, dispose). Row i of `features` is the gradient of example i's **summed**
 * completion-token cross-entropy Σ_t −log p(y_t | y_<t) (prompt masked); `loss[i]` is the **mean** of the same terms
 * over its `tokens[i]` scored tokens (nats per token), so the summed loss is `loss[i] · tokens[i]`; `labelProbability[i]`
 * is the per-token geometric-mean probability exp(−loss[i]).
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for an unknown option name (with the nearest one; see
 *   {@link CAUSAL_FEATURIZE_PARAMS}), a batch size that is not a positive integer or an invalid projection spec.
 *
 * @example
 * ```ts
 * import { featurizeCausal, writeFeatureStore, type CausalLmModel } from 'provenant/attribution';
 * import { createCharTokenizer } from 'provenant/finetune';
 * declare const model: CausalLmModel;
 * declare const rows: readonly string[];
 * declare const rowIds: readonly string[];
 * declare const contributors: readonly string[];
 * const tok = createCharTokenizer();
 * const f = featurizeCausal(model, rows.map((text) => ({ ids: tok.encode(text) })));
 * await writeFeatureStore('cache/gen', f, { model, rowIds, contributors, labels: Array.from(f.tokens) });
 * ```
 */
export function featurizeCausal(model: CausalLmModel, examples: readonly CausalExample[], options: CausalFeaturizeOptions = {}): CausalFeatures {
  const featurizer = createCausalFeaturizer(model, options);
  try {
    return featurizer.run(examples, options.onProgress);
  } finally {
    featurizer.dispose();
  }
}

/**
 * True when a feature store's `info` was written by the causal featurizer (`task: 'causal-lm'`); a type guard that lets
 * {@link causalOptionsFromInfo} read the windows and projection.
 *
 * @example
 * ```ts
 * import { causalOptionsFromInfo, isCausalInfo, readFeatureStore } from 'provenant/attribution';
 *
 * const store = await readFeatureStore('cache/gen');
 * const options = isCausalInfo(store.manifest.info) ? causalOptionsFromInfo(store.manifest.info) : null;
 * ```
 */
export function isCausalInfo(info: FeaturizeInfo): info is CausalFeaturizeInfo {
  return (info as Partial<CausalFeaturizeInfo>).task === 'causal-lm';
}

/**
 * The options that rebuild the featurizer a store's causal features were made with: the same parameter names, window
 * stride and seeded LoGra factorized projection (Choe et al. 2024, "What is Your Data Worth to GPT?"), so query gradients
 * land in the same feature space as the stored rows.
 *
 * @example
 * ```ts
 * import { causalOptionsFromInfo, createCausalFeaturizer, type CausalFeaturizeInfo, type CausalLmModel } from 'provenant/attribution';
 *
 * declare const model: CausalLmModel;
 * declare const info: CausalFeaturizeInfo; // store.manifest.info after isCausalInfo
 * const featurizer = createCausalFeaturizer(model, causalOptionsFromInfo(info)); // same projection seed → same space
 * featurizer.dispose();
 * ```
 */
export function causalOptionsFromInfo(info: CausalFeaturizeInfo): CausalFeaturizeOptions {
  const p = info.projection;
  return {
    names: info.parameters,
    stride: info.stride,
    projection: p && p.type === 'factorized' ? { kind: p.kind, inDim: p.inDim, outDim: p.outDim, seed: p.seed, ...(p.density !== undefined ? { density: p.density } : {}) } : null,
  };
}

