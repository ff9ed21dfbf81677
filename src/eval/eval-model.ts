/**
 * The structural interface through which evaluation reaches a model — ours (`src/finetune`) or a user's. A model
 * implements only the methods its tasks need; every method is batched (it receives a slice of the dataset, at most
 * `batchSize` items) and may return a value or a promise.
 */
import type { ClassificationMetricName, LanguageMetricName } from './metric-result.js';
import type { TextScore } from './perplexity.js';
import type { ProbabilityRows } from './validate.js';

/** Anything that can be evaluated. */
export interface EvalModel<Input = unknown> {
  /** Shown in tables and error messages. */
  readonly name?: string;
  /**
   * Class probabilities for a batch of inputs: one row per input, each row of width K (the number of classes) summing
   * to 1. Needed by classification tasks.
   */
  predictProba?(inputs: readonly Input[]): ProbabilityRows | Promise<ProbabilityRows>;
  /**
   * Per sequence (a text, or token ids when the task's dataset is `tokenIds`): the summed negative log-likelihood in
   * nats of its predicted tokens, the number of those tokens, and the number of characters they cover (required by
   * bits-per-character tasks). Needed by language-modelling tasks. A model that scores only texts should throw a
   * typed error on token ids.
   */
  scoreText?(texts: readonly LanguageInput[]): readonly TextScore[] | Promise<readonly TextScore[]>;
  /**
   * Per sequence: the next-token distribution at each predicted position (rows of width V, the vocabulary). Optional;
   * when both models have it, language tasks also report KL/JS drift.
   */
  nextTokenProba?(texts: readonly LanguageInput[]): readonly ProbabilityRows[] | Promise<readonly ProbabilityRows[]>;
}

/** Examples with class labels. */
export interface ClassificationDataset<Input = unknown> {
  inputs: readonly Input[];
  /** Class index of each input, in [0, K). */
  labels: readonly number[];
}

/**
 * One held-out sequence of a language task: a text (the model tokenizes it), or its token ids in the model's vocabulary
 * (for a model loaded without a tokenizer, or to fix the tokenization).
 */
export type LanguageInput = string | readonly number[];

/**
 * Held-out sequences: `texts`, or `tokenIds` (one array of token ids per sequence; the first token is context, the
 * rest are predicted). Exactly one of the two.
 */
export type TextDataset = { texts: readonly string[]; tokenIds?: never } | { tokenIds: readonly (readonly number[])[]; texts?: never };

/** Whether the fine-tune is for this task (`domain`) or the task holds what the base could already do (`retained`). */
export type EvalTaskKind = 'domain' | 'retained';

/** A classification task. */
export interface ClassificationTask<Input = unknown> {
  name: string;
  kind: EvalTaskKind;
  metric: ClassificationMetricName;
  dataset: ClassificationDataset<Input>;
  /** The class scored by `f1`, `precision`, `recall` and `auroc`. Default 1. */
  positiveClass?: number;
  /** Bins of `ece`. Default 15. */
  bins?: number;
}

/** A language-modelling task. */
export interface LanguageTask {
  name: string;
  kind: EvalTaskKind;
  metric: LanguageMetricName;
  dataset: TextDataset;
}

/** What `compareModels` and `evaluateTask` run: a name, a kind, a metric and a dataset. */
export type EvalTask<Input = unknown> = ClassificationTask<Input> | LanguageTask;
