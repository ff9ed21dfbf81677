/**
 * From Datanet rows to training examples for a Hugging Face model, through its own tokenizer: text → ids (with the
 * tokenizer's special tokens), truncation, labels → class indices with a label map, and for causal LM the prompt span
 * that is left out of the loss. `makeBatch` then pads, masks and builds tensors, so a caller never builds padded
 * Int32Arrays by hand.
 */
import { ProvenantError, checks, defaultOf, describeValue, resolve, type ParamCheck, type ParamField, type ParamTable } from '../../core/index.js';
import type { TrainingExample } from '../train/data.js';
import type { PretrainedModel } from './pretrained-model.js';
import type { ChatMessage, PretrainedTokenizer } from './tokenizer.js';

/** The shape of a Datanet row this module reads (text input, optional label, optional metadata). */
export interface TextRow {
  readonly input: unknown;
  readonly label?: string | number;
  readonly metadata?: { readonly [key: string]: unknown };
}

/** Class index ↔ label, saved with an adapter (`SaveAdapterOptions.labels`) and written as `id2label` on export. */
export interface LabelMap {
  /** labels[i] is class i's label, as a string (`id2label`). */
  readonly labels: readonly string[];
  indexOf(label: string | number): number;
}

/**
 * A class index ↔ label map: class i is `String(labels[i])`; `indexOf` accepts the label as a string or number. Labels
 * are matched through a `Map`, so any string (even `'__proto__'`) is a label, never a property name.
 *
 * @throws ProvenantError `TRAINING_CONFIG_INVALID` when the labels are empty or not distinct (as strings), and from
 * `indexOf` for a label not in the map.
 *
 * @example
 * ```ts
 * import { createLabelMap } from 'provenant/finetune';
 *
 * const labels = createLabelMap(['ham', 'spam']);
 * labels.indexOf('spam'); // 1
 * labels.labels; // ['ham', 'spam']  (id2label order)
 * ```
 */
export function createLabelMap(labels: ReadonlyArray<string | number>): LabelMap {
  const names = labels.map((l) => String(l));
  if (new Set(names).size !== names.length || names.length === 0) {
    throw new ProvenantError('TRAINING_CONFIG_INVALID', 'Labels must be distinct and non-empty.', { data: { labels: names } });
  }
  const index = new Map(names.map((n, i) => [n, i]));
  return {
    labels: names,
    indexOf(label) {
      const i = index.get(String(label));
      if (i === undefined) throw new ProvenantError('TRAINING_CONFIG_INVALID', `Label ${describeValue(label)} is not in the label map [${names.join(', ')}].`);
      return i;
    },
  };
}

function tokenizerOf(model: PretrainedModel): PretrainedTokenizer {
  if (!model.tokenizer) throw new ProvenantError('TOKENIZER_INVALID', 'The model was loaded without a tokenizer.json; data preparation needs it.');
  return model.tokenizer;
}

const textOfRow = (row: TextRow, i: number): string => {
  if (typeof row.input !== 'string') throw new ProvenantError('TRAINING_CONFIG_INVALID', `Row ${i}'s input is not text (got ${describeValue(row.input)}).`);
  return row.input;
};

const functionCheck: ParamCheck = (v) => (v === null || typeof v === 'function' ? null : `must be a function or null, got ${describeValue(v)}`);
const classLabelsCheck: ParamCheck = (v) =>
  v === null || (Array.isArray(v) && v.every((l) => typeof l === 'string' || typeof l === 'number'))
    ? null
    : `must be an array of labels (strings or numbers) or null, got ${describeValue(v)}`;

/**
 * `maxLength`, shared by both preparations. Its range against the model ([1, the model's positions]) is checked once the
 * model is known, in `checkedLength`.
 */
const MAX_LENGTH_FIELD: ParamField = {
  name: 'maxLength',
  default: null,
  meaning: "Longest example in tokens (longer ones are cut at the end); null: the model's position limit.",
  // Only the type here: the range needs the model, and checkedLength's error names it ([1, positions]).
  check: (v) => (v === null || Number.isSafeInteger(v) ? null : `must be an integer or null, got ${describeValue(v)}`),
  aliases: ['max_length', 'max_seq_length', 'maxSeqLength'],
};

/**
 * The options of {@link prepareClassificationExamples} (one parameter mechanism, `core/params.ts`): unknown names are
 * refused with the nearest field (`max_length`, `label_names` map to theirs), so a typo never silently trains on
 * untruncated examples or a sorted label order.
 */
