/**
 * Bounded selection of the k largest (score, index) pairs in one pass, for streaming top-k proponents/opponents over
 * score tiles: O(n log k) time and O(k) memory per query. Ties go to the smaller row index, so results are deterministic.
 */

export interface ScoredRow {
  /** Row index in the training set (feature-store order). */
  index: number;
  score: number;
}

/** A min-heap of the best k seen so far, keyed by (score, −index). `sign` −1 keeps the k smallest instead. */
export class TopK {
  private readonly scores: Float64Array;
  private readonly indices: Int32Array;
  private size = 0;

  constructor(
    readonly k: number,
    private readonly sign: 1 | -1 = 1,
  ) {
    this.scores = new Float64Array(k);
    this.indices = new Int32Array(k);
  }

  /** True when (a, ia) ranks below (b, ib): a smaller key, or an equal key with a larger index. */
  private below(a: number, ia: number, b: number, ib: number): boolean {
    return a < b || (a === b && ia > ib);
  }

  /** Offers a row; `score` is the raw score (the sign is applied internally). */
  push(index: number, score: number): void {
    if (this.k === 0) return;
    const key = this.sign * score;
    if (this.size < this.k) {
      let i = this.size++;
      this.scores[i] = key;
      this.indices[i] = index;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.below(this.scores[i]!, this.indices[i]!, this.scores[parent]!, this.indices[parent]!)) break;
        this.swap(i, parent);
        i = parent;
      }
      return;
    }
    if (!this.below(this.scores[0]!, this.indices[0]!, key, index)) return;
    this.scores[0] = key;
    this.indices[0] = index;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.size && this.below(this.scores[l]!, this.indices[l]!, this.scores[m]!, this.indices[m]!)) m = l;
      if (r < this.size && this.below(this.scores[r]!, this.indices[r]!, this.scores[m]!, this.indices[m]!)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }

  /** The kept rows, best first. */
  result(): ScoredRow[] {
    const out: ScoredRow[] = [];
    for (let i = 0; i < this.size; i++) out.push({ index: this.indices[i]!, score: this.sign * this.scores[i]! });
    return out.sort((a, b) => this.sign * (b.score - a.score) || a.index - b.index);
  }

  private swap(a: number, b: number): void {
    const s = this.scores[a]!;
    this.scores[a] = this.scores[b]!;
    this.scores[b] = s;
    const t = this.indices[a]!;
    this.indices[a] = this.indices[b]!;
    this.indices[b] = t;
  }
}
