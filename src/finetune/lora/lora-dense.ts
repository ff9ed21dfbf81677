/**
 * `LoraDense`: a tfjs-layers dense layer with a frozen base kernel and a LoRA update, for users who build
 * `tf.sequential` / `tf.model` graphs rather than Provenant's zoo models:
 *
 *   y = activation(x·W + b + s·dropout(x)·A·B),   W [in, units] and b frozen; A [in, r], B [r, units] trainable
 *
 * PEFT's shapes are the transposes: `lora_A.weight` (r, in) = Aᵀ, `lora_B.weight` (out, r) = Bᵀ, `base_layer.weight`
 * (out, in) = Wᵀ. The scale s is alpha/r (alpha/√r with rsLoRA). A starts Kaiming-uniform (±1/√in, PEFT's default) and
 * B at zero, so a fresh layer computes exactly its base dense layer.
 *
 * It serializes like any tfjs layer (`getConfig`, static `className`, registered with `tf.serialization.registerClass`),
 * so a model holding it round-trips through `model.save` / `tf.loadLayersModel`. `merge()` / `unmerge()` are exact
 * inverses (the pre-merge kernel bytes are kept in memory; a model saved while merged reloads merged, and unmerging
 * it then subtracts s·A·B, which is exact only up to float32 rounding).
 */
import { ProvenantError } from '../../core/index.js';
import { linearOp } from '../linear.js';
import { tf, type Tensor } from '../tf.js';
import { loraScale } from './config.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type LayerVariable = tf.LayerVariable;

export type LoraDenseActivation = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax';

export interface LoraDenseArgs extends LayerArgs {
  units: number;
  /** LoRA rank r (default 8). */
  r?: number;
  /** LoRA alpha (default 8): the update is scaled by alpha/r. */
  alpha?: number;
  /** Dropout on the adapter input in training (default 0). */
  loraDropout?: number;
  /** Scale alpha/√r instead of alpha/r (default false). */
  useRslora?: boolean;
  useBias?: boolean;
  activation?: LoraDenseActivation;
  /** Seed of the base kernel's and A's initial values and of the dropout masks. */
  seed?: number;
  /** Set by deserialization when a merged layer was saved. */
  merged?: boolean;
}

const ACTIVATIONS: Record<LoraDenseActivation, (t: Tensor) => Tensor> = {
  linear: (t) => t,
  relu: (t) => tf.relu(t),
  sigmoid: (t) => tf.sigmoid(t),
  tanh: (t) => tf.tanh(t),
  softmax: (t) => tf.softmax(t),
};

/**
 * A dense layer with a frozen base kernel and a trainable LoRA update (see the file comment).
 *
 * @example
 * ```ts
 * const model = tf.sequential({ layers: [new LoraDense({ units: 2, r: 4, alpha: 8, inputShape: [16], seed: 1 })] });
 * model.compile({ optimizer: 'adam', loss: 'meanSquaredError' }); // trains lora_A and lora_B only
 * ```
 */
export class LoraDense extends tf.layers.Layer {
  static className = 'ProvenantLoraDense';
  readonly units: number;
  readonly r: number;
  readonly alpha: number;
  readonly loraDropout: number;
  readonly useRslora: boolean;
  readonly useBias: boolean;
  readonly activation: LoraDenseActivation;
  readonly seed: number | undefined;
  kernel: LayerVariable | null = null;
  bias: LayerVariable | null = null;
  loraA: LayerVariable | null = null;
  loraB: LayerVariable | null = null;
  private mergedFlag: boolean;
  private premergeKernel: Float32Array | null = null;
  private calls = 0;

  constructor(args: LoraDenseArgs) {
    super(args);
    const { units, r = 8, alpha = 8, loraDropout = 0, useRslora = false, useBias = true, activation = 'linear', seed, merged = false } = args;
    const problems: string[] = [];
    if (!Number.isSafeInteger(units) || units < 1) problems.push(`units: positive integer, got ${units}`);
    if (!Number.isSafeInteger(r) || r < 1) problems.push(`r: positive integer, got ${r}`);
    if (!(alpha > 0) || !Number.isFinite(alpha)) problems.push(`alpha: positive number, got ${alpha}`);
    if (!(loraDropout >= 0 && loraDropout < 1)) problems.push(`loraDropout: in [0, 1), got ${loraDropout}`);
    if (!(activation in ACTIVATIONS)) problems.push(`activation: one of ${Object.keys(ACTIVATIONS).join(', ')}, got ${activation}`);
    if (problems.length > 0) {
      throw new ProvenantError('LORA_CONFIG_INVALID', 'Invalid LoraDense arguments.', { metaMessages: problems, data: { fields: problems.map((p) => p.split(':')[0]) } });
    }
    this.units = units;
    this.r = r;
    this.alpha = alpha;
    this.loraDropout = loraDropout;
    this.useRslora = useRslora;
    this.useBias = useBias;
    this.activation = activation;
    this.seed = seed;
    this.mergedFlag = merged;
  }

  /** The update's scale s. */
  get scale(): number {
    return loraScale(this.alpha, this.r, this.useRslora);
  }

