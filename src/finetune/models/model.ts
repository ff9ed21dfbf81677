/**
 * The contract every model in the zoo meets. Models are plain objects over tfjs variables and `Linear` modules (not
 * tfjs-layers graphs) because the fast gradient path and per-example gradient capture need control of every matmul.
 */
import type { ForwardContext, Linear } from '../linear.js';
import type { Tensor, Variable } from '../tf.js';

/** `gpt2`, `llama` (llama, mistral, qwen2) and `bert` are Hugging Face checkpoints loaded by `loadPretrained`. */
export type ModelKind = 'logistic-regression' | 'mlp' | 'transformer' | 'gpt2' | 'llama' | 'bert';

export interface Model<Config extends object = object> {
  readonly kind: ModelKind;
  /** Plain, JSON-serialisable configuration (sizes, seed). */
  readonly config: Readonly<Config>;
  /** Linear modules by PEFT-style path (`fc1`, `blocks.0.attn.q_proj`, `classifier`): the LoRA targets. */
  readonly linears: ReadonlyMap<string, Linear>;
  /**
   * Every base weight by PEFT-style name (`fc1.weight` [in, out] in tfjs layout, `fc1.bias`, `blocks.0.ln1.weight` …).
   * LoRA weights are not listed here; they live on `Linear.adapters`.
   */
  readonly weights: ReadonlyMap<string, Variable>;
  /**
   * Logits. Classifiers: inputs [B, features] float32 → [B, classes]. Call inside `tf.tidy` or a gradient function.
   */
  forward(inputs: Tensor, ctx?: ForwardContext): Tensor;
  /** Frees every variable (base weights and adapters). */
  dispose(): void;
}

/**
 * Sets `trainable` on every base weight in `model.weights` (false for LoRA training, true for full fine-tuning or
 * pretraining). LoRA factors are not base weights and keep their own flag. A frozen kernel's gradient is never computed
 * (`linearOp` skips it), which is what makes a LoRA step cheaper than a full one.
 *
 * @example
 * ```ts
 * import { createMlp, setBaseTrainable } from 'provenant/finetune';
 *
 * const mlp = createMlp({ inputSize: 784, hiddenSizes: [128], numClasses: 10, seed: 1 });
 * setBaseTrainable(mlp, false);
 * [...mlp.weights.values()].every((w) => !w.trainable); // true
 * ```
 */
export function setBaseTrainable(model: Model, trainable: boolean): void {
  for (const weight of model.weights.values()) weight.trainable = trainable;
}
