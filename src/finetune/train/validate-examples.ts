/**
 * Checks training (and validation) examples against the model before any step is taken. Without it a label ≥
 * `numClasses` becomes an all-zero one-hot row (loss 0, silently "learned"), a token id ≥ the vocabulary size reads an
 * all-zero embedding row through `oneHot`, and a NaN feature poisons every weight on the first step — all without an
 * error. Each bad example is refused with `TRAINING_EXAMPLE_INVALID` naming its source and index.
 */
import { ProvenantError } from '../../core/index.js';
import { isPretrainedModel } from '../hf/pretrained-model.js';
import type { Model } from '../models/model.js';
import type { DataSource, TrainingExample, TrainingTask } from './data.js';

/** The sizes an example is checked against, read from the model's configuration (Provenant or Hugging Face names). */
export interface ExampleLimits {
  /** Classes a label indexes (classification), when known. */
  numClasses?: number;
  /** Token ids are integers in [0, vocabSize) (transformers). */
  vocabSize?: number;
  /** Feature vectors have exactly this length (logistic regression, MLP). */
  inputSize?: number;
}

const positive = (x: unknown): number | undefined => (Number.isSafeInteger(x) && (x as number) > 0 ? (x as number) : undefined);

/**
 * Reads the limits from `model.config` (`numClasses`/`num_labels`/the size of `id2label`, `vocabSize`/`vocab_size`,
 * `inputSize`; for Hugging Face models the parsed `vocabSize`, and `numLabels` of a sequence-classification head); a
 * limit the config does not give is undefined (unchecked). Token ids are range-checked for the zoo transformer and every
 * Hugging Face model; features for logistic regression and the MLP.
 *
 * @example
 * ```ts
 * import { createMlp, exampleLimits, loadBaseModel } from 'provenant/finetune';
 *
 * exampleLimits(createMlp({ inputSize: 4, hiddenSizes: [8], numClasses: 3, seed: 1 })); // { numClasses: 3, vocabSize: undefined, inputSize: 4 }
 * exampleLimits(await loadBaseModel()); // { numClasses: undefined, vocabSize: 98, inputSize: undefined }
 * ```
 */
export function exampleLimits(model: Model): ExampleLimits {
  const c = (model.config ?? {}) as Record<string, unknown>;
  const tokens = takesTokenIds(model);
  if (isPretrainedModel(model)) {
    // Hugging Face models (loadPretrained): the parsed config's vocabSize, and numLabels only when the head classifies
    // (a causal-LM config still carries transformers' default num_labels, which indexes nothing).
    return {
      numClasses: model.config.task === 'sequence-classification' ? positive(model.config.numLabels) : undefined,
      vocabSize: positive(model.config.vocabSize),
      inputSize: undefined,
    };
  }
  const id2label = c.id2label && typeof c.id2label === 'object' ? Object.keys(c.id2label).length : undefined;
  return {
    numClasses: positive(c.numClasses) ?? positive(c.numLabels) ?? positive(c.num_labels) ?? positive(id2label),
    vocabSize: tokens ? positive(c.vocabSize) ?? positive(c.vocab_size) : undefined,
    inputSize: tokens ? undefined : positive(c.inputSize),
  };
}

/** Models whose input is token ids (the zoo transformer, every Hugging Face model), not float feature vectors. */
const takesTokenIds = (model: Model): boolean => model.kind !== 'logistic-regression' && model.kind !== 'mlp';

function describe(x: unknown): string {
  return typeof x === 'number' ? String(x) : x === undefined ? 'missing' : JSON.stringify(x) ?? String(x);
}

/**
 * Throws `TRAINING_EXAMPLE_INVALID` for the first example that does not fit `model` and `task`: a label that is not an
 * integer in [0, numClasses) (classification), a token id that is not an integer in [0, vocabSize), a feature vector of
 * the wrong length or holding NaN/±Infinity. `data.example` is the index within its source, `data.source` its name.
 *
 * @example
 * ```ts
 * import { validateTrainingExamples, type Model, type TrainingExample } from 'provenant/finetune';
 * declare const model: Model;
 * declare const examples: readonly TrainingExample[];
 * validateTrainingExamples(model, 'classification', [{ name: 'train', examples }]);
 * ```
 */
export function validateTrainingExamples(
  model: Model,
  task: TrainingTask,
  sources: readonly DataSource[],
  validation?: readonly TrainingExample[],
): void {
  const limits = exampleLimits(model);
  const all: [string, readonly TrainingExample[]][] = sources.map((s) => [s.name, s.examples]);
  if (validation) all.push(['validation', validation]);
  for (const [source, examples] of all) {
    for (let i = 0; i < examples.length; i++) {
      const problem = exampleProblem(examples[i], task, limits, takesTokenIds(model));
      if (problem) {
        throw new ProvenantError('TRAINING_EXAMPLE_INVALID', `Training example ${i} of "${source}" is invalid: ${problem}.`, {
          data: { source, example: i },
          details: 'Nothing was trained. Fix or drop the example; an out-of-range label or id would otherwise train silently on garbage.',
        });
      }
    }
  }
}

function exampleProblem(example: TrainingExample | undefined, task: TrainingTask, limits: ExampleLimits, tokens: boolean): string | null {
  if (example === null || typeof example !== 'object') return 'not an object';
  const input = example.input as ArrayLike<number> | undefined;
  if (input === null || typeof input !== 'object' || !Number.isSafeInteger(input.length)) return 'input is not an array';
  if (input.length === 0) return 'input is empty';
  if (tokens) {
    for (let t = 0; t < input.length; t++) {
      const id = input[t];
      if (!Number.isInteger(id) || (id as number) < 0 || (limits.vocabSize !== undefined && (id as number) >= limits.vocabSize)) {
        return `token ${t} is ${describe(id)}, not an id in [0, ${limits.vocabSize ?? '∞'})`;
      }
    }
  } else {
    if (limits.inputSize !== undefined && input.length !== limits.inputSize) return `input has ${input.length} features, the model takes ${limits.inputSize}`;
    for (let k = 0; k < input.length; k++) {
      const x = input[k];
      if (typeof x !== 'number' || !Number.isFinite(x)) return `feature ${k} is ${describe(x)}`;
    }
  }
  if (task === 'classification') {
    const label = example.label;
    if (!Number.isInteger(label) || (label as number) < 0 || (limits.numClasses !== undefined && (label as number) >= limits.numClasses)) {
      return `label ${describe(label)} is not a class index in [0, ${limits.numClasses ?? '∞'})`;
    }
  }
  return null;
}
