/**
 * MNIST digits from the `mnist` package (10,000 digits, 28×28 grey levels in [0, 1] rounded to 3 decimals) as a
 * Datanet: the attribution ground-truth benchmark. The field's MNIST-10 set-up (dattri; Park et al., TRAK, 2023)
 * uses 5,000 training and 500 test digits with logistic regression or a small MLP — `fromMnist({ train: 5000, test: 500 })`.
 * The package's own sampling uses Math.random, so we read its raw arrays and draw with our seeded generator.
 */
import { ProvenantError, apportion, createRng, permutation, type ProgressCallback, type Seed } from '../core/index.js';
import { createProgressReporter } from '../core/index.js';
import { syntheticAddress } from './contributor.js';
import { createDatanet, type Datanet } from './datanet.js';
import { datasetPackageVersion, importDatasetPackage } from './load-package.js';
import type { RowId } from './row-hash.js';
import type { ContributionReport, ImageInput, Row } from './types.js';

export const MNIST_PACKAGE = 'mnist';
export const MNIST_SIDE = 28;
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;

export interface FromMnistOptions {
  /** Datanet name. Default 'mnist'. */
  readonly name?: string;
  /** Training digits in the Datanet. Default: all digits not held out for `test`. */
  readonly train?: number;
  /** Held-out test digits, returned beside the Datanet (disjoint from it). Default 0. */
  readonly test?: number;
  /** Number of contributors, or their ids. Default 10. */
  readonly contributors?: number | readonly string[];
  /** Relative sizes of the contributors' shares (normalised). Default: equal. */
  readonly contributorWeights?: readonly number[];
  /**
   * 'iid' (default): a seeded random partition. 'by-label': rows sorted by digit before cutting, so each contributor
   * holds one or two digits — the pathological non-IID split of federated learning (McMahan et al., 2017).
   */
  readonly partition?: 'iid' | 'by-label';
  /** Flip this fraction of training labels to a different, uniformly drawn digit (mislabel-detection ground truth). Default 0. */
  readonly flipFraction?: number;
  /** Input form: 784-vectors (default) or 28×28×1 images. */
  readonly as?: 'vector' | 'image';
  /** Contributor identities: `mnist-01`… (default) or deterministic synthetic EVM addresses. */
  readonly identities?: 'name' | 'address';
  /** Default 0. */
  readonly seed?: Seed;
  readonly onProgress?: ProgressCallback;
}

/** A held-out digit (not in the Datanet). */
export interface MnistExample {
  readonly input: readonly number[] | ImageInput;
  readonly label: number;
  /** `<digit>/<index within that digit's array>` in the package. */
  readonly source: string;
}

export interface MnistDatanet {
  readonly datanet: Datanet;
  readonly reports: readonly ContributionReport[];
  readonly test: readonly MnistExample[];
  readonly groundTruth: {
    /** Ids of training rows whose label was flipped. */
    readonly flippedRowIds: readonly RowId[];
    /** Flipped row id → its true digit. */
    readonly trueLabels: Readonly<Record<RowId, number>>;
  };
}

interface MnistDigit {
  readonly raw: ArrayLike<number>;
  readonly length: number;
}

/**
 * Builds an MNIST Datanet.
 *
 * @example
 * ```ts
 * import { fromMnist } from 'provenant/datanet';
 * const { datanet, test } = await fromMnist({ train: 5000, test: 500, contributors: 10, seed: 0 });
 * ```
 */