export const PREPARE_CLASSIFICATION_PARAMS: ParamTable = Object.freeze({
  name: 'prepareClassificationExamples',
  code: 'TRAINING_CONFIG_INVALID',
  fields: [
    { name: 'labels', default: null, meaning: "Class order (class i is labels[i]); null: the rows' distinct labels, sorted as strings.", check: classLabelsCheck, aliases: ['label_names', 'labelNames', 'id2label'] },
    MAX_LENGTH_FIELD,
    { name: 'textOf', default: null, meaning: 'The text of a row; null: row.input (must be a string).', check: functionCheck, aliases: ['text_of', 'text'] },
  ],
});

export interface PrepareClassificationOptions {
  /** Class order; default the rows' distinct labels, sorted as strings. The model's head must have this many classes. */
  labels?: ReadonlyArray<string | number> | null;
  /** Longest example in tokens (longer ones are cut at the end); default the model's position limit. */
  maxLength?: number | null;
  /** The text of a row; default `row.input` (must be a string). */
  textOf?: ((row: TextRow, index: number) => string) | null;
}

/**
 * Rows with text inputs and labels → classification examples (ids with the tokenizer's special tokens, BERT segment ids)
 * and the label map. Options resolve through {@link PREPARE_CLASSIFICATION_PARAMS}.
 *
 * @throws ProvenantError `TRAINING_CONFIG_INVALID` for an unknown option (with the nearest name) or a bad value, a row
 *   without a label or with a label outside `labels`, labels that are not distinct, a label count that differs from the
 *   head's classes, a `maxLength` outside [1, the model's positions], or a row whose text is not a string;
 *   `TOKENIZER_INVALID` when the model has no tokenizer.
 *
 * @example
 * ```ts
 * import { loadPretrained, prepareClassificationExamples, train } from 'provenant/finetune';
 * import { type DatanetSnapshot } from 'provenant/datanet';
 * declare const snapshot: DatanetSnapshot;
 * const model = await loadPretrained('./bert-tiny', { numLabels: 2 });
 * const { examples, labelMap } = prepareClassificationExamples(model, snapshot.rows, { maxLength: 128 });
 * await train(model, { task: 'classification', train: examples, seed: 1 });
 * ```
 */
export function prepareClassificationExamples(model: PretrainedModel, rows: readonly TextRow[], options: PrepareClassificationOptions = {}): { examples: TrainingExample[]; labelMap: LabelMap } {
  const used = resolve<{ labels: ReadonlyArray<string | number> | null; maxLength: number | null; textOf: ((row: TextRow, index: number) => string) | null }>(PREPARE_CLASSIFICATION_PARAMS, options);
  const tokenizer = tokenizerOf(model);
  const missing = rows.map((r, i) => [i, r.label] as const).filter(([, l]) => l === undefined);
  if (missing.length > 0) {
    throw new ProvenantError('TRAINING_CONFIG_INVALID', `${missing.length} row(s) have no label.`, { metaMessages: missing.slice(0, 10).map(([i]) => `row ${i}`) });
  }
  const labelMap = createLabelMap(used.labels ?? [...new Set(rows.map((r) => String(r.label)))].sort());
  if (model.config.task === 'sequence-classification' && labelMap.labels.length !== model.config.numLabels) {
    throw new ProvenantError('TRAINING_CONFIG_INVALID', `The data has ${labelMap.labels.length} labels but the model's head has ${model.config.numLabels} classes.`, {
      details: 'Load the model with loadPretrained(dir, { numLabels }) matching the labels, or pass labels explicitly.',
    });
  }
  const maxLength = checkedLength(model, used.maxLength);
  const textOf = used.textOf ?? textOfRow;
  const examples = rows.map((row, i) => {
    const { ids, tokenTypeIds } = tokenizer.encodeWithTypes(textOf(row, i));
    return { input: ids.slice(0, maxLength), tokenTypeIds: tokenTypeIds.slice(0, maxLength), label: labelMap.indexOf(row.label!) };
  });
  return { examples, labelMap };
}

/**
 * Whether each causal-LM example ends with the EOS token: `true` (append it; the tokenizer must have one), `false`
 * (never), or `'auto'` — append it when the model has an EOS token and the example is not chat-formatted. `'auto'`
 * follows TRL's `SFTTrainer._prepare_dataset` (trl/trainer/sft_trainer.py, `add_eos`): a plain-text example gets the
 * tokenizer's `eos_token` appended unless it already ends with it, a conversational one is left as the chat template
 * rendered it — the template's own end-of-turn (e.g. `<|im_end|>`) is part of the completion and trained on, and a
 * second EOS after it would teach the model a token that never follows an assistant turn at inference. An explicit
 * `true` is honoured with `chat` too (EOS after whatever the template ends with), for a template without an end-of-turn.
 */
export type AddEos = boolean | 'auto';

