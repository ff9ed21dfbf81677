/**
 * A resumable publisher queue persisted to one JSON file, safe for several processes. Each item walks
 *
 *   pending ──sign──▶ signed (tx hash + signed bytes on disk) ──broadcast──▶ sent ──record read at depth──▶ confirmed
 *      ▲                                                                       │  └─ revert ─▶ failed ──retry()──┐
 *      └──── replaced / nonce gap / dropped / reorged (reconcile) ◀────────────┘                                 │
 *      └─────────────────────────────────────────────────────────────────────────────────────────────────────────┘
 *
 * Guarantees:
 * - **Confirmed means on chain.** An item is `confirmed` only when the registry returns its record (same content) at
 *   the head and `confirmations − 1` blocks below it. A receipt is never enough: a same-nonce replacement's receipt,
 *   a receipt from a contract that is not the registry, or a block a reorg removes all leave the item unconfirmed.
 * - **Reorgs heal.** `process` first runs `reconcile` (also exported): confirmed items whose record a reorg removed go
 *   back to `pending` and are sent again.
 * - **No stall on a nonce gap.** A signed transaction whose nonce is above the account's next nonce and that no node
 *   holds (a node restarted from an older state) is dropped and the job re-signed at the right nonce; one whose nonce
 *   another transaction took (a replacement) is re-sent after the registry is checked.
 * - **Several processes, one file.** Every change is read-modify-write under a file lock (`file-lock.ts`) with an atomic
 *   rename; a process claims an item (a lease: its pid, host and expiry) before sending, so two processes never send
 *   the same job, and a dead process's claim is taken over.
 * - **Crash-safe, duplicate-free.** The file is rewritten (write, fsync, rename) *before* each step's effect can be
 *   lost: killed after signing, the same signed bytes (same nonce, same hash) are broadcast again; before anything is
 *   sent the registry is read, and the registry is write-once anyway.
 * - **Failed items can be retried** (`retry()`), e.g. CHAIN_UNAUTHORIZED ones after `setPublisher`.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  BaseError,
  encodeFunctionData,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  type Address,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import { getBlock, getTransaction, getTransactionCount, getTransactionReceipt } from 'viem/actions';
import { assertArgument, isHex, isProvenantError, ProvenantError } from '../core/index.js';
import { evaluationId, modelId } from './attribution-record.js';
import { toChainError } from './chain-error.js';
import { attributionRegistryAbi } from './contracts/attribution-registry.js';
import { processAlive, withFileLock } from './file-lock.js';
import { readRecord, type RecordKey, type RegistryRecord } from './get-record.js';
import { assertRegistry, readRecordAtDepth } from './record-at-depth.js';
import { reconcile, type ReconcileResult } from './reconcile.js';
import { withRetry } from './retry.js';
import {
  broadcastRawTransaction,
  explainRevertedReceipt,
  resolveAccount,
  signAndBroadcast,
  simulateRegistryWrite,
  type RegistryClient,
  type SignedTransactionInfo,
  type WriteOptions,
} from './send-transaction.js';

/** A publish job in JSON-safe form (integers as decimal strings). */
export type QueueJob =
  | { kind: 'snapshot'; datanetId: Hex; version: string; root: Hex; rowCount: string; uri: string }
  | { kind: 'model'; baseHash: Hex; adapterHash: Hex; snapshotRoot: Hex; configHash: Hex }
  | { kind: 'evaluation'; modelId: Hex; summaryHash: Hex; uri: string }
  | { kind: 'attributionBatch'; batchId: Hex; root: Hex; recordCount: string; modelRef: Hex };

export type QueueItemState = 'pending' | 'signed' | 'sent' | 'confirmed' | 'failed';

/** Why an item went back to `pending`. */
export type RequeueReason = 'nonce-consumed' | 'nonce-gap' | 'dropped' | 'reorged' | 'retry';

/** A process's lease on an item while it sends and waits for it. */
export interface QueueClaim {
  owner: string;
  pid: number;
  host: string;
  /** ISO time; renewed while the owner works on the item. */
  expiresAt: string;
}