  /** True while s·A·B is folded into the kernel. */
  get merged(): boolean {
    return this.mergedFlag;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const inFeatures = shape[shape.length - 1];
    if (typeof inFeatures !== 'number') throw new ProvenantError('LORA_SHAPE_MISMATCH', 'LoraDense needs a known last input dimension.');
    const seed = this.seed;
    this.kernel = this.addWeight('kernel', [inFeatures, this.units], 'float32', tf.initializers.glorotUniform({ seed }), undefined, false);
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], 'float32', tf.initializers.zeros(), undefined, false);
    const bound = 1 / Math.sqrt(inFeatures);
    this.loraA = this.addWeight('lora_A', [inFeatures, this.r], 'float32', tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: seed === undefined ? undefined : seed + 1 }), undefined, true);
    this.loraB = this.addWeight('lora_B', [this.r, this.units], 'float32', tf.initializers.zeros(), undefined, true);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...shape.slice(0, -1), this.units];
  }

  override call(inputs: Tensor | Tensor[], kwargs: { training?: boolean } = {}): Tensor {
    return tf.tidy(() => {
      const input = Array.isArray(inputs) ? inputs[0]! : inputs;
      const inFeatures = input.shape[input.shape.length - 1]!;
      // Reshape to 2-D: tfjs's gradient of a batched matMul against a 2-D weight has a shape bug (DESIGN.md).
      const x = input.reshape([-1, inFeatures]) as tf.Tensor2D;
      // linearOp: the fast-path matmul gradients of ../linear.ts (explicit transposes, no gradient for the frozen kernel).
      const kernel = this.kernel!.read();
      let y: Tensor = linearOp(x, kernel, true, this.kernel!.trainable);
      if (this.bias) y = y.add(this.bias.read());
      if (!this.mergedFlag) {
        let xin: Tensor = x;
        if (kwargs.training && this.loraDropout > 0) {
          xin = tf.dropout(x, this.loraDropout, undefined, this.seed === undefined ? undefined : this.seed + 2 + this.calls++);
        }
        const hidden = linearOp(xin, this.loraA!.read(), true, this.loraA!.trainable);
        y = y.add(linearOp(hidden, this.loraB!.read(), true, this.loraB!.trainable).mul(this.scale));
      }
      const out = y.reshape([...input.shape.slice(0, -1), this.units]);
      return ACTIVATIONS[this.activation](out);
    });
  }

  /** W ← W + s·A·B; the forward pass then skips the LoRA path. Keeps W's bytes for an exact `unmerge`. */
  merge(): void {
    this.assertBuilt();
    if (this.mergedFlag) return;
    this.premergeKernel = Float32Array.from(this.kernel!.read().dataSync() as Float32Array);
    tf.tidy(() => {
      this.kernel!.write(this.kernel!.read().add(tf.matMul(this.loraA!.read() as tf.Tensor2D, this.loraB!.read() as tf.Tensor2D).mul(this.scale)));
    });
    this.mergedFlag = true;
  }

  /** Restores W's exact pre-merge bytes (or, for a layer loaded merged, subtracts s·A·B). */
  unmerge(): void {
    this.assertBuilt();
    if (!this.mergedFlag) return;
    tf.tidy(() => {
      if (this.premergeKernel) this.kernel!.write(tf.tensor(this.premergeKernel, this.kernel!.shape as number[], 'float32'));
      else this.kernel!.write(this.kernel!.read().sub(tf.matMul(this.loraA!.read() as tf.Tensor2D, this.loraB!.read() as tf.Tensor2D).mul(this.scale)));
    });
    this.premergeKernel = null;
    this.mergedFlag = false;
  }

  /** Copies a trained base kernel (and bias) into the frozen weights, e.g. from a `tf.layers.dense` being wrapped. */
  setBaseWeights(kernel: Tensor, bias?: Tensor): void {
    this.assertBuilt();
    if (kernel.shape.join(',') !== this.kernel!.shape.join(',')) {
      throw new ProvenantError('LORA_SHAPE_MISMATCH', `Base kernel must be [${this.kernel!.shape}], got [${kernel.shape}].`);
    }
    this.kernel!.write(kernel.clone());
    if (bias && this.bias) this.bias.write(bias.clone());
    this.premergeKernel = null;
  }

  private assertBuilt(): void {
    if (!this.kernel || !this.loraA || !this.loraB) throw new ProvenantError('LORA_SHAPE_MISMATCH', `LoraDense "${this.name}" is not built yet (call it on an input first).`);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.units,
      r: this.r,
      alpha: this.alpha,
      loraDropout: this.loraDropout,
      useRslora: this.useRslora,
      useBias: this.useBias,
      activation: this.activation,
      seed: this.seed ?? null,
      merged: this.mergedFlag,
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const { seed, ...rest } = config as Record<string, unknown>;
    return new cls({ ...rest, seed: seed === null ? undefined : seed });
  }
}

tf.serialization.registerClass(LoraDense);

/**
 * A `LoraDense` layer that wraps a trained `tf.layers.dense` layer: same units, bias and activation, its kernel and bias
 * copied in frozen, A and B new. Call the result on the same input shape as the dense layer.
 *
 * @example
 * ```ts
 * const lora = loraDenseFromDense(trainedDense, { r: 4, alpha: 8, seed: 1 });
 * const model = tf.sequential({ layers: [lora] });
 * ```
 */
export function loraDenseFromDense(dense: tf.layers.Layer, options: Omit<LoraDenseArgs, 'units' | 'useBias'>): LoraDense {
  const config = dense.getConfig() as { units?: number; useBias?: boolean; activation?: string };
  const weights = dense.getWeights();
  if (typeof config.units !== 'number' || weights.length === 0) {
    throw new ProvenantError('LORA_SHAPE_MISMATCH', `loraDenseFromDense needs a built dense layer, got ${dense.getClassName()}.`);
  }
  const activation = (options.activation ?? config.activation ?? 'linear') as LoraDenseActivation;
  const layer = new LoraDense({ ...options, units: config.units, useBias: config.useBias ?? true, activation });
  layer.build(dense.batchInputShape ?? [null, weights[0]!.shape[0]!]);
  layer.setBaseWeights(weights[0]!, weights[1]);
  return layer;
}