/**
 * The options of {@link prepareCausalLmExamples} and {@link resolveCausalLmOptions} (one parameter mechanism,
 * `core/params.ts`): unknown names are refused with the nearest field (TRL's `add_eos`, `max_length` /
 * `max_seq_length` map to theirs), so a typo such as `{ add_eos: false }` never silently appends EOS.
 */
export const PREPARE_CAUSAL_LM_PARAMS: ParamTable = Object.freeze({
  name: 'prepareCausalLmExamples',
  code: 'TRAINING_CONFIG_INVALID',
  fields: [
    { name: 'promptOf', default: null, meaning: 'The prompt of a row (context, no loss); with chat the user turn; null: none, the whole text is trained on.', check: functionCheck, aliases: ['prompt_of', 'prompt'] },
    { name: 'completionOf', default: null, meaning: 'The completion of a row (trained on); null: row.input.', check: functionCheck, aliases: ['completion_of', 'completion'] },
    { name: 'chat', default: false, meaning: "Render prompt and completion as a user and an assistant turn through the tokenizer's chat template.", check: checks.boolean(), aliases: ['apply_chat_template', 'applyChatTemplate'] },
    {
      name: 'addEos',
      default: 'auto',
      meaning: "End each example with the EOS token; 'auto': when the model has one and chat is off (TRL SFTTrainer's add_eos).",
      check: checks.oneOf([true, false, 'auto']),
      aliases: ['add_eos', 'add_eos_token', 'addEosToken'],
    },
    MAX_LENGTH_FIELD,
  ],
});

/** The default of {@link PrepareCausalLmOptions.addEos}, read from {@link PREPARE_CAUSAL_LM_PARAMS}. */
export const DEFAULT_ADD_EOS: AddEos = defaultOf<AddEos>(PREPARE_CAUSAL_LM_PARAMS, 'addEos');

/** The same table under the name of the function a caller called, so its errors name that function. */
const RESOLVE_CAUSAL_LM_PARAMS: ParamTable = Object.freeze({ ...PREPARE_CAUSAL_LM_PARAMS, name: 'resolveCausalLmOptions' });

export interface PrepareCausalLmOptions {
  /**
   * The prompt of a row (context, no loss) — default none (the whole text is trained on). With `chat`, the user turn.
   */
  promptOf?: ((row: TextRow, index: number) => string) | null;
  /** The completion (trained on); default `row.input`. */
  completionOf?: ((row: TextRow, index: number) => string) | null;
  /** Render prompt and completion as a user and an assistant turn through the tokenizer's chat template. */
  chat?: boolean;
  /**
   * End each example with the EOS token so the model learns to stop; default `'auto'` (see {@link AddEos}: added when
   * the model has an EOS token and `chat` is off). `true` with no EOS token is an error, never a silent no-op.
   */
  addEos?: AddEos;
  /** Longest example in tokens; default the model's position limit. */
  maxLength?: number | null;
}

/** What {@link prepareCausalLmExamples} runs with: every option resolved, plain data to put in a record. */
export interface CausalLmPreparation {
  chat: boolean;
  /** `addEos` as given (`'auto'` when omitted). */
  addEosOption: AddEos;
  /** What it resolved to: whether an EOS token is appended to each example (when it does not already end with one). */
  addEos: boolean;
  /** The EOS token id (the tokenizer's `eos_token`, else config.json's `eos_token_id`); null when the model has none. */
  eosTokenId: number | null;
  /** Longest example in tokens (longer ones are cut at the end, EOS included). */
  maxLength: number;
}

/**
 * The options {@link prepareCausalLmExamples} resolves, as plain data: record this object to say what ran.
 *
 * @throws ProvenantError `TRAINING_CONFIG_INVALID` for an unknown option (with the nearest name, see
 * {@link PREPARE_CAUSAL_LM_PARAMS}) or a bad value (`addEos` not a boolean or `'auto'`, `chat` not a boolean), when
 * `addEos: true` but the model has no EOS token (the error names the tokenizer's missing `eos_token`), or when
 * `maxLength` is out of range; `TOKENIZER_INVALID` when the model has no tokenizer.
 *
 * @example
 * ```ts
 * import { resolveCausalLmOptions, type PretrainedModel } from 'provenant/finetune';
 * declare const model: PretrainedModel;
 * resolveCausalLmOptions(model, { chat: true }).addEos; // false: the chat template ends the turn itself
 * ```
 */
export function resolveCausalLmOptions(model: PretrainedModel, options: PrepareCausalLmOptions = {}): CausalLmPreparation {
  return causalLmPreparation(model, resolve<UsedCausalLmOptions>(RESOLVE_CAUSAL_LM_PARAMS, options));
}

