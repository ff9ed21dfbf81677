/**
 * A resumable publisher queue persisted to one JSON file. Each item walks
 *
 *   pending ──sign──▶ signed (tx hash + signed bytes on disk) ──broadcast──▶ sent ──N confirmations──▶ confirmed
 *                                                                                  └─ revert ─▶ failed
 *
 * and the file is rewritten atomically (write, fsync, rename) at every step, *before* the step's effect can be lost.
 * A process killed anywhere resumes without a duplicate record:
 * - killed after signing (broadcast or not): the same signed bytes are broadcast again — same nonce, same hash — so at
 *   most one of them can ever be mined; the node answers "already known" / "nonce too low" and we wait for that hash;
 * - killed after sending: we wait for the stored hash;
 * - before anything is sent, and whenever a nonce was consumed by some other transaction, the registry is read first:
 *   a record already on chain is marked confirmed without a transaction (the registry is write-once anyway).
 * Items are processed one at a time, in order, so nonces stay sequential.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { Address, Hex } from 'viem';
import { getTransaction, getTransactionReceipt } from 'viem/actions';
import { assertArgument, isHex, isProvenantError, ProvenantError } from '../core/index.js';
import { evaluationId, modelId } from './attribution-record.js';
import { readRecord, type RecordKey, type RegistryRecord } from './get-record.js';
import {
  broadcastRawTransaction,
  waitForConfirmedReceipt,
  writeRegistry,
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

export interface QueueItem {
  /** `<kind>:<record key>`; enqueueing the same id twice is a no-op. */
  id: string;
  job: QueueJob;
  state: QueueItemState;
  txHash?: Hex;
  /** Signed transaction bytes (local accounts), kept until confirmed so a resume can re-broadcast them. */
  rawTx?: Hex;
  nonce?: number;
  blockNumber?: string;
  /** `transaction` when our transaction wrote it; `already-on-chain` when the record was found without sending. */
  confirmedBy?: 'transaction' | 'already-on-chain';
  error?: { code: string; message: string; errorName?: string };
  updatedAt: string;
}

export interface QueueFile {
  format: 'provenant-publisher-queue/v1';
  registry: Address;
  items: QueueItem[];
}

export type QueueEvent =
  | { type: 'signed' | 'sent' | 'confirmed' | 'failed' | 'requeued'; item: QueueItem }
  /** The node accepted the transaction; fired before `sent` is written (a crash here leaves `signed` on disk). */
  | { type: 'broadcast'; item: QueueItem };

export interface ProcessQueueOptions extends Pick<WriteOptions, 'account' | 'confirmations' | 'retry' | 'pollingInterval' | 'receiptTimeoutMs' | 'gas'> {
  /** Observe every transition (logging, metrics, tests). Awaited. */
  onEvent?: (event: QueueEvent) => void | Promise<void>;
}

export interface ProcessQueueResult {
  confirmed: number;
  failed: number;
  /** Items confirmed in this call without sending (already on chain). */
  alreadyOnChain: number;
}

export interface PublisherQueue {
  readonly path: string;
  readonly registry: Address;
  /** A copy of the items, in order. */
  items(): QueueItem[];
  /** Adds a job (persisted at once); returns the existing item when the same id is queued already. */
  enqueue(job: QueueJob): QueueItem;
  /** Works through every unfinished item; throws CHAIN_RPC_FAILED (state kept) when the node stays unreachable. */
  process(client: RegistryClient, options?: ProcessQueueOptions): Promise<ProcessQueueResult>;
}

/** The item id of a job: its kind and on-chain key. */
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