export interface QueueItem {
  /** `<kind>:<record key>`; enqueueing the same id twice is a no-op. */
  id: string;
  job: QueueJob;
  state: QueueItemState;
  txHash?: Hex;
  /** Signed transaction bytes (local accounts), kept until confirmed so a resume can re-broadcast them. */
  rawTx?: Hex;
  nonce?: number;
  /** The sending account of `txHash`. */
  from?: Address;
  /** Block of the transaction that wrote the record, when known. */
  blockNumber?: string;
  /** The block at confirmation depth (head − confirmations + 1) at which the registry returned the record. */
  confirmedAtBlock?: string;
  /** `transaction` when our transaction wrote it; `already-on-chain` when the record was found without (or not by) ours. */
  confirmedBy?: 'transaction' | 'already-on-chain';
  error?: { code: string; message: string; errorName?: string };
  /** Transactions signed for this item so far. */
  attempts?: number;
  /** Times it went back to pending, and the last reason. */
  requeues?: number;
  lastRequeue?: RequeueReason;
  claim?: QueueClaim;
  updatedAt: string;
}

export interface QueueFile {
  format: 'provenant-publisher-queue/v1';
  registry: Address;
  items: QueueItem[];
}

export type QueueEvent =
  | { type: 'signed' | 'sent' | 'confirmed' | 'failed' | 'retried'; item: QueueItem }
  /** Back to pending, with the reason (a replacement took the nonce, a nonce gap, a reorg removed the record, …). */
  | { type: 'requeued'; item: QueueItem; reason: RequeueReason }
  /** The node accepted the transaction; fired before `sent` is written (a crash here leaves `signed` on disk). */
  | { type: 'broadcast'; item: QueueItem };

export interface ProcessQueueOptions extends Pick<WriteOptions, 'account' | 'confirmations' | 'retry' | 'pollingInterval' | 'receiptTimeoutMs' | 'gas'> {
  /** Observe every transition (logging, metrics, tests). Awaited. */
  onEvent?: (event: QueueEvent) => void | Promise<void>;
  /** Re-read confirmed items first and re-send what a reorg removed (`reconcile`). Default true. */
  reconcile?: boolean;
  /** Transactions one item may be sent with in one `process` call before giving up (state kept). Default 8. */
  maxSendsPerItem?: number;
  /** Length of a claim on an item; renewed while working on it. Default 60,000 ms. */
  claimMs?: number;
}

export interface ProcessQueueResult {
  confirmed: number;
  failed: number;
  /** Items confirmed in this call without (or not by) our transaction: already on chain. */
  alreadyOnChain: number;
  /** Items sent back to pending in this call (reorg, replacement, nonce gap) — each was then sent again. */
  requeued: number;
  /** Unfinished items left alone because another live process holds them. */
  claimedElsewhere: number;
}

export interface RetryQueueOptions {
  /** Only these item ids. Default: every failed item. */
  ids?: readonly string[];
  /** Only items failed with one of these codes (e.g. `['CHAIN_UNAUTHORIZED']`). */
  codes?: readonly string[];
}

export interface PublisherQueue {
  readonly path: string;
  readonly registry: Address;
  /** A copy of the items, in order, as on disk now. */
  items(): QueueItem[];
  /** Adds a job (persisted at once); returns the existing item when the same id is queued already. */
  enqueue(job: QueueJob): QueueItem;
  /** Works through every unfinished item; throws CHAIN_RPC_FAILED (state kept) when the node stays unreachable. */
  process(client: RegistryClient, options?: ProcessQueueOptions): Promise<ProcessQueueResult>;
  /** Puts failed items back to `pending` (e.g. CHAIN_UNAUTHORIZED after `setPublisher`); returns them. */
  retry(options?: RetryQueueOptions): QueueItem[];
  /**
   * Moves one item back to `pending` (clearing its transaction) if it is in one of `fromStates`; returns it, or null
   * when it was not (another process got there first). Used by `reconcile` and `retry`.
   */
  reopen(id: string, fromStates: readonly QueueItemState[], reason: RequeueReason): QueueItem | null;
}

