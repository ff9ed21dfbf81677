/**
 * The single place Provenant imports TensorFlow.js, so every module shares one tfjs instance (two copies would keep
 * two registries of backends and kernels).
 *
 * tfjs-core plus the pure-JS `cpu` backend (always there, the exact reference); the faster wasm backend, or tfjs-node where
 * a user installed it, is loaded by `initBackend`. Gradients and chained tensor methods come from the vendored bundle
 * (see scripts/vendor-tfjs-gradients.mjs): tfjs-core's Node entry does not register them, the 286 MB `@tensorflow/tfjs`
 * bundle did.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import './vendor/tfjs-gradients.cjs';
// The chained methods' types (tensor.add …): a type-only import of tfjs-core's module augmentation, erased at run time.
import type {} from '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';

export { tf };
export type Tensor = tf.Tensor;
export type Tensor2D = tf.Tensor2D;
export type Variable = tf.Variable;
/** The function `tf.customGrad` takes (tfjs does not re-export its CustomGradientFunc type from tfjs-core's entry). */
export type CustomGradientFunc = Parameters<typeof tf.customGrad>[0];
