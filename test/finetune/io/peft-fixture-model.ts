import { attachAdapter, createMlp, disableAdapters, setActiveAdapter, tf } from '../../../src/finetune/index.js';

/** Inputs of the PEFT fixture, [4, 6]. */
export const FIXTURE_INPUTS = Array.from({ length: 24 }, (_, i) => Math.round(Math.sin(i * 1.3) * 1000) / 500);

/**
 * The fixture's model, deterministically: an MLP 6 → 5 → 4 → 3 with an adapter on fc1 and fc2 (fc2 at rank 1) and a
 * modules_to_save copy of the head fc3 whose values differ from the base's.
 */
export function buildFixtureModel() {
  const model = createMlp({ inputSize: 6, hiddenSizes: [5, 4], numClasses: 3, seed: 21 });
  for (const [i, v] of [...model.weights.values()].entries()) {
    tf.tidy(() => v.assign(v.add(tf.fill(v.shape, 0.01 * (i + 1)))));
  }
  attachAdapter(
    model,
    'default',
    { r: 2, alpha: 3, targetModules: ['fc1', 'fc2'], rankPattern: { fc2: 1 }, modulesToSave: ['fc3'], initLoraWeights: false, useRslora: true },
    { seed: 'peft-fixture' },
  );
  const head = model.linears.get('fc3')!;
  tf.tidy(() => {
    head.kernel.assign(head.kernel.mul(-1.5).add(0.25));
    head.bias!.assign(tf.tensor1d([0.3, -0.1, 0.2]));
  });
  // Switch away and back: the head copy must survive the round trip through storage.
  disableAdapters(model);
  setActiveAdapter(model, 'default');
  return model;
}