/**
 * The item id of a queue job: its kind and on-chain key (`snapshot:<datanetId>:<version>`, `model:<modelId>`,
 * `evaluation:<evaluationId>`, `attributionBatch:<batchId>`, hex lower-case), so enqueueing the same record twice is a
 * no-op.
 *
 * @example
 * ```ts
 * import { queueItemId } from 'provenant/chain';
 * import type { Hex } from 'provenant';
 *
 * declare const batchId: Hex, root: Hex, modelRef: Hex;
 * queueItemId({ kind: 'attributionBatch', batchId, root, recordCount: '20', modelRef }); // 'attributionBatch:0x…'
 * ```
 */
export function queueItemId(job: QueueJob): string {
  switch (job.kind) {
    case 'snapshot':
      return `snapshot:${job.datanetId.toLowerCase()}:${job.version}`;
    case 'model':
      return `model:${modelId(job)}`;
    case 'evaluation':
      return `evaluation:${evaluationId(job.modelId, job.summaryHash)}`;
    case 'attributionBatch':
      return `attributionBatch:${job.batchId.toLowerCase()}`;
  }
}

/**
 * The registry key a job writes.
 *
 * @example
 * ```ts
 * import { queueRecordKey, readRecord, type QueueItem, type RegistryClient } from 'provenant/chain';
 * import { type Hex } from 'provenant';
 * declare const client: RegistryClient;
 * declare const address: Hex;
 * declare const item: QueueItem;
 * await readRecord(client, { ...queueRecordKey(item.job), address }); // the record, or null when not yet on chain
 * ```
 */
export function queueRecordKey(job: QueueJob): RecordKey {
  switch (job.kind) {
    case 'snapshot':
      return { kind: 'snapshot', datanetId: job.datanetId, version: BigInt(job.version) };
    case 'model':
      return { kind: 'model', modelId: modelId(job) };
    case 'evaluation':
      return { kind: 'evaluation', evaluationId: evaluationId(job.modelId, job.summaryHash) };
    case 'attributionBatch':
      return { kind: 'attributionBatch', batchId: job.batchId };
  }
}

/**
 * True when the registry's record under the job's key carries the job's content.
 *
 * @example
 * ```ts
 * import { queueJobMatches, queueRecordKey, readRecord, type RegistryClient, type QueueJob } from 'provenant/chain';
 * import { type Hex } from 'provenant';
 * declare const client: RegistryClient;
 * declare const job: QueueJob;
 * declare const address: Hex;
 * const record = await readRecord(client, { ...queueRecordKey(job), address });
 * const done = record !== null && queueJobMatches(job, record);
 * ```
 */
export function queueJobMatches(job: QueueJob, record: RegistryRecord): boolean {
  const eq = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
  if (job.kind === 'snapshot' && record.kind === 'snapshot') return eq(record.root, job.root) && record.rowCount === BigInt(job.rowCount) && record.uri === job.uri;
  if (job.kind === 'model' && record.kind === 'model') return true;
  if (job.kind === 'evaluation' && record.kind === 'evaluation') return record.uri === job.uri;
  if (job.kind === 'attributionBatch' && record.kind === 'attributionBatch') {
    return eq(record.root, job.root) && record.recordCount === BigInt(job.recordCount) && eq(record.modelRef, job.modelRef);
  }
  return false;
}

function call(job: QueueJob): { functionName: string; args: readonly unknown[] } {
  switch (job.kind) {
    case 'snapshot':
      return { functionName: 'publishSnapshot', args: [job.datanetId, BigInt(job.version), job.root, BigInt(job.rowCount), job.uri] };
    case 'model':
      return { functionName: 'publishModel', args: [job.baseHash, job.adapterHash, job.snapshotRoot, job.configHash] };
    case 'evaluation':
      return { functionName: 'publishEvaluation', args: [job.modelId, job.summaryHash, job.uri] };
    case 'attributionBatch':
      return { functionName: 'publishAttributionBatch', args: [job.batchId, job.root, BigInt(job.recordCount), job.modelRef] };
  }
}

