/**
 * Provenant demo: the whole pipeline on the embedded default, one clearly separated step at a time.
 *
 *   npm run demo                       # the full security Datanet (6,046 e-mails) + a noisy and a duplicate contributor
 *   npm run demo -- --limit 200        # at most 200 e-mails per corpus group (fast)
 *   npm run demo -- --noisy 300 --duplicate 150 --seed 7 --split-groups 4 --json
 *
 *   npm run demo -- --rank 16 --lr 5e-3 --steps 300 --guard replay --method grad-dot --no-chain
 *
 * Steps: Datanet → snapshot → proof → splits → load the shipped base model → LoRA fine-tune → base-vs-tuned evaluation
 * and gates → attribution and contributor shares → reward split → publish to a local anvil → out/audit.json and
 * out/report.html. Each step prints what it did and how long it took; long steps show a progress bar.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import {
  SPAM_ASSASSIN_GROUPS,
  attachChainSection,
  buildAuditRecord,
  createCharTokenizer,
  createLogisticRegression,
  fitBagOfWords,
  precisionRecallF1,
  prepareData,
  tf,
  train,
  generativeDemoData,
  runGenerativeStage,
  formatComparisonTable,
  formatGateReport,
  formatSignedShares,
  SIGNED_SHARES_LABEL,
  fromSpamAssassin,
  generalEnglish,
  loadBaseModel,
  readBaseModelConfig,
  renderAuditReport,
  runPipeline,
  writeAuditRecord,
  type AttributionMethod,
  type DatanetSnapshot,
  type DatanetSplit,
  type GuardChoice,
  type PipelineParams,
  type PipelineResult,
  type SnapshotRow,
  type ProgressEvent,
  type SpamAssassinDatanet,
} from '../src/index.js';

/** One run of benchmarks/results/forgetting.json (the fields the report uses). */
interface SweepPoint {
  run: number;
  rank: number;
  learningRate: number;
  steps: number;
  guard: string;
  guardStrength: number;
  gain: number;
  forgetting: number;
}

// ── flags ────────────────────────────────────────────────────────────────────────────────────────────────────────
interface Flags {
  limit?: number;
  noisy?: number;
  duplicate?: number;
  seed: number;
  splitGroups: number;
  json: boolean;
  help: boolean;
  rank: number;
  lr: number;
  steps: number;
  batch: number;
  seq?: number;
  targets: string[];
  trainRows: number;
  evalRows: number;
  guard: GuardChoice;
  method: AttributionMethod;
  chain: boolean;
  generative: boolean;
  out: string;
  base?: string;
}

/** Which held-out rows are evaluated (the pipeline's `isTrustedRow`), in words. */
const TRUSTED_RULE = 'held-out rows of the corpus contributors only: not the synthetic noisy contributor, whose labels are flipped';

/** Characters of each e-mail the spam classifier reads by default (subject and start of the body). */
const DEMO_SEQUENCE_LENGTH = 128;
/** Modules LoRA adapts by default: every attention and MLP projection (chosen on validation rows, see the README). */
const DEMO_TARGET_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'fc_in', 'fc_out'] as const;

