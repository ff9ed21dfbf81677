/**
 * Stage 1 · prepare data: snapshot → drift rows held out → a stratified, seeded split → seeded samples → token ids.
 * Plain data in, plain data out; no model is touched.
 */
import { ProvenantError, shuffle } from '../../core/index.js';
import type { DatanetSnapshot, DatanetSplit, Label, SnapshotRow } from '../../datanet/index.js';
import type { TrainingExample } from '../../finetune/index.js';
import type { PipelineParams } from '../options.js';

/** What a text tokenizer must do for the pipeline (the char tokenizer, or a Hugging Face one behind an adapter). */
export interface PipelineTokenizer {
  encode(text: string): number[];
  encodeBatch(texts: readonly string[], length: number): { ids: Int32Array; shape: number[] };
}

export interface PreparedData {
  classes: string[];
  /** Class index of a row (throws DATANET_ROW_INVALID for an unknown label). */
  labelOf: (row: SnapshotRow) => number;
  /** Text of a row (throws DATANET_SCHEMA_INVALID for a non-text row). */
  textOf: (row: SnapshotRow) => string;
  trainRows: SnapshotRow[];
  validationRows: SnapshotRow[];
  /** Test rows evaluated and attributed: the seeded test sample less the rows whose labels are not trusted. */
  testRows: SnapshotRow[];
  /** Rows of the seeded test sample left out by the evaluation rule (`isTrustedRow`); empty without a rule. */
  untrustedTestRows: SnapshotRow[];
  driftRows: SnapshotRow[];
  /** The evaluation rule's split (trusted rows → train, the others → test), when a rule was given: its digest names them. */
  evaluationSplit: DatanetSplit | null;
  trainExamples: TrainingExample[];
  validationExamples: TrainingExample[];
  /** Token ids [rows, sequenceLength] of rows, padded. */
  idsOf: (rows: readonly SnapshotRow[]) => Int32Array;
}

/**
 * Splits and encodes a snapshot for a run. Drift rows (`isDriftRow`) are held out first; the rest is split stratified by
 * label and sampled. With `isTrustedRow` (an evaluation rule, described by `names.evaluationRule`), the validation, test
 * and drift samples keep only rows whose labels are trusted — the training rows are not filtered, and the seeded samples
 * are drawn as without the rule, so the test rows are the rule-free test sample less its untrusted rows (returned as
 * `untrustedTestRows`, so both figures can be reported on the same sample).
 *
 * @throws ProvenantError `INVALID_ARGUMENT` with fewer than two labels; `DATANET_SCHEMA_INVALID` for non-text rows;
 *   `DATANET_ROW_INVALID` for a row with an unknown label
 * @example
 * ```ts
 * import { createCharTokenizer, prepareData, type DatanetSnapshot, type PipelineParams } from 'provenant';
 * declare const snapshot: DatanetSnapshot;
 * declare const used: PipelineParams;
 * const data = prepareData(snapshot, used, createCharTokenizer(), (row) => row.contributor === 'late');
 * data.trainExamples.length; // ≤ used.maxTrainRows
 * ```
 */
export function prepareData(
  snapshot: DatanetSnapshot,
  used: Pick<PipelineParams, 'seed' | 'fractions' | 'maxTrainRows' | 'maxEvalRows' | 'sequenceLength' | 'names'>,
  tokenizer: PipelineTokenizer,
  isDriftRow: (row: SnapshotRow) => boolean = () => false,
  isTrustedRow?: (row: SnapshotRow) => boolean,
): PreparedData {
  const { seed, sequenceLength } = used;
  const classes = snapshot.classes.map(String);
  if (classes.length < 2) throw new ProvenantError('INVALID_ARGUMENT', `The snapshot needs at least two labels, has [${classes.join(', ')}].`);
  const classIndex = new Map<string, number>(classes.map((c, i) => [c, i]));
  const textOf = (row: SnapshotRow): string => {
    if (typeof row.input !== 'string') throw new ProvenantError('DATANET_SCHEMA_INVALID', `runPipeline needs text rows; row ${row.id} is not text.`);
    return row.input;
  };
  const labelOf = (row: SnapshotRow): number => {
    const k = classIndex.get(String(row.label as Label));
    if (k === undefined) throw new ProvenantError('DATANET_ROW_INVALID', `Row ${row.id} has no known label.`);
    return k;
  };
  const driftSplit = snapshot.splitBy((row) => (isDriftRow(row) ? 'test' : 'train'), { rule: used.names.driftRule });
  const split = stratifiedSplit(driftSplit.train.rows, labelOf, used.fractions, seed);
  const trainRows = sample(split.train, used.maxTrainRows, seed);
  // The rule's own split (trusted → train, untrusted → test): its digest names the rows the rule left out.
  const evaluationSplit = isTrustedRow ? snapshot.splitBy((row) => (isTrustedRow(row) ? 'train' : 'test'), { rule: used.names.evaluationRule }) : null;
  const untrusted = new Set((evaluationSplit?.test.rows ?? []).map((row) => row.id));
  const trusted = (row: SnapshotRow): boolean => !untrusted.has(row.id);
  const validationRows = sample(split.validation, Math.max(32, Math.round(used.maxEvalRows / 4)), seed + 1).filter(trusted);
  const testSample = sample(split.test, used.maxEvalRows, seed + 2);
  const testRows = testSample.filter(trusted);
  const driftRows = sample(driftSplit.test.rows, used.maxEvalRows, seed + 3).filter(trusted);
  const encode = (rows: readonly SnapshotRow[]): TrainingExample[] =>
    rows.map((row) => ({ input: tokenizer.encode(textOf(row)).slice(0, sequenceLength), label: labelOf(row) }));
  return {
    classes,
    labelOf,
    textOf,
    trainRows,
    validationRows,
    testRows,
    untrustedTestRows: testSample.filter((row) => !trusted(row)),
    driftRows,
    evaluationSplit,
    trainExamples: encode(trainRows),
    validationExamples: encode(validationRows),
    idsOf: (rows) => tokenizer.encodeBatch(rows.map(textOf), sequenceLength).ids,
  };
}

/** Seeded split of rows stratified by label (each label's rows shuffled and cut by the fractions). */
function stratifiedSplit(
  rows: readonly SnapshotRow[],
  labelOf: (row: SnapshotRow) => number,
  fractions: { train: number; validation: number; test: number },
  seed: number,
): { train: SnapshotRow[]; validation: SnapshotRow[]; test: SnapshotRow[] } {
  const byLabel = new Map<number, SnapshotRow[]>();
  for (const row of rows) {
    const k = labelOf(row);
    if (!byLabel.has(k)) byLabel.set(k, []);
    byLabel.get(k)!.push(row);
  }
  const out = { train: [] as SnapshotRow[], validation: [] as SnapshotRow[], test: [] as SnapshotRow[] };
  for (const [label, group] of [...byLabel].sort((a, b) => a[0] - b[0])) {
    const shuffled = sample(group, group.length, seed * 31 + label);
    const nTrain = Math.round(fractions.train * shuffled.length);
    const nValidation = Math.round(fractions.validation * shuffled.length);
    out.train.push(...shuffled.slice(0, nTrain));
    out.validation.push(...shuffled.slice(nTrain, nTrain + nValidation));
    out.test.push(...shuffled.slice(nTrain + nValidation));
  }
  return out;
}

/** A seeded sample of at most `count` rows, in a seeded order. */
function sample<T>(items: readonly T[], count: number, seed: number): T[] {
  return shuffle(items, seed).slice(0, Math.min(count, items.length));
}
