/**
 * The tensor types Provenant's published declarations name, as small structural interfaces. The build
 * (scripts/public-dts.mjs) points the published `.d.ts` here instead of at `@tensorflow/tfjs-core`, whose own
 * declarations do not compile under `skipLibCheck: false` (they need DOM, WebGL and WebGPU globals and `@types/long`).
 * Inside the library the names are tfjs-core's own types; each interface here is a subset of its tfjs-core namesake
 * (test/package/public-tensor.test.ts checks it), so a tensor made with `@tensorflow/tfjs-core` is accepted wherever the
 * public API takes one. A tensor the public API returns is a tfjs-core tensor at run time: to pass it to tfjs ops
 * directly, import `@tensorflow/tfjs-core` yourself and cast (`t as unknown as tf.Tensor`). For the same reason the
 * `tf` namespace that `provenant/finetune` re-exports is typed by this module in the published declarations (its types
 * only): call tfjs through your own `import * as tf from '@tensorflow/tfjs-core'`.
 */
/** tfjs-core's `Rank` enum, by its string values. */
export type Rank = 'R0' | 'R1' | 'R2' | 'R3' | 'R4' | 'R5' | 'R6';
export interface ShapeMap {
  R0: number[];
  R1: [number];
  R2: [number, number];
  R3: [number, number, number];
  R4: [number, number, number, number];
  R5: [number, number, number, number, number];
  R6: [number, number, number, number, number, number];
}
export interface ArrayMap {
  R0: number;
  R1: number[];
  R2: number[][];
  R3: number[][][];
  R4: number[][][][];
  R5: number[][][][][];
  R6: number[][][][][][];
}
export interface DataTypeMap {
  float32: Float32Array;
  int32: Int32Array;
  bool: Uint8Array;
  complex64: Float32Array;
  string: string[];
}
export type DataType = keyof DataTypeMap;
export type NumericDataType = 'float32' | 'int32' | 'bool' | 'complex64';
/** A tfjs-core tensor: an immutable n-dimensional array held by the active backend; free it with `dispose()`. */
export interface Tensor<R extends Rank = Rank> {
  /** Unique id of this tensor in the tfjs engine. */
  readonly id: number;
  /** Dimensions, outermost first. */
  readonly shape: ShapeMap[R];
  /** Number of elements. */
  readonly size: number;
  readonly dtype: DataType;
  readonly rank: number;
  readonly isDisposed: boolean;
  /** The values, row-major, copied synchronously. */
  dataSync<D extends DataType = NumericDataType>(): DataTypeMap[D];
  /** The values, row-major, copied asynchronously. */
  data<D extends DataType = NumericDataType>(): Promise<DataTypeMap[D]>;
  arraySync(): ArrayMap[R];
  array(): Promise<ArrayMap[R]>;
  /** Frees the backend memory. */
  dispose(): void;
}
export type Scalar = Tensor<'R0'>;
export type Tensor1D = Tensor<'R1'>;
export type Tensor2D = Tensor<'R2'>;
export type Tensor3D = Tensor<'R3'>;
export type Tensor4D = Tensor<'R4'>;
/** A mutable tensor (a weight); `trainable` says whether gradients are computed for it. */
export interface Variable<R extends Rank = Rank> extends Tensor<R> {
  readonly name: string;
  trainable: boolean;
  assign(newValue: Tensor<R>): void;
}