const FLAG_HELP: Record<string, string> = {
  '--limit N': 'at most N e-mails per SpamAssassin group (default: all 6,046 e-mails)',
  '--noisy N': 'label-flipped copies submitted by the noisy contributor (default: 1 in 30 e-mails, 200 for the full corpus)',
  '--duplicate N': 'verbatim re-submissions by the duplicate contributor (default: 1 in 40 e-mails, 151 for the full corpus)',
  '--seed N': 'seed for every random step (default 7)',
  '--split-groups N': 'split every corpus group into N contributors (default 1: one contributor per group)',
  '--rank N': 'LoRA rank r (default 8; alpha = 2r)',
  '--lr X': 'peak learning rate of the LoRA fine-tune (default 1e-2)',
  '--steps N': 'LoRA fine-tuning steps (default 90)',
  '--batch N': 'e-mails per fine-tuning step (default 16)',
  '--seq N': "characters of each e-mail the model reads: subject and start of the body (default 128; up to the model's context, 256)",
  '--targets LIST': 'comma-separated modules LoRA adapts (default q_proj,k_proj,v_proj,o_proj,fc_in,fc_out: attention and MLP)',
  '--train-rows N': 'training e-mails sampled for fine-tuning and attribution (default 480)',
  '--eval-rows N': 'test and later-collected e-mails evaluated and attributed, each (default 160)',
  '--guard G': 'forgetting guard: none, replay, l2-sp or kl-to-base (default none)',
  '--method M': 'attribution method: datainf, grad-dot or grad-cos (default datainf)',
  '--no-chain': 'do not start a local anvil nor publish (the audit record says so)',
  '--no-generative': 'skip the generated-text attribution step (fine-tune on State of the Union passages, answer, attribute, pay)',
  '--base DIR': 'base model folder (default: the shipped models/base)',
  '--out DIR': 'where audit.json and report.html are written (default out)',
  '--json': 'also print the snapshot summary as JSON',
  '--help': 'show this help',
};

