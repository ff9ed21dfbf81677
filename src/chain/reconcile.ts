/**
 * Re-reads the registry for every confirmed item of a publisher queue and sends back to `pending` each one whose
 * record is gone — what a reorg deeper than the confirmation depth, or a node restarted from an older state, removes.
 * `process` runs it first by default, so a re-processed queue re-sends exactly what the chain lost.
 */
import type { QueueEvent, PublisherQueue, QueueItem } from './publisher-queue.js';
import { queueJobMatches, queueRecordKey } from './publisher-queue.js';
import { readRecord } from './get-record.js';
import type { RetryOptions } from './retry.js';
import type { RegistryClient } from './send-transaction.js';

export interface ReconcileOptions {
  retry?: RetryOptions;
  /** Called with a `requeued` event (reason `reorged`) for each item sent back to pending. */
  onEvent?: (event: QueueEvent) => void | Promise<void>;
}

export interface ReconcileResult {
  /** Confirmed items read. */
  checked: number;
  /** Items whose record was gone, now pending again. */
  requeued: QueueItem[];
  /** Confirmed items whose key now holds different content (someone else's record after a reorg): left as they are. */
  conflicts: QueueItem[];
}

/**
 * Checks every confirmed item against the registry (at the latest block) and reopens the ones whose record is missing.
 * Safe to run from several processes at once: an item is reopened only if it is still `confirmed` under the lock.
 *
 * @example
 * ```ts
 * import { reconcile, type RegistryClient, type PublisherQueue } from 'provenant/chain';
 * declare const client: RegistryClient;
 * declare const queue: PublisherQueue;
 * const { requeued } = await reconcile(client, queue);
 * if (requeued.length) await queue.process(client, { confirmations: 3 }); // re-sends them
 * ```
 */
export async function reconcile(client: RegistryClient, queue: PublisherQueue, options: ReconcileOptions = {}): Promise<ReconcileResult> {
  const result: ReconcileResult = { checked: 0, requeued: [], conflicts: [] };
  for (const item of queue.items()) {
    if (item.state !== 'confirmed') continue;
    result.checked++;
    const record = await readRecord(client, { ...queueRecordKey(item.job), address: queue.registry, retry: options.retry });
    if (record && queueJobMatches(item.job, record)) continue;
    if (record) {
      result.conflicts.push(item);
      continue;
    }
    const reopened = queue.reopen(item.id, ['confirmed'], 'reorged');
    if (reopened) {
      result.requeued.push(reopened);
      await options.onEvent?.({ type: 'requeued', item: structuredClone(reopened), reason: 'reorged' });
    }
  }
  return result;
}
