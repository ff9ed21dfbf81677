/**
 * Retry with exponential backoff for RPC calls. Deterministic (no jitter), so a test can predict every delay; a
 * publisher fleet that needs jitter can pass its own `delay`.
 */
import { isRetryableRpcError } from './chain-error.js';

export interface RetryOptions {
  /** Further attempts after the first. Default 4. */
  retries?: number;
  /** Delay before the first retry, doubled each time. Default 250 ms. */
  baseDelayMs?: number;
  /** Cap on one delay. Default 8,000 ms. */
  maxDelayMs?: number;
  /** Which errors to retry. Default: `isRetryableRpcError` (transport failures, rate limits; never reverts). */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Called before each retry (for logs). */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * The delay in milliseconds before retry `attempt` (1-based): min(maxDelayMs, baseDelayMs · 2^(attempt−1)), defaults
 * 250 ms and 8,000 ms. No jitter, so a schedule is reproducible.
 *
 * @example
 * ```ts
 * import { backoffDelay } from 'provenant/chain';
 *
 * backoffDelay(1);                       // 250
 * backoffDelay(3);                       // 1000
 * backoffDelay(10);                      // 8000 (capped)
 * backoffDelay(2, { baseDelayMs: 100 }); // 200
 * ```
 */
export function backoffDelay(attempt: number, options: RetryOptions = {}): number {
  const base = options.baseDelayMs ?? 250;
  const max = options.maxDelayMs ?? 8_000;
  return Math.min(max, base * 2 ** (attempt - 1));
}

/**
 * Runs `fn` until it succeeds, a non-retryable error occurs, or the retries are spent (then the last error is thrown).
 *
 * @example
 * ```ts
 * import { createPublicClient, http } from 'viem';
 * import { withRetry } from 'provenant/chain';
 * const client = createPublicClient({ transport: http('http://127.0.0.1:8545') });
 * const block = await withRetry(() => client.getBlockNumber(), { retries: 3 }); // bigint
 * ```
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const retries = options.retries ?? 4;
  const shouldRetry = options.shouldRetry ?? isRetryableRpcError;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= retries || !shouldRetry(error, attempt + 1)) throw error;
      const delay = backoffDelay(attempt + 1, options);
      options.onRetry?.(error, attempt + 1, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
