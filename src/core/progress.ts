/**
 * Progress reporting for long work (snapshots, training, featurization, sweeps). Long functions accept an optional
 * `onProgress` callback; they never print. A callback that throws aborts the work with its own error, which is how a
 * caller cancels.
 */
export interface ProgressEvent {
  /** What is running, e.g. 'snapshot', 'train', 'featurize'. */
  stage: string;
  /** Units done so far and in total (rows, steps, examples). `total` is undefined when unknown (streams). */
  done: number;
  total?: number;
  /** Seconds since the stage started. */
  elapsedSeconds: number;
  /** Estimated seconds left, when `total` is known and some work is done. */
  etaSeconds?: number;
  /** Free-form figures of the stage (loss, lr, rows/s …). */
  metrics?: Record<string, number>;
  message?: string;
}

export type ProgressCallback = (event: ProgressEvent) => void;

/**
 * A reporter for one stage: call `tick(done)`; it calls the callback at most every `intervalMs` (and always for the
 * last unit), filling in elapsed time and ETA.
 *
 * @example
 * ```ts
 * import { createProgressReporter, type ProgressCallback } from 'provenant';
 * declare const onProgress: ProgressCallback;
 * declare const rows: readonly string[];
 * const progress = createProgressReporter('featurize', rows.length, onProgress);
 * rows.forEach((_, i) => progress.tick(i + 1));
 * ```
 */
export function createProgressReporter(
  stage: string,
  total: number | undefined,
  onProgress: ProgressCallback | undefined,
  intervalMs = 200,
): { tick(done: number, metrics?: Record<string, number>, message?: string): void } {
  const start = performance.now();
  let last = -Infinity;
  return {
    tick(done, metrics, message) {
      if (!onProgress) return;
      const now = performance.now();
      const finished = total !== undefined && done >= total;
      if (!finished && now - last < intervalMs) return;
      last = now;
      const elapsedSeconds = (now - start) / 1000;
      const etaSeconds = total !== undefined && done > 0 ? (elapsedSeconds / done) * Math.max(0, total - done) : undefined;
      onProgress({ stage, done, total, elapsedSeconds, etaSeconds, metrics, message });
    },
  };
}
