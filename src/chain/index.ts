/**
 * `provenant/chain` — the optional EVM adapter (viem). Kept out of the core entry point so that apps that never touch a
 * chain never load viem. Every action takes the caller's viem client, so it works with any chain that client points
 * at (an OP Stack L2, a local anvil).
 */
export { attributionRegistryAbi, attributionRegistryBytecode, attributionRegistryCompiler } from './contracts/attribution-registry.js';

export {
  ATTRIBUTION_LEAF_TYPES,
  SCORE_DECIMALS,
  toFixedPoint,
  fromFixedPoint,
  normalizeAttributionRecord,
  attributionLeafValues,
  attributionBatchId,
  buildAttributionBatch,
  modelId,
  evaluationId,
} from './attribution-record.js';
export type {
  AttributionRecord,
  AttributionRecordInput,
  AttributionLeafValues,
  AttributionBatch,
  BuildAttributionBatchOptions,
} from './attribution-record.js';

export { decodeRevert, isRetryableRpcError, toChainError } from './chain-error.js';
export type { DecodedRevert, ChainErrorContext } from './chain-error.js';
export { withRetry, backoffDelay } from './retry.js';
export type { RetryOptions } from './retry.js';

export { sendReliably, writeRegistry, broadcastRawTransaction, waitForConfirmedReceipt, resolveAccount } from './send-transaction.js';
export type { RegistryClient, RegistryAbi, RegistryWriteFunction, WriteOptions, SentTransaction, SignedTransactionInfo } from './send-transaction.js';

export { deployRegistry } from './deploy-registry.js';
export type { DeployRegistryParameters, DeployRegistryReturnType } from './deploy-registry.js';
export { setPublisher } from './set-publisher.js';
export type { SetPublisherParameters } from './set-publisher.js';
export { publishSnapshot } from './publish-snapshot.js';
export type { PublishSnapshotParameters } from './publish-snapshot.js';
export { publishModel } from './publish-model.js';
export type { PublishModelParameters } from './publish-model.js';
export { publishEvaluation } from './publish-evaluation.js';
export type { PublishEvaluationParameters } from './publish-evaluation.js';
export { publishAttributionBatch } from './publish-attribution-batch.js';
export type { PublishAttributionBatchParameters, AttributionBatchCommitment } from './publish-attribution-batch.js';
export type { PublishReturnType } from './publish-once.js';
export { recordAttributions } from './record-attributions.js';
export type { RecordAttributionsParameters } from './record-attributions.js';
export { getRecord, readRecord } from './get-record.js';
export type {
  GetRecordParameters,
  RecordKey,
  RegistryRecord,
  SnapshotRecord,
  ModelRecord,
  EvaluationRecord,
  AttributionBatchRecord,
} from './get-record.js';
export { verifyAttributionOnChain } from './verify-attribution-on-chain.js';
export type { VerifyAttributionOnChainParameters } from './verify-attribution-on-chain.js';
export { watchRegistryEvents, getRegistryEvents } from './watch-registry-events.js';
export type {
  RegistryEventName,
  RegistryEventLog,
  RegistryEventLogs,
  WatchRegistryEventsParameters,
  GetRegistryEventsParameters,
} from './watch-registry-events.js';

export { openPublisherQueue, queueItemId } from './publisher-queue.js';
export type {
  PublisherQueue,
  QueueJob,
  QueueItem,
  QueueItemState,
  QueueFile,
  QueueEvent,
  ProcessQueueOptions,
  ProcessQueueResult,
} from './publisher-queue.js';

export {
  planThroughput,
  perEventCapacity,
  perEventEventsPerBlock,
  batchedEventsPerBlock,
  batchedEventsPerTransaction,
  OP_STACK_30M,
  OP_STACK_105M,
  EAS_ATTEST_GAS,
  DEFAULT_MAX_TX_BYTES,
  DEFAULT_MAX_TX_GAS,
} from './throughput-planner.js';
export type { ThroughputStrategy, ChainProfile, MeasuredGas, PlanThroughputParameters, StrategyPlan, ThroughputPlan } from './throughput-planner.js';

export { startLocalNode, resolveAnvilBinary, ANVIL_PACKAGE } from './local-node.js';
export type { StartLocalNodeOptions, LocalNode } from './local-node.js';
export { publishAuditRecord, publishAuditRecordWithKey, auditAttributionRecords, contributorAddress } from './publish-audit.js';
export type {
  PublishAuditRecordClients,
  PublishAuditRecordOptions,
  PublishAuditRecordReturnType,
  PublishAuditRecordTarget,
  AuditPublishStep,
  AuditTransactionKind,
} from './publish-audit.js';

export { signAndBroadcast, simulateRegistryWrite, explainRevertedReceipt } from './send-transaction.js';
export { queueRecordKey, queueJobMatches } from './publisher-queue.js';
export type { QueueClaim, RequeueReason, RetryQueueOptions } from './publisher-queue.js';
export { reconcile } from './reconcile.js';
export type { ReconcileOptions, ReconcileResult } from './reconcile.js';
export { readRecordAtDepth, assertRegistry } from './record-at-depth.js';
export type { RecordDepth } from './record-at-depth.js';
export { withFileLock, processAlive } from './file-lock.js';
export type { FileLockOptions } from './file-lock.js';
export * from './op-stack/index.js';
export { auditChainReader } from './publish-audit.js';

// The error class and its guard, so a user of this entry alone can branch on `code` without importing the root (which loads tfjs).
export { ProvenantError, isProvenantError, type ProvenantErrorCode } from '../core/index.js';