const HEX32_FIELDS = ['datanetId', 'root', 'baseHash', 'adapterHash', 'snapshotRoot', 'configHash', 'modelId', 'summaryHash', 'batchId', 'modelRef'];

function validateJob(job: QueueJob): void {
  assertArgument(['snapshot', 'model', 'evaluation', 'attributionBatch'].includes(job?.kind), 'job.kind', 'unknown job kind', job?.kind);
  for (const [key, value] of Object.entries(job)) {
    if (HEX32_FIELDS.includes(key)) assertArgument(isHex(value, 32), `job.${key}`, 'must be bytes32', value);
  }
  for (const key of ['version', 'rowCount', 'recordCount'] as const) {
    if (key in job) assertArgument(/^\d+$/.test((job as Record<string, string>)[key]!), `job.${key}`, 'must be a decimal string', (job as Record<string, string>)[key]);
  }
}


/** Atomic replace: a reader (or a resumed process) sees the old file or the new one, never half of one. */
function writeAtomic(path: string, text: string): void {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

function loadQueueFile(path: string, registry: Address): QueueFile {
  let parsed: QueueFile;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as QueueFile;
  } catch (error) {
    throw new ProvenantError('CHAIN_QUEUE_INVALID', `Publisher queue file ${path} is not valid JSON.`, { cause: error, data: { path } });
  }
  if (parsed?.format !== 'provenant-publisher-queue/v1' || !Array.isArray(parsed.items)) {
    throw new ProvenantError('CHAIN_QUEUE_INVALID', `Publisher queue file ${path} has an unknown format.`, {
      metaMessages: [`format: ${String((parsed as { format?: unknown })?.format)}`],
      data: { path },
    });
  }
  if (String(parsed.registry).toLowerCase() !== registry.toLowerCase()) {
    throw new ProvenantError('CHAIN_QUEUE_INVALID', 'Publisher queue file belongs to another registry.', {
      metaMessages: [`file: ${isHex(parsed.registry, 20) ? parsed.registry : '(not an address)'}`, `given: ${registry}`],
      data: { path },
    });
  }
  return parsed;
}

const UNFINISHED: readonly QueueItemState[] = ['pending', 'signed', 'sent'];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Opens (or creates) the queue persisted at `path` for the registry at `registry`. Several processes may open the same
 * file: each change is made under `<path>.lock`, and each item is sent by one process at a time.
 *
 * @example
 * ```ts
 * import { openPublisherQueue, type RegistryClient } from 'provenant/chain';
 * import { type Hex } from 'provenant';
 * declare const address: Hex;
 * declare const batchId: Hex;
 * declare const root: Hex;
 * declare const modelRef: Hex;
 * declare const client: RegistryClient;
 * const queue = openPublisherQueue('./publish-queue.json', address);
 * queue.enqueue({ kind: 'attributionBatch', batchId, root, recordCount: '1200', modelRef });
 * await queue.process(client, { confirmations: 2 }); // resumes where a crashed run stopped; re-sends what a reorg removed
 * ```
 */
