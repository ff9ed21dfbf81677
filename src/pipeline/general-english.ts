/**
 * General English for the retained-ability check: passages from the same public-domain corpora the shipped base model was
 * pretrained on (Moby Dick chapters, State of the Union addresses), split into documents exactly as `scripts/pretrain.ts`
 * split them (a seeded 95 / 5 split of each corpus's documents). Held-out passages were never trained on, so their
 * perplexity measures general ability honestly; training-side passages feed the replay guard.
 */
import { randomSplit, shuffle } from '../core/index.js';
import { importDatasetPackage } from '../datanet/load-package.js';
import { TEXT_SOURCES } from '../datanet/text.js';

export interface GeneralEnglishOptions {
  /** The pretraining seed (the base model's `training.seed`); corpus i is split with seed + i. Default 20261124. */
  pretrainSeed?: number;
  /** Passages wanted from each side. Default 120. */
  count?: number;
  /** Characters per passage. Default 256. */
  chars?: number;
  /** Seed of the passage sample. Default 0. */
  seed?: number;
}

export interface GeneralEnglish {
  /** Passages from held-out documents (never seen in pretraining). */
  heldOut: string[];
  /** Passages from pretraining documents (for replay). */
  train: string[];
}

const normalize = (text: string): string => text.replace(/[ \t]*\n[ \t]*/g, '\n').replace(/\n{3,}/g, '\n\n');

/**
 * Held-out and training-side passages of the base model's pretraining corpora.
 *
 * @example
 * ```ts
 * import { generalEnglish } from 'provenant';
 * const english = await generalEnglish({ count: 24, chars: 128 });
 * english.heldOut.length; // 24 passages never seen in pretraining
 * ```
 */
export async function generalEnglish(options: GeneralEnglishOptions = {}): Promise<GeneralEnglish> {
  const pretrainSeed = options.pretrainSeed ?? 20261124;
  const count = options.count ?? 120;
  const chars = options.chars ?? 256;
  const moby = await importDatasetPackage<() => { text: string }[]>(TEXT_SOURCES['moby-dick'], 'generalEnglish()');
  const sotu = await importDatasetPackage<() => { text: string }[]>(TEXT_SOURCES.sotu, 'generalEnglish()');
  const corpora = [moby().map((c) => c.text), sotu().map((s) => s.text)];
  const passages = { heldOut: [] as string[], train: [] as string[] };
  corpora.forEach((documents, i) => {
    const [trainDocs, heldDocs] = randomSplit(documents.length, [0.95, 0.05], pretrainSeed + i);
    for (const [side, docs] of [['train', trainDocs!], ['heldOut', heldDocs!]] as const) {
      for (const j of docs) {
        const text = normalize(documents[j]!);
        for (let start = 0; start + chars <= text.length; start += chars) passages[side].push(text.slice(start, start + chars));
      }
    }
  });
  const pick = (list: string[], seed: number) => shuffle(list, seed).slice(0, count);
  return { heldOut: pick(passages.heldOut, (options.seed ?? 0) + 1), train: pick(passages.train, (options.seed ?? 0) + 2) };
}