function parseFlags(argv: readonly string[]): Flags {
  const flags: Flags = { seed: 7, splitGroups: 1, json: false, help: false, rank: 8, lr: 1e-2, steps: 90, batch: 16, targets: [...DEMO_TARGET_MODULES], trainRows: 480, evalRows: 160, guard: 'none', method: 'datainf', chain: true, generative: true, out: 'out' };
  const positive = (name: string, value: string | undefined): number => {
    const x = Number(value);
    if (value === undefined || !(x > 0) || !Number.isFinite(x)) throw new Error(`${name} needs a positive number, got ${String(value)}`);
    return x;
  };
  const oneOf = <T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T => {
    if (!allowed.includes(value as T)) throw new Error(`${name} must be one of ${allowed.join(', ')}, got ${String(value)}`);
    return value as T;
  };
  const integer = (name: string, value: string | undefined): number => {
    const n = Number(value);
    if (value === undefined || !Number.isSafeInteger(n) || n < 0) throw new Error(`${name} needs a non-negative integer, got ${String(value)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (name) {
      case '--limit': flags.limit = integer(name, value()); break;
      case '--noisy': flags.noisy = integer(name, value()); break;
      case '--duplicate': flags.duplicate = integer(name, value()); break;
      case '--seed': flags.seed = integer(name, value()); break;
      case '--split-groups': flags.splitGroups = Math.max(1, integer(name, value())); break;
      case '--rank': flags.rank = integer(name, value()); break;
      case '--lr': flags.lr = positive(name, value()); break;
      case '--steps': flags.steps = integer(name, value()); break;
      case '--batch': flags.batch = Math.max(1, integer(name, value())); break;
      case '--seq': flags.seq = Math.max(1, integer(name, value())); break;
      case '--targets': flags.targets = (value() ?? '').split(',').map((t) => t.trim()).filter(Boolean); break;
      case '--train-rows': flags.trainRows = Math.max(1, integer(name, value())); break;
      case '--eval-rows': flags.evalRows = Math.max(1, integer(name, value())); break;
      case '--guard': flags.guard = oneOf(name, value(), ['none', 'replay', 'l2-sp', 'kl-to-base'] as const); break;
      case '--method': flags.method = oneOf(name, value(), ['datainf', 'grad-dot', 'grad-cos'] as const); break;
      case '--no-chain': flags.chain = false; break;
      case '--no-generative': flags.generative = false; break;
      case '--out': flags.out = value() ?? 'out'; break;
      case '--base': flags.base = value(); break;
      case '--json': flags.json = true; break;
      case '--help': case '-h': flags.help = true; break;
      default: throw new Error(`unknown flag ${arg} (try --help)`);
    }
  }
  return flags;
}

// ── printing ─────────────────────────────────────────────────────────────────────────────────────────────────────
const fmt = (n: number): string => n.toLocaleString('en-US');
const kib = (bytes: number): string => `${fmt(Math.round(bytes / 1024))} KiB`;

function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = headers.map((_, j) => Math.max(...cells.map((r) => String(r[j]).length)));
  const line = (r: (string | number)[]) => r.map((c, j) => (j === 0 ? String(c).padEnd(widths[j]!) : String(c).padStart(widths[j]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const indent = (text: string, spaces = 2): string => text.split('\n').map((l) => ' '.repeat(spaces) + l).join('\n');

let progressShown = false;
/** One line per stage, redrawn in place on a terminal; every few seconds otherwise (CI logs). */
function progressBar(event: ProgressEvent): void {
  const fraction = event.total ? Math.min(1, event.done / event.total) : 0;
  const width = 24;
  const bar = event.total ? `${'█'.repeat(Math.round(fraction * width))}${'░'.repeat(width - Math.round(fraction * width))} ${(fraction * 100).toFixed(0).padStart(3)}%` : `${event.done}`;
  const eta = event.etaSeconds !== undefined ? ` eta ${event.etaSeconds.toFixed(0)} s` : '';
  const metrics = event.metrics?.loss !== undefined ? ` loss ${event.metrics.loss.toFixed(3)}` : '';
  const line = `  ${event.stage.padEnd(12)} ${bar}${eta}${metrics}`;
  if (process.stderr.isTTY) {
    process.stderr.write(`\r${line.padEnd(90)}`);
    progressShown = true;
  } else if (fraction === 1 || event.done % 50 === 0) {
    process.stderr.write(`${line}\n`);
  }
}
function clearProgress(): void {
  if (progressShown) process.stderr.write(`\r${' '.repeat(90)}\r`);
  progressShown = false;
}

async function step<T>(title: string, work: () => Promise<T> | T): Promise<T> {
  console.log(`\n▶ ${title}`);
  const start = performance.now();
  const result = await work();
  console.log(`  (${((performance.now() - start) / 1000).toFixed(2)} s)`);
  return result;
}

// ── the bag-of-words baseline ───────────────────────────────────────────────────────────────────────────────────
interface BaselineResult {
  model: string;
  reads: string;
  /** Macro-F1 with its 95 % bootstrap interval, on the pipeline's test rows (trusted labels), on them with the untrusted ones put back, and on its drift rows. */
  test: { value: number; low: number; high: number };
  testAllLabels: { value: number; low: number; high: number };
  drift: { value: number; low: number; high: number };
  features: number;
}

/**
 * The baseline a fine-tuned model has to beat: a logistic regression (the library's) on a vocabulary bag of words, fitted
 * and trained on the pipeline's own training rows and scored on its own test and drift rows (`prepareData` with the run's
 * parameters re-derives exactly the same seeded splits). Twice: on the whole e-mail, and on the characters the
 * transformer reads (its first `sequenceLength` tokens).
 */
async function bagOfWordsBaselines(
  snapshot: DatanetSnapshot,
  used: PipelineParams,
  isDriftRow: (row: SnapshotRow) => boolean,
  isTrustedRow: (row: SnapshotRow) => boolean,
): Promise<BaselineResult[]> {
  const data = prepareData(snapshot, used, createCharTokenizer(), isDriftRow, isTrustedRow);
  const variants = [
    { reads: 'whole e-mail', textOf: (row: SnapshotRow) => data.textOf(row) },
    { reads: `first ${used.sequenceLength} characters`, textOf: (row: SnapshotRow) => data.textOf(row).slice(0, used.sequenceLength) },
  ];
  const out: BaselineResult[] = [];
  for (const { reads, textOf } of variants) {
    const bag = fitBagOfWords(data.trainRows.map(textOf), { maxFeatures: 4096, minDocumentFrequency: 2 });
    const model = createLogisticRegression({ inputSize: bag.vocabulary.length, numClasses: data.classes.length, seed: used.seed });
    try {
      await train(model, {
        task: 'classification',
        train: data.trainRows.map((row) => ({ input: bag.features(textOf(row)), label: data.labelOf(row) })),
        seed: used.seed,
        epochs: 30,
        batchSize: 64,
        learningRate: 0.05,
      });
      const macroF1 = (rows: readonly SnapshotRow[]) => {
        const x = new Float32Array(rows.length * bag.vocabulary.length);
        rows.forEach((row, i) => x.set(bag.features(textOf(row)), i * bag.vocabulary.length));
        const predicted = tf.tidy(() => Array.from(model.forward(tf.tensor2d(x, [rows.length, bag.vocabulary.length])).argMax(1).dataSync()));
        const f1 = precisionRecallF1(rows.map(data.labelOf), predicted, { numClasses: data.classes.length, seed: used.seed, resamples: used.resamples }).macro.f1;
        return { value: f1.value, low: f1.ci.lower, high: f1.ci.upper };
      };
      out.push({
        model: 'bag of words + logistic regression',
        reads,
        test: macroF1(data.testRows),
        testAllLabels: macroF1([...data.testRows, ...data.untrustedTestRows]),
        drift: macroF1(data.driftRows),
        features: bag.vocabulary.length,
      });
    } finally {
      model.dispose();
    }
  }
  return out;
}

// ── the pipeline ─────────────────────────────────────────────────────────────────────────────────────────────────
async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  if (flags.help) {
    console.log('Usage: npm run demo -- [flags]\n');
    for (const [flag, help] of Object.entries(FLAG_HELP)) console.log(`  ${flag.padEnd(18)} ${help}`);
    return;
  }
  const total = performance.now();

  // Step 1: the security Datanet — five SpamAssassin groups as contributors, plus a noisy and a duplicate contributor.
  const built: SpamAssassinDatanet = await step('Step 1 · Build the security Datanet from the SpamAssassin corpus', async () => {
    const splitGroups = flags.splitGroups > 1 ? Object.fromEntries(SPAM_ASSASSIN_GROUPS.map((g) => [g, flags.splitGroups])) : undefined;
    // Corpus group sizes (see the package README): the synthetic contributors scale with the e-mails read.
    const emails = [2500, 1400, 250, 500, 1396].reduce((a, size) => a + Math.min(size, flags.limit ?? size), 0);
    const noisy = flags.noisy ?? Math.round(emails / 30);
    const duplicate = flags.duplicate ?? Math.round(emails / 40);
    const result = await fromSpamAssassin({ limitPerGroup: flags.limit, noisy, duplicate, splitGroups, seed: flags.seed });
    for (const report of result.reports) {
      console.log(
        `  ${report.contributor.padEnd(14)} submitted ${fmt(report.submitted).padStart(5)}  accepted ${fmt(report.accepted.length).padStart(5)}` +
          `  duplicates ${fmt(report.duplicates.length).padStart(4)}  rejected ${fmt(report.rejections.length).padStart(3)}`,
      );
    }
    return result;
  });

  // Step 2: snapshot — version, Merkle root over row ids, contributor table.
  const snapshot: DatanetSnapshot = await step('Step 2 · Snapshot: version, Merkle root, contributor table', () => built.datanet.snapshot());
  const summary = snapshot.summary();
  console.log(`  Datanet "${summary.name}"  version ${summary.version}  rows ${fmt(summary.rows)}  (${kib(summary.bytes)})`);
  console.log(`  root ${summary.root}  (OpenZeppelin StandardMerkleTree, leaf types [${summary.leafTypes.join(', ')}])`);
  console.log(`  submitted ${fmt(summary.submitted)}  duplicates removed ${fmt(summary.duplicatesRemoved)}  rejections ${fmt(summary.rejections)}` +
    (summary.rejections > 0 ? `  ${JSON.stringify(summary.rejectionsByCode)}` : ''));
  console.log(`  labels ${Object.entries(summary.labels).map(([l, n]) => `${l} ${fmt(n)}`).join(', ')}\n`);
  console.log(
    table(
      ['contributor', 'rows', 'bytes', 'ham', 'spam', 'duplicates', 'rejections'],
      summary.contributors.map((c) => [c.contributor, c.rows, kib(c.bytes), c.labels.ham ?? 0, c.labels.spam ?? 0, c.duplicates, c.rejections]),
    )
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  );

  // Step 3: a row's inclusion proof, checked against the root alone.
  await step('Step 3 · Inclusion proof for one row of the noisy contributor', () => {
    const noisyId = built.groundTruth.noisyRowIds[0] ?? snapshot.rows[0]!.id;
    const proof = snapshot.getProof(noisyId);
    const row = snapshot.getRow(noisyId);
    console.log(`  row ${noisyId.slice(0, 18)}… (${row.contributor}, label ${String(row.label)}): proof of ${proof.length} hashes verifies: ${snapshot.verifyRow(row, proof)}`);
    console.log(`  the same proof for the row with its label flipped back verifies: ${snapshot.verifyRow({ input: row.input, label: row.label === 'spam' ? 'ham' : 'spam' }, proof)}`);
  });

  // Step 4: seeded splits — stratified by label; and grouped by contributor (no contributor on both sides).
  await step('Step 4 · Seeded train/validation/test splits', () => {
    const show = (name: string, split: DatanetSplit) =>
      console.log(
        `  ${name.padEnd(26)} train ${fmt(split.train.indices.length).padStart(5)}  validation ${fmt(split.validation.indices.length).padStart(5)}` +
          `  test ${fmt(split.test.indices.length).padStart(5)}  digest ${split.digest.slice(0, 14)}…`,
      );
    const fractions = { train: 0.8, validation: 0.1, test: 0.1 };
    show('stratified by label', snapshot.split({ seed: flags.seed, fractions, stratifyBy: 'label' }));
    show('grouped by contributor', snapshot.split({ seed: flags.seed, fractions, groupBy: 'contributor', stratifyBy: 'label' }));
    // Drift: the "-2" groups were collected months later; train on the early mail, test on the late.
    const groupOf = built.groundTruth.contributorGroups;
    show('drift (2002 → 2003 mail)', snapshot.splitBy((row) => (String(groupOf[row.contributor]).endsWith('-2') ? 'test' : 'train'), { rule: 'test = groups easy-ham-2 and spam-2 (collected 2003-02)' }));
  });

  // Step 5: the shipped base model — pretrained by `npm run pretrain`, loaded from models/base with its hash checked.
  const baseModel = await step('Step 5 · Load the shipped base model (no network)', async () => {
    const model = await loadBaseModel({ directory: flags.base });
    const config = await readBaseModelConfig(flags.base);
    const heldOut = config.heldOut as { overall?: { perplexity?: number }; bitsPerCharacter?: number } | undefined;
    console.log(`  ${config.name}: ${fmt(config.parameters)} parameters, weights sha256 ${config.weightsSha256.slice(0, 18)}…`);
    if (heldOut?.overall?.perplexity) console.log(`  held-out perplexity ${heldOut.overall.perplexity.toFixed(3)} (${heldOut.bitsPerCharacter?.toFixed(3)} bits/char) on never-seen English`);
    return { model, config };
  });
  const english = await generalEnglish({ count: 120, chars: 256, pretrainSeed: Number((baseModel.config.training as { seed?: number } | undefined)?.seed ?? 20261124) });

  // Steps 6–9: fine-tune, evaluate, attribute, split a fee — one library call, progress shown per stage.
  const groupOf = built.groundTruth.contributorGroups;
  const isDriftRow = (row: SnapshotRow): boolean => String(groupOf[row.contributor]).endsWith('-2');
  const isTrustedRow = (row: SnapshotRow): boolean => row.contributor !== built.groundTruth.noisyContributor;
  const result: PipelineResult = await step('Steps 6–9 · LoRA fine-tune → base vs tuned → attribution → reward split', () =>
    runPipeline({
      snapshot,
      isDriftRow,
      baseModel: baseModel.model,
      generalTexts: english.heldOut,
      replayTexts: english.train,
      mislabelledRowIds: built.groundTruth.noisyRowIds,
      // Evaluate on labels we can trust: the noisy contributor's rows carry deliberately flipped labels, so a test row of
      // theirs scores a correct prediction as an error. They still train (and attribution must find them); the test rows
      // they would have contributed are reported separately, as "spam detection (all labels)".
      isTrustedRow,
      seed: flags.seed,
      names: {
        task: 'spam detection',
        driftTask: 'later-collected mail',
        retainedTask: 'general English',
        adapter: 'security',
        baseModel: baseModel.config.name,
        driftRule: 'held out: groups easy-ham-2 and spam-2 (collected 2003-02, after the training mail)',
        retainedProbe: 'general English next-token distributions',
        evaluationRule: TRUSTED_RULE,
      },
      // 128 by default, not the full 256: at 256 the demo's fine-tune, evaluation and attribution cost ~6 CPU-minutes on
      // 2 cores (over the 5-minute budget) and measured no better macro-F1 (0.618 at 256 vs 0.638 at 128, with the earlier
      // q/v, 60-step defaults).
      sequenceLength: Math.min(flags.seq ?? DEMO_SEQUENCE_LENGTH, baseModel.model.config.maxSeqLen),
      maxTrainRows: flags.trainRows,
      maxEvalRows: flags.evalRows,
      lora: { r: flags.rank, alpha: 2 * flags.rank, targetModules: flags.targets },
      training: { maxSteps: flags.steps, learningRate: flags.lr, batchSize: flags.batch },
      guard: flags.guard,
      // 16 e-mails per featurization batch: at context 256 a batch of 64 holds ~1 GB of attention activations and gradients,
      // past what the wasm heap grows to ("memory access out of bounds"); the scores do not depend on it.
      attribution: { method: flags.method, featureBatchSize: 16 },
      onProgress: progressBar,
    }),
  );
  let record = result.record;
  clearProgress();
  console.log(`\n  Fine-tuning: ${record.fineTuning.log.steps} steps, final loss ${record.fineTuning.log.finalLoss.toFixed(4)}, adapter ${record.fineTuning.adapterHash.slice(0, 18)}…`);
  console.log(`\n${indent(formatComparisonTable(result.comparison))}`);
  // Step 9b: the baseline the tuned model must beat — a bag-of-words logistic regression on the same training rows.
  const baselines = await step('Step 9b · Baseline: bag-of-words logistic regression on the same training, test and drift rows', () => bagOfWordsBaselines(snapshot, result.used, isDriftRow, isTrustedRow));
  // The comparison names the drift task "<driftTask> (drift)".
  const macro = (task: string) => result.comparison.rows.find((t) => t.task.startsWith(task) && t.metric === 'macro-f1');
  const [spam, spamAll, drift] = [macro('spam detection'), macro('spam detection (all labels)'), macro('later-collected mail')];
  const interval = (e: { value: number; low: number; high: number } | undefined) => (e ? `${e.value.toFixed(3)} [${e.low.toFixed(3)}, ${e.high.toFixed(3)}]` : '—');
  const fromEstimate = (e: { value: number; ci: { lower: number; upper: number } } | undefined) => (e ? { value: e.value, low: e.ci.lower, high: e.ci.upper } : undefined);
  console.log(
    indent(
      table(
        ['model', 'reads', 'spam macro-F1 (95% CI)', 'incl. untrusted labels', 'later mail macro-F1 (95% CI)'],
        [
          [`${baseModel.config.name} + linear probe`, `first ${result.used.sequenceLength} characters`, interval(fromEstimate(spam?.base)), interval(fromEstimate(spamAll?.base)), interval(fromEstimate(drift?.base))],
          [`tuned (LoRA r${flags.rank})`, `first ${result.used.sequenceLength} characters`, interval(fromEstimate(spam?.tuned)), interval(fromEstimate(spamAll?.tuned)), interval(fromEstimate(drift?.tuned))],
          ...baselines.map((b) => [`${b.model} (${fmt(b.features)} words)`, b.reads, interval(b.test), interval(b.testAllLabels), interval(b.drift)]),
        ],
      ),
    ),
  );
  console.log(`\n  Deploy gates:\n${indent(formatGateReport(result.gates), 4)}`);
  console.log('\n  Attribution for held-out e-mails (top proponent rows and contributor shares):');
  for (const q of record.attribution.queries) {
    console.log(`  ${q.id}: predicted ${q.prediction.label} (${q.prediction.probability.toFixed(3)}) — ${JSON.stringify(q.input.slice(0, 70))}`);
    for (const r of q.topProponents.slice(0, 3)) console.log(`      + ${r.rowId.slice(0, 14)}…  ${r.contributor.padEnd(12)} ${r.score.toExponential(2)}`);
    console.log(`      ${SIGNED_SHARES_LABEL}: ${formatSignedShares(q.contributorShares)}`);
  }
  console.log('\n  Contributors over the evaluated test e-mails (influence at the true label, class-balanced; reward share of paid queries):');
  console.log(indent(table(['contributor', 'net influence', 'reward share', 'flagged'], record.attribution.contributorTotals.map((c) => [c.contributor, c.score.toExponential(3), `${(c.share * 100).toFixed(1)}%`, c.flagged ? 'yes' : '']))));
  if (record.attribution.quality) console.log(`  noisy-row detection: ${JSON.stringify(record.attribution.quality)}`);
  const noisyName = built.groundTruth.noisyContributor;
  const duplicateName = built.groundTruth.duplicateContributor;
  const paid = (c: string | undefined) => record.rewards.split.find((s) => s.contributor === c)?.amountWei ?? '0';
  console.log(`\n  Reward split of ${record.rewards.feeWei} wei: ${record.rewards.split.map((s) => `${s.contributor} ${s.amountWei}`).join(', ')}`);
  if (noisyName) console.log(`  noisy contributor "${noisyName}" (label-flipped copies): paid ${paid(noisyName)} wei${record.rewards.flagged.includes(noisyName) ? ', flagged: its data pushes predictions away from the true label' : ''}`);
  if (duplicateName) console.log(`  duplicate contributor "${duplicateName}" (re-submissions): owns 0 rows after dedup, paid ${paid(duplicateName)} wei`);

  // The learning-vs-forgetting sweep is too long for the demo; its committed result (npm run bench:forgetting on the same
  // corpus, with the base model current when it was last run: re-run it after a base model change) is attached — before
  // publishing, so the published evaluation digest covers it — by rebuilding the record from its parts (buildAuditRecord
  // re-seals and re-checks it).
  const sweepFile = new URL('../benchmarks/results/forgetting.json', import.meta.url);
  const sweep = existsSync(sweepFile) ? (JSON.parse(readFileSync(sweepFile, 'utf8')) as { points: SweepPoint[]; front: number[] }) : null;

  // Step 10 (issue 11): generated-text attribution — a fresh copy of the base model LoRA-tuned on State of the Union
  // passages (five era contributors) plus a planted-facts contributor, answers generated, attributed (influence and
  // verbatim spans) and each paid under the fee model.
  const generative = flags.generative
    ? await step('Step 10 · Generated-text attribution: fine-tune on a text Datanet, answer, attribute, pay', async () => {
        const data = await generativeDemoData();
        const model = await loadBaseModel({ directory: flags.base });
        try {
          const section = await runGenerativeStage(model, { rows: data.rows, prompts: data.prompts.slice(0, 4), tokenizer: createCharTokenizer(), oversample: data.oversample, seed: flags.seed, onProgress: progressBar });
          clearProgress();
          console.log(`  ${data.rows.length} rows (${new Set(data.rows.map((r) => r.contributor)).size} contributors); ${section.training.steps} LoRA steps, loss ${section.training.firstLoss?.toFixed(3)} → ${section.training.finalLoss?.toFixed(3)}`);
          for (const a of section.answers) {
            const top = a.proponents[0];
            const shares = formatSignedShares(a.contributorShares, { top: 3 });
            console.log(`  ${JSON.stringify(a.prompt)} →${JSON.stringify(a.completion.slice(0, 60))}`);
            console.log(`      top row ${top ? `${top.contributor} ${top.score.toExponential(2)}` : '—'}; signed shares ${shares}; ${a.spans.length} verbatim span(s)${a.spans[0] ? ` e.g. ${JSON.stringify(a.spans[0].text.slice(0, 40))} ×${a.spans[0].count}` : ''}`);
            console.log(`      fee ${a.fee.feeWei} wei: ${a.fee.paid ? `contributors ${a.fee.contributorsWei} wei` : `unpaid (${a.fee.reason})`}`);
          }
          return section;
        } finally {
          model.dispose();
        }
      })
    : null;

  // The chain load study (issue 14) is measured by npm run bench:chain; its committed result is attached like the sweep.
  const chainFile = new URL('../benchmarks/results/chain.json', import.meta.url);
  const chainStudy = existsSync(chainFile) ? (JSON.parse(readFileSync(chainFile, 'utf8')) as { opStack?: { chartData?: object; simulation?: { profileParameters?: unknown[] } } }).opStack : undefined;
  // The chart data and every chain-profile value it was computed under (gas limit, elasticity, scalars, L1 prices …).
  const chainLoad = chainStudy?.chartData ? { ...chainStudy.chartData, profileParameters: chainStudy.simulation?.profileParameters ?? [] } : null;

  {
    const { schema: _schema, chain: _chain, integrity: _integrity, ...parts } = record;
    const sections: Record<string, unknown> = { ...(parts.sections ?? {}) };
    if (generative) sections.generative = generative;
    if (chainLoad) sections.chainLoad = { source: 'benchmarks/results/chain.json (npm run bench:chain)', ...chainLoad };
    sections.baselines = { metric: 'macro-f1', splits: 'the pipeline\'s own training, test and drift rows (prepareData with the run\'s parameters)', results: baselines };
    record = buildAuditRecord({
      ...parts,
      ...(Object.keys(sections).length ? { sections } : {}),
      evaluation: !sweep ? record.evaluation : {
        ...record.evaluation,
        learningVsForgetting: sweep.points.map((p) => ({
          label: `bench:forgetting r${p.rank} lr ${p.learningRate} ${p.steps} steps${p.guard === 'none' ? '' : ` ${p.guard} ${p.guardStrength}`}`,
          domainGain: Number(p.gain.toPrecision(6)),
          forgetting: Number((100 * p.forgetting).toPrecision(6)),
          pareto: sweep.front.includes(p.run),
        })),
      },
    });
  }

  // Step 11: publish to a local chain the demo starts and stops itself.
  if (flags.chain) {
    await step('Step 11 · Publish snapshot, model, evaluation and attribution batch to a local anvil', async () => {
      const chain = await import('../src/chain/index.js');
      const node = await chain.startLocalNode();
      try {
        record = attachChainSection(record, await chain.publishAuditRecordWithKey(node, record));
        if (record.chain.status !== 'published') return;
        for (const tx of record.chain.transactions) console.log(`  ${tx.kind.padEnd(18)} ${tx.txHash}  gas ${tx.gasUsed}`);
        console.log(`  attribution batch root ${record.chain.attributionBatch.root}: one record's proof verifies on chain ${record.chain.attributionBatch.verifiedOnChain}, off chain ${record.chain.attributionBatch.verifiedOffChain}`);
      } finally {
        await node.stop();
      }
    });
  } else {
    record = attachChainSection(record, { status: 'skipped', reason: '--no-chain: not published' });
    console.log('\n▶ Step 11 · Chain publishing skipped (--no-chain): the audit record says so.');
  }

  // Step 12: the audit record and its HTML report.
  await step(`Step 12 · Write ${flags.out}/audit.json and ${flags.out}/report.html`, async () => {
    mkdirSync(flags.out, { recursive: true });
    writeFileSync(`${flags.out}/audit.json`, writeAuditRecord(record));
    writeFileSync(`${flags.out}/report.html`, await renderAuditReport(record));
    console.log(`  audit record (schema ${record.schema}, validated) and a self-contained HTML report written`);
  });

  if (flags.json) console.log(`\n${JSON.stringify(summary, null, 2)}`);
  console.log(`\nDone in ${((performance.now() - total) / 1000).toFixed(2)} s.`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
