/**
 * The single place Provenant imports TensorFlow.js, so every module shares one tfjs instance (two copies would keep
 * two registries of backends and kernels).
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
export type Tensor = tf.Tensor;
export type Tensor2D = tf.Tensor2D;
export type Variable = tf.Variable;