export function openPublisherQueue(path: string, registry: Address): PublisherQueue {
  assertArgument(isHex(registry, 20), 'registry', 'must be the registry address', registry);
  const owner = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  const locked = <T>(fn: (file: QueueFile) => T, write: boolean): T =>
    withFileLock(path, () => {
      const file: QueueFile = existsSync(path) ? loadQueueFile(path, registry) : { format: 'provenant-publisher-queue/v1', registry, items: [] };
      const result = fn(file);
      if (write) writeAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
      return result;
    });
  locked(() => undefined, !existsSync(path));

  const claimLive = (claim: QueueClaim | undefined, now: number): boolean => {
    if (!claim || claim.owner === owner) return false;
    if (Date.parse(claim.expiresAt) < now) return false;
    return !(claim.host === hostname() && !processAlive(claim.pid));
  };

  /** Read-modify-write of one item under the lock; returns a copy of it after the change. */
  const mutate = (id: string, change: (item: QueueItem) => void): QueueItem =>
    locked((file) => {
      const item = file.items.find((i) => i.id === id);
      if (!item) throw new ProvenantError('CHAIN_QUEUE_INVALID', `Item ${id} vanished from ${path}.`, { data: { id } });
      change(item);
      item.updatedAt = new Date().toISOString();
      return structuredClone(item);
    }, true);

  const patch = (item: QueueItem, values: Partial<QueueItem>, claimMs: number): void => {
    Object.assign(item, values);
    for (const key of Object.keys(values) as (keyof QueueItem)[]) if (values[key] === undefined) delete item[key];
    if (item.claim?.owner === owner) item.claim.expiresAt = new Date(Date.now() + claimMs).toISOString();
  };

  const reopen = (id: string, fromStates: readonly QueueItemState[], reason: RequeueReason): QueueItem | null =>
    locked((file) => {
      const item = file.items.find((i) => i.id === id);
      if (!item || !fromStates.includes(item.state)) return null;
      for (const key of ['txHash', 'rawTx', 'nonce', 'from', 'blockNumber', 'confirmedAtBlock', 'confirmedBy', 'error'] as const) delete item[key];
      item.state = 'pending';
      item.requeues = (item.requeues ?? 0) + 1;
      item.lastRequeue = reason;
      item.updatedAt = new Date().toISOString();
      return structuredClone(item);
    }, true);

  const queue: PublisherQueue = {
    path,
    registry,
    items: () => locked((file) => structuredClone(file.items), false),
    enqueue(job) {
      validateJob(job);
      const id = queueItemId(job);
      return locked((file) => {
        const existing = file.items.find((i) => i.id === id);
        if (existing) {
          if (JSON.stringify(existing.job) !== JSON.stringify(job)) {
            throw new ProvenantError('CHAIN_QUEUE_INVALID', `A different job with id ${id} is already queued.`, { data: { id } });
          }
          return structuredClone(existing);
        }
        const item: QueueItem = { id, job: structuredClone(job), state: 'pending', updatedAt: new Date().toISOString() };
        file.items.push(item);
        return structuredClone(item);
      }, true);
    },
    retry(options = {}) {
      const wanted = locked(
        (file) =>
          file.items
            .filter((i) => i.state === 'failed')
            .filter((i) => !options.ids || options.ids.includes(i.id))
            .filter((i) => !options.codes || (i.error !== undefined && options.codes.includes(i.error.code)))
            .map((i) => i.id),
        false,
      );
      return wanted.map((id) => reopen(id, ['failed'], 'retry')).filter((i): i is QueueItem => i !== null);
    },
    reopen,
    async process(client, options = {}) {
      const action = 'publisherQueue';
      const account = resolveAccount(client, options.account, action);
      const confirmations = options.confirmations ?? 1;
      assertArgument(Number.isSafeInteger(confirmations) && confirmations >= 1, 'confirmations', 'must be an integer ≥ 1', confirmations);
      const claimMs = options.claimMs ?? 60_000;
      const maxSends = options.maxSendsPerItem ?? 8;
      const pollMs = options.pollingInterval ?? client.pollingInterval ?? 1_000;
      const result: ProcessQueueResult = { confirmed: 0, failed: 0, alreadyOnChain: 0, requeued: 0, claimedElsewhere: 0 };
      const emit = async (event: QueueEvent): Promise<void> => options.onEvent?.(event);

      // Nothing is sent to an address that is not a registry (a contract that accepts any call would "succeed").
      await assertRegistry(client, registry, { retry: options.retry });
      if (options.reconcile ?? true) {
        const reconciled: ReconcileResult = await reconcile(client, queue, { retry: options.retry, onEvent: options.onEvent });
        result.requeued += reconciled.requeued.length;
      }

      const claimNext = (skip: Set<string>): QueueItem | null =>
        locked((file) => {
          const now = Date.now();
          const item = file.items.find((i) => UNFINISHED.includes(i.state) && !skip.has(i.id) && !claimLive(i.claim, now));
          if (!item) return null;
          item.claim = { owner, pid: process.pid, host: hostname(), expiresAt: new Date(now + claimMs).toISOString() };
          return structuredClone(item);
        }, true);
      const release = (id: string): void =>
        void locked((file) => {
          const item = file.items.find((i) => i.id === id);
          if (item?.claim?.owner === owner) delete item.claim;
        }, true);

      const processItem = async (start: QueueItem): Promise<void> => {
        let item = start;
        const update = (values: Partial<QueueItem>): QueueItem =>
          (item = mutate(item.id, (i) => {
            // Our lease ran out and another process took the item over: stop touching it (it finishes it).
            if (claimLive(i.claim, Date.now())) {
              throw new ProvenantError('CHAIN_QUEUE_INVALID', `Item ${i.id} was taken over by another process.`, { data: { id: i.id, claimLost: true } });
            }
            patch(i, values, claimMs);
          }));
        let renewedAt = Date.now();
        /** Keeps our claim alive while waiting, without rewriting the file on every poll. */
        const renewClaim = (): void => {
          if (Date.now() - renewedAt < claimMs / 3) return;
          renewedAt = Date.now();
          update({});
        };
        const key = { ...queueRecordKey(item.job), address: registry, retry: options.retry };
        const { functionName, args } = call(item.job);

        const confirm = async (by: 'transaction' | 'already-on-chain', depthBlock: bigint, receipt: TransactionReceipt | null): Promise<void> => {
          update({
            state: 'confirmed',
            confirmedBy: by,
            confirmedAtBlock: depthBlock.toString(),
            blockNumber: receipt?.blockNumber.toString(),
            rawTx: undefined,
            error: undefined,
          });
          result.confirmed++;
          if (by === 'already-on-chain') result.alreadyOnChain++;
          await emit({ type: 'confirmed', item: structuredClone(item) });
        };
        const fail = async (error: { code: string; message: string; errorName?: string }): Promise<void> => {
          update({ state: 'failed', error, rawTx: undefined });
          result.failed++;
          await emit({ type: 'failed', item: structuredClone(item) });
        };
        const requeue = async (reason: RequeueReason): Promise<void> => {
          const reopened = reopen(item.id, UNFINISHED, reason);
          if (reopened) item = reopened;
          result.requeued++;
          await emit({ type: 'requeued', item: structuredClone(item), reason });
        };
        /** null only when the node says "not found"; a transport failure is retried, then thrown (never read as absence). */
        const notFound = <T>(read: () => Promise<T>): Promise<T | null> =>
          withRetry(read, options.retry).catch((error: unknown) => {
            if (error instanceof BaseError && error.walk((e) => e instanceof TransactionReceiptNotFoundError || e instanceof TransactionNotFoundError)) return null;
            throw toChainError(error, { action, address: registry, txHash: item.txHash });
          });
        const receiptOf = (hash: Hex | undefined): Promise<TransactionReceipt | null> =>
          hash ? notFound(() => getTransactionReceipt(client, { hash })) : Promise.resolve(null);

        /**
         * The registry decides: `confirmed` at depth → done; present but shallow → `wait`; another record under the key
         * → failed (conflict); absent → `absent`.
         */
        const consultRegistry = async (): Promise<'done' | 'wait' | 'absent'> => {
          const depth = await readRecordAtDepth(client, { ...key, confirmations });
          if (depth.status === 'absent') return 'absent';
          if (!queueJobMatches(item.job, depth.record)) {
            await fail({ code: 'CHAIN_RECORD_CONFLICT', message: 'The key is on chain with different content.' });
            return 'done';
          }
          if (depth.status === 'shallow') return 'wait';
          const receipt = await receiptOf(item.txHash);
          await confirm(receipt?.status === 'success' ? 'transaction' : 'already-on-chain', depth.depthBlock, receipt);
          return 'done';
        };

        /** A revert ends the item as failed — unless the registry has the record after all (`…Exists`: our earlier attempt, or another publisher). */
        const failOnRevert = async (error: unknown): Promise<'done' | 'wait'> => {
          if (!isProvenantError(error, 'CHAIN_REVERTED') && !isProvenantError(error, 'CHAIN_UNAUTHORIZED')) throw error;
          if (error.code === 'CHAIN_REVERTED') {
            const verdict = await consultRegistry();
            if (verdict !== 'absent') return verdict;
          }
          await fail({ code: error.code, message: error.shortMessage, errorName: error.data.errorName as string | undefined });
          return 'done';
        };

        /** Sends the job once: simulate (decoded revert), sign, persist, broadcast. */
        const send = async (): Promise<'sent' | 'done' | 'wait'> => {
          try {
            await simulateRegistryWrite(client, { address: registry, functionName, args, account, retry: options.retry, action });
            const data = encodeFunctionData({ abi: attributionRegistryAbi, functionName, args } as never);
            await signAndBroadcast(client, {
              account,
              to: registry,
              data,
              action,
              retry: options.retry,
              gas: options.gas,
              onSigned: async (tx: SignedTransactionInfo) => {
                update({ state: 'signed', txHash: tx.hash, rawTx: tx.raw, nonce: tx.nonce, from: account.address, attempts: (item.attempts ?? 0) + 1 });
                await emit({ type: 'signed', item: structuredClone(item) });
              },
              onSent: async (tx: SignedTransactionInfo) => {
                await emit({ type: 'broadcast', item: structuredClone(item) });
                // Node-signed (JSON-RPC) accounts learn their hash only here.
                update({ state: 'sent', txHash: tx.hash, nonce: tx.nonce, from: account.address, ...(tx.raw ? {} : { attempts: (item.attempts ?? 0) + 1 }) });
                await emit({ type: 'sent', item: structuredClone(item) });
              },
            });
            return 'sent';
          } catch (error) {
            return failOnRevert(error);
          }
        };

        /**
         * Waits for a signed/sent item until the registry returns its record at depth, healing what can go wrong on
         * the way: a revert (decoded), a same-nonce replacement, a nonce gap, a transaction the node forgot.
         */
        const settle = async (): Promise<'done' | 'resend'> => {
          const deadline = Date.now() + (options.receiptTimeoutMs ?? 120_000);
          for (;;) {
            const verdict = await consultRegistry();
            if (verdict === 'done') return 'done';
            if (verdict === 'absent') {
              const hash = item.txHash!;
              const receipt = await receiptOf(hash);
              if (receipt?.status === 'reverted') {
                if ((await failOnRevert(await explainRevertedReceipt(client, receipt, action))) === 'done') return 'done';
              } else if (receipt) {
                // Our call succeeded, yet no record at the head: a reorg under way, or the address is not a registry.
                const atBlock = await readRecord(client, { ...key, blockNumber: receipt.blockNumber });
                const block = atBlock ? null : await getBlock(client, { blockNumber: receipt.blockNumber }).catch(() => null);
                if (!atBlock && block?.hash === receipt.blockHash) {
                  await fail({ code: 'CHAIN_NOT_A_REGISTRY', message: `The transaction succeeded but ${registry} does not return the record it should have written.` });
                  return 'done';
                }
              } else {
                const from = item.from ?? account.address;
                const nonce = item.nonce!;
                const count = (blockTag: 'latest' | 'pending'): Promise<number> =>
                  withRetry(() => getTransactionCount(client, { address: from, blockTag }), options.retry).catch((error: unknown) => {
                    throw toChainError(error, { action, address: registry });
                  });
                if ((await count('latest')) > nonce) {
                  // Another transaction took our nonce (a replacement, a cancel, another process): unless ours was
                  // mined just now, send again — after the registry is read once more in the pending path.
                  if (await receiptOf(hash)) continue;
                  // A "speed up" of the same call may have written the record meanwhile: then there is nothing to resend.
                  const again = await consultRegistry();
                  if (again === 'done') return 'done';
                  if (again === 'wait') continue;
                  await requeue('nonce-consumed');
                  return 'resend';
                }
                const known = await notFound(() => getTransaction(client, { hash }));
                if (!known) {
                  if (nonce > (await count('pending'))) {
                    // Nonces below ours are missing (a node restarted from an older state): ours can never be mined.
                    await requeue('nonce-gap');
                    return 'resend';
                  }
                  if (!item.rawTx) {
                    await requeue('dropped');
                    return 'resend';
                  }
                  try {
                    await broadcastRawTransaction(client, item.rawTx, options.retry);
                  } catch (error) {
                    if (!(isProvenantError(error) && error.data.nonceConsumed)) throw toChainError(error, { action, address: registry, txHash: hash });
                    continue; // the next round sees the nonce taken
                  }
                }
                if (item.state === 'signed') {
                  await emit({ type: 'broadcast', item: structuredClone(item) });
                  update({ state: 'sent' });
                  await emit({ type: 'sent', item: structuredClone(item) });
                }
              }
            }
            if (Date.now() > deadline) {
              throw new ProvenantError('CHAIN_RPC_FAILED', `${action}: item ${item.id} was not confirmed within ${options.receiptTimeoutMs ?? 120_000} ms.`, {
                metaMessages: [`transaction: ${item.txHash}`, `state: ${item.state}`],
                details: 'Its state is kept; process the queue again later (mine blocks, or wait for the chain).',
                data: { action, txHash: item.txHash, retryable: true },
              });
            }
            renewClaim();
            await sleep(pollMs);
          }
        };

        for (let sends = 0; ; ) {
          if (item.state === 'pending') {
            // Never send what is already there.
            const verdict = await consultRegistry();
            if (verdict === 'done') return;
            if (verdict === 'absent') {
              if (sends >= maxSends) {
                throw new ProvenantError('CHAIN_RPC_FAILED', `${action}: item ${item.id} was sent ${sends} times in this call without reaching the registry.`, {
                  details: 'Its transactions keep being replaced or dropped; it stays pending for the next call.',
                  data: { action, id: item.id, retryable: true },
                });
              }
              sends++;
              const outcome = await send();
              if (outcome === 'done') return;
              if (outcome === 'wait' && item.state === 'pending') {
                // `…Exists` reverted in estimation: the record is there but shallow; wait for depth.
                const waited = await waitForDepth();
                if (waited === 'done') return;
                continue;
              }
            } else {
              const waited = await waitForDepth();
              if (waited === 'done') return;
              continue;
            }
          }
          if ((await settle()) === 'done') return;
        }

        async function waitForDepth(): Promise<'done' | 'absent'> {
          const deadline = Date.now() + (options.receiptTimeoutMs ?? 120_000);
          for (;;) {
            const verdict = await consultRegistry();
            if (verdict !== 'wait') return verdict === 'done' ? 'done' : 'absent';
            if (Date.now() > deadline) {
              throw new ProvenantError('CHAIN_RPC_FAILED', `${action}: the record of ${item.id} did not reach ${confirmations} confirmations in time.`, {
                data: { action, id: item.id, retryable: true },
              });
            }
            renewClaim();
            await sleep(pollMs);
          }
        }
      };

      const skip = new Set<string>();
      for (;;) {
        const item = claimNext(skip);
        if (!item) break;
        skip.add(item.id);
        try {
          await processItem(item);
        } catch (error) {
          if (!(isProvenantError(error, 'CHAIN_QUEUE_INVALID') && error.data.claimLost)) throw error;
        } finally {
          release(item.id);
        }
      }
      result.claimedElsewhere = locked((file) => file.items.filter((i) => UNFINISHED.includes(i.state) && claimLive(i.claim, Date.now())).length, false);
      return result;
    },
  };
  return queue;
}