function recordKey(job: QueueJob): RecordKey {
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

function matches(job: QueueJob, record: RegistryRecord): boolean {
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
  const temp = `${path}.${process.pid}.tmp`;
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
  if (parsed.registry.toLowerCase() !== registry.toLowerCase()) {
    throw new ProvenantError('CHAIN_QUEUE_INVALID', 'Publisher queue file belongs to another registry.', {
      metaMessages: [`file: ${parsed.registry}`, `given: ${registry}`],
      data: { path },
    });
  }
  return parsed;
}

/**
 * Opens (or creates) the queue persisted at `path` for the registry at `registry`.
 *
 * @example
 * const queue = openPublisherQueue('./publish-queue.json', address);
 * queue.enqueue({ kind: 'attributionBatch', batchId, root, recordCount: '1200', modelRef });
 * await queue.process(client, { confirmations: 2 }); // resumes where a crashed run stopped
 */
export function openPublisherQueue(path: string, registry: Address): PublisherQueue {
  assertArgument(isHex(registry, 20), 'registry', 'must be the registry address', registry);
  const file: QueueFile = existsSync(path) ? loadQueueFile(path, registry) : { format: 'provenant-publisher-queue/v1', registry, items: [] };
  const save = (): void => writeAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
  if (!existsSync(path)) save();

  const update = (item: QueueItem, patch: Partial<QueueItem>): void => {
    Object.assign(item, patch, { updatedAt: new Date().toISOString() });
    for (const key of Object.keys(patch) as (keyof QueueItem)[]) if (patch[key] === undefined) delete item[key];
    save();
  };

  const processItem = async (client: RegistryClient, item: QueueItem, options: ProcessQueueOptions, result: ProcessQueueResult): Promise<void> => {
    const emit = async (type: QueueEvent['type']): Promise<void> => options.onEvent?.({ type, item: structuredClone(item) } as QueueEvent);
    const key = { ...recordKey(item.job), address: registry, retry: options.retry };
    const onChain = async (): Promise<boolean> => {
      const record = await readRecord(client, key);
      if (!record) return false;
      if (!matches(item.job, record)) {
        update(item, { state: 'failed', error: { code: 'CHAIN_RECORD_CONFLICT', message: 'The key is on chain with different content.' } });
        result.failed++;
        await emit('failed');
        return true;
      }
      update(item, { state: 'confirmed', confirmedBy: item.txHash ? 'transaction' : 'already-on-chain', rawTx: undefined });
      result.confirmed++;
      if (!item.txHash) result.alreadyOnChain++;
      await emit('confirmed');
      return true;
    };
    const requeue = async (): Promise<void> => {
      update(item, { state: 'pending', txHash: undefined, rawTx: undefined, nonce: undefined });
      await emit('requeued');
    };
    /** A revert ends the item as failed — unless the record is on chain after all (our earlier attempt, or another publisher). */
    const failOnRevert = async (error: unknown): Promise<void> => {
      if (!isProvenantError(error, 'CHAIN_REVERTED') && !isProvenantError(error, 'CHAIN_UNAUTHORIZED')) throw error;
      if (error.code === 'CHAIN_REVERTED' && (await onChain())) return;
      update(item, { state: 'failed', error: { code: error.code, message: error.shortMessage, errorName: error.data.errorName as string | undefined } });
      result.failed++;
      await emit('failed');
    };
    const waitAndConfirm = async (hash: Hex): Promise<void> => {
      try {
        const receipt = await waitForConfirmedReceipt(client, hash, { ...options, action: 'publisherQueue', address: registry });
        update(item, { state: 'confirmed', confirmedBy: 'transaction', blockNumber: receipt.blockNumber.toString(), rawTx: undefined });
        result.confirmed++;
        await emit('confirmed');
      } catch (error) {
        await failOnRevert(error);
      }
    };

    // Resume: an item with a hash on disk may or may not have reached the node.
    if (item.state === 'signed' || item.state === 'sent') {
      const hash = item.txHash!;
      const mined = await getTransactionReceipt(client, { hash }).catch(() => null);
      const known = mined ?? (await getTransaction(client, { hash }).catch(() => null));
      let resend = false;
      if (!known) {
        try {
          if (!item.rawTx) throw new ProvenantError('CHAIN_RPC_FAILED', 'Node-signed transaction lost.', { data: { nonceConsumed: true } });
          await broadcastRawTransaction(client, item.rawTx, options.retry);
        } catch (error) {
          if (!(isProvenantError(error) && error.data.nonceConsumed)) throw error;
          // The bytes can never be mined (or were never kept): the registry decides.
          if (await onChain()) return;
          await requeue();
          resend = true;
        }
      }
      if (!resend) {
        if (item.state === 'signed') {
          await emit('broadcast');
          update(item, { state: 'sent' });
          await emit('sent');
        }
        await waitAndConfirm(hash);
        return;
      }
    }

    // pending: never send what is already there.
    if (await onChain()) return;
    const { functionName, args } = call(item.job);
    try {
      await writeRegistry(client, {
        ...options,
        address: registry,
        action: 'publisherQueue',
        // `call` pairs each job kind with its function and argument tuple; the union is checked there, not here.
        functionName: functionName as 'publishAttributionBatch',
        args: args as never,
        onSigned: async (tx: SignedTransactionInfo) => {
          update(item, { state: 'signed', txHash: tx.hash, rawTx: tx.raw, nonce: tx.nonce });
          await emit('signed');
        },
        onSent: async (tx: SignedTransactionInfo) => {
          await emit('broadcast');
          // Node-signed (JSON-RPC) accounts learn their hash only here.
          update(item, { state: 'sent', txHash: tx.hash, nonce: tx.nonce });
          await emit('sent');
        },
      });
      update(item, { state: 'confirmed', confirmedBy: 'transaction', rawTx: undefined });
      const receipt = await getTransactionReceipt(client, { hash: item.txHash! }).catch(() => null);
      if (receipt) update(item, { blockNumber: receipt.blockNumber.toString() });
      result.confirmed++;
      await emit('confirmed');
    } catch (error) {
      await failOnRevert(error);
    }
  };

  return {
    path,
    registry,
    items: () => structuredClone(file.items),
    enqueue(job) {
      validateJob(job);
      const id = queueItemId(job);
      const existing = file.items.find((i) => i.id === id);
      if (existing) {
        if (JSON.stringify(existing.job) !== JSON.stringify(job)) {
          throw new ProvenantError('CHAIN_QUEUE_INVALID', `A different job with id ${id} is already queued.`, { data: { id } });
        }
        return structuredClone(existing);
      }
      const item: QueueItem = { id, job: structuredClone(job), state: 'pending', updatedAt: new Date().toISOString() };
      file.items.push(item);
      save();
      return structuredClone(item);
    },
    async process(client, options = {}) {
      const result: ProcessQueueResult = { confirmed: 0, failed: 0, alreadyOnChain: 0 };
      for (const item of file.items) {
        if (item.state === 'confirmed' || item.state === 'failed') continue;
        await processItem(client, item, options, result);
      }
      return result;
    },
  };
}
