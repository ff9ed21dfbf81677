/** Shared helpers for the datanet tests (not a test file). */
import { shuffle } from '../../src/core/index.js';

export * from '../../src/datanet/index.js';

/** A seeded reordering, for order-independence properties. */
export function shuffleContributions<T>(items: readonly T[], seed: number): T[] {
  return shuffle(items, seed);
}