export async function fromMnist(options: FromMnistOptions = {}): Promise<MnistDatanet> {
  const bad = (message: string, value?: unknown) =>
    new ProvenantError('INVALID_ARGUMENT', `fromMnist: ${message}`, { metaMessages: value === undefined ? [] : [`value: ${JSON.stringify(value)}`] });
  const mnist = await importDatasetPackage<MnistDigit[]>(MNIST_PACKAGE, 'fromMnist()');
  const digits = Array.from({ length: 10 }, (_, d) => mnist[d]!);
  const total = digits.reduce((a, d) => a + d.length, 0);
  const testCount = options.test ?? 0;
  if (!Number.isSafeInteger(testCount) || testCount < 0 || testCount >= total) throw bad(`\`test\` must be an integer in [0, ${total}).`, testCount);
  const trainCount = options.train ?? total - testCount;
  if (!Number.isSafeInteger(trainCount) || trainCount < 1 || trainCount + testCount > total) {
    throw bad(`\`train\` must be a positive integer with train + test ≤ ${total}.`, trainCount);
  }
  const names =
    typeof options.contributors === 'object'
      ? [...options.contributors]
      : Array.from({ length: options.contributors ?? 10 }, (_, k) => `mnist-${String(k + 1).padStart(2, '0')}`);
  if (names.length < 1 || names.length > trainCount || !names.every((n) => typeof n === 'string' && n.length > 0)) {
    throw bad(`\`contributors\` must be a count or ids, between 1 and ${trainCount}.`, options.contributors);
  }
  const weights = options.contributorWeights ?? names.map(() => 1);
  if (weights.length !== names.length || !weights.every((w) => Number.isFinite(w) && w >= 0) || weights.every((w) => w === 0)) {
    throw bad('`contributorWeights` needs one finite, non-negative weight per contributor, not all zero.', weights);
  }
  const flipFraction = options.flipFraction ?? 0;
  if (!(flipFraction >= 0 && flipFraction <= 1)) throw bad('`flipFraction` must be in [0, 1].', flipFraction);
  const partition = options.partition ?? 'iid';
  if (partition !== 'iid' && partition !== 'by-label') throw bad('`partition` must be "iid" or "by-label".', partition);
  const as = options.as ?? 'vector';
  if (as !== 'vector' && as !== 'image') throw bad('`as` must be "vector" or "image".', as);

  const seed = options.seed ?? 0;
  const rng = createRng(seed);
  const progress = createProgressReporter('fromMnist', trainCount + testCount, options.onProgress);
  // Global index k ↦ (digit, position): digits in order 0..9, each in package order.
  const starts: number[] = [];
  digits.reduce((offset, d) => (starts.push(offset), offset + d.length), 0);
  const locate = (k: number): [number, number] => {
    let d = 9;
    while (starts[d]! > k) d -= 1;
    return [d, k - starts[d]!];
  };
  const pixels = (digit: number, position: number): number[] => Array.prototype.slice.call(digits[digit]!.raw, position * MNIST_PIXELS, (position + 1) * MNIST_PIXELS) as number[];
  const toInput = (values: number[]): readonly number[] | ImageInput => (as === 'vector' ? values : { width: MNIST_SIDE, height: MNIST_SIDE, channels: 1, data: values });

  const order = permutation(total, rng.fork('draw'));
  const test: MnistExample[] = [];
  for (let k = 0; k < testCount; k++) {
    const [digit, position] = locate(order[k]!);
    test.push(Object.freeze({ input: toInput(pixels(digit, position)), label: digit, source: `${digit}/${position}` }));
    progress.tick(k + 1);
  }

  const flipRng = rng.fork('flip');
  const flipCount = Math.round(flipFraction * trainCount);
  const flipped = new Set(Array.from(permutation(trainCount, flipRng)).slice(0, flipCount));
  const train: { row: Row; digit: number; flipped: boolean }[] = [];
  for (let k = 0; k < trainCount; k++) {
    const [digit, position] = locate(order[testCount + k]!);
    let label = digit;
    const isFlipped = flipped.has(k);
    if (isFlipped) label = (digit + 1 + flipRng.nextInt(9)) % 10;
    train.push({ row: { input: toInput(pixels(digit, position)), label, metadata: { source: `${digit}/${position}` } }, digit, flipped: isFlipped });
    progress.tick(testCount + k + 1);
  }

  // Partition: a seeded order (sorted by true digit for 'by-label'), cut at sizes proportional to the weights.
  let cut = Array.from(permutation(trainCount, rng.fork('partition')));
  if (partition === 'by-label') cut = cut.sort((a, b) => train[a]!.digit - train[b]!.digit || a - b);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const sizes = apportion(trainCount, weights.map((w) => w / weightSum));

  const datanet = createDatanet({
    name: options.name ?? 'mnist',
    schema: as === 'vector' ? { input: 'vector', vectorLength: MNIST_PIXELS, labels: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] } : { input: 'image', imageShape: { width: MNIST_SIDE, height: MNIST_SIDE, channels: 1 }, labels: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
  });
  const version = datasetPackageVersion(MNIST_PACKAGE, 'fromMnist()');
  const reports: ContributionReport[] = [];
  const flippedRowIds: RowId[] = [];
  const trueLabels: Record<RowId, number> = {};
  let offset = 0;
  names.forEach((name, c) => {
    const members = cut.slice(offset, offset + sizes[c]!).sort((a, b) => a - b);
    offset += sizes[c]!;
    const report = datanet.addContribution({
      contributor: options.identities === 'address' ? syntheticAddress(name) : name,
      licence: 'CC-BY-SA-3.0',
      source: `${MNIST_PACKAGE}@${version}: MNIST digits (LeCun, Cortes & Burges), ${partition} share ${c + 1} of ${names.length}, seed ${String(seed)}`,
      timestamp: '1998-11-01T00:00:00.000Z',
      rows: members.map((k) => train[k]!.row),
    });
    report.accepted.forEach((id, j) => {
      const item = train[members[report.acceptedIndices[j]!]!]!;
      if (item.flipped) {
        flippedRowIds.push(id);
        trueLabels[id] = item.digit;
      }
    });
    reports.push(report);
  });
  return { datanet, reports, test, groundTruth: { flippedRowIds, trueLabels } };
}