/** What {@link PREPARE_CAUSAL_LM_PARAMS} resolves to. */
interface UsedCausalLmOptions {
  promptOf: ((row: TextRow, index: number) => string) | null;
  completionOf: ((row: TextRow, index: number) => string) | null;
  chat: boolean;
  addEos: AddEos;
  maxLength: number | null;
}

/** The model-dependent half of {@link resolveCausalLmOptions}, over options already resolved through the table. */
function causalLmPreparation(model: PretrainedModel, used: UsedCausalLmOptions): CausalLmPreparation {
  const tokenizer = tokenizerOf(model);
  const { chat, addEos: addEosOption } = used;
  const configEos = Array.isArray(model.config.eosTokenId) ? model.config.eosTokenId[0] : model.config.eosTokenId;
  const eosTokenId = tokenizer.eosTokenId ?? configEos ?? null;
  if (addEosOption === true && eosTokenId === null) {
    throw new ProvenantError('TRAINING_CONFIG_INVALID', "addEos is true, but the model's tokenizer has no eos_token (and config.json no eos_token_id).", {
      details: "Set eos_token in tokenizer_config.json (and eos_token_id in config.json), or pass addEos: false or 'auto' to train without one.",
      metaMessages: ['tokenizer eos_token: none', `config.json eos_token_id: ${describeValue(model.config.eosTokenId ?? null)}`],
      data: { eosToken: null },
    });
  }
  const addEos = addEosOption === 'auto' ? eosTokenId !== null && !chat : addEosOption;
  return { chat, addEosOption, addEos, eosTokenId, maxLength: checkedLength(model, used.maxLength) };
}

/**
 * Rows → causal-LM examples: tokens of prompt + completion, with `promptLength` so only the completion is in the loss.
 * With `chat`, prompt and completion are a user and an assistant turn rendered by the tokenizer's chat template, and the
 * completion span is everything after the generation prompt (the template's end-of-turn included). Options resolve
 * through {@link resolveCausalLmOptions}; record its result to say what ran (e.g. whether EOS was appended).
 *
 * @throws ProvenantError as {@link resolveCausalLmOptions} (naming `prepareCausalLmExamples`), and
 * `TRAINING_CONFIG_INVALID` for a row whose completion (by default `row.input`) is not text.
 *
 * @example
 * ```ts
 * import { prepareCausalLmExamples, type PretrainedModel, type TextRow } from 'provenant/finetune';
 * declare const model: PretrainedModel;
 * declare const rows: readonly TextRow[];
 * const examples = prepareCausalLmExamples(model, rows, { promptOf: (r) => `Subject: ${r.metadata!.subject}\n`, completionOf: (r) => r.input as string });
 * ```
 */
export function prepareCausalLmExamples(model: PretrainedModel, rows: readonly TextRow[], options: PrepareCausalLmOptions = {}): TrainingExample[] {
  const used = resolve<UsedCausalLmOptions>(PREPARE_CAUSAL_LM_PARAMS, options);
  const { chat, addEos, eosTokenId, maxLength } = causalLmPreparation(model, used);
  const tokenizer = tokenizerOf(model);
  const completionOf = used.completionOf ?? textOfRow;
  const { promptOf } = used;
  return rows.map((row, i) => {
    const prompt = promptOf ? promptOf(row, i) : '';
    const completion = completionOf(row, i);
    let promptIds: number[];
    let allIds: number[];
    if (chat) {
      const user: ChatMessage[] = [{ role: 'user', content: prompt }];
      const promptText = tokenizer.applyChatTemplate(user, { addGenerationPrompt: true });
      const fullText = tokenizer.applyChatTemplate([...user, { role: 'assistant', content: completion }], { addGenerationPrompt: false });
      promptIds = tokenizer.encode(promptText, { addSpecialTokens: false });
      allIds = tokenizer.encode(fullText, { addSpecialTokens: false });
    } else {
      promptIds = prompt ? tokenizer.encode(prompt) : [];
      allIds = [...promptIds, ...tokenizer.encode(completion, { addSpecialTokens: prompt === '' })];
    }
    if (addEos && eosTokenId !== null && allIds[allIds.length - 1] !== eosTokenId) allIds.push(eosTokenId);
    return { input: allIds.slice(0, maxLength), promptLength: Math.min(promptIds.length, maxLength) };
  });
}

function checkedLength(model: PretrainedModel, maxLength: number | null): number {
  const limit = model.config.maxPositions;
  const value = maxLength ?? limit;
  if (!Number.isSafeInteger(value) || value < 1 || value > limit) {
    throw new ProvenantError('TRAINING_CONFIG_INVALID', `maxLength must be an integer in [1, ${limit}] (the model's positions), got ${describeValue(maxLength)}.`);
  }
  return value;
}
