/**
 * Publishes an audit record's claims to the registry and returns the record's `chain` section: the Datanet snapshot,
 * the model, the evaluation summary hash and one Merkle batch of attribution leaves, then one leaf's proof checked on
 * chain and off chain.
 *
 * What is hashed (so anyone holding the record can recompute every on-chain value):
 *
 * | on chain            | from the record                                                                     |
 * |---------------------|-------------------------------------------------------------------------------------|
 * | snapshot datanetId  | keccak256(utf8(datanet.name)); version, root, rowCount = datanet.version/root/rows  |
 * | model baseHash      | baseModel.hash                                                                      |
 * | model adapterHash   | fineTuning.adapterHash                                                              |
 * | model snapshotRoot  | datanet.root                                                                        |
 * | model configHash    | keccak256(canonicalJson(fineTuning.parameters))                                     |
 * | evaluation summary  | keccak256(canonicalJson(evaluation))                                                |
 * | attribution batch   | one leaf per contributor total — see `auditAttributionRecords`                      |
 *
 * Leaves are per contributor *total*, not per query × contributor share, because the record's rewards are per
 * contributor (the fee is split once over the whole attribution run, `record.rewards`); a per-query leaf would have no
 * reward to carry.
 */
import { createPublicClient, createWalletClient, defineChain, http, zeroAddress, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { getChainId, getTransactionReceipt } from 'viem/actions';
import { auditDigestUri, type AuditChainAnchors, type AuditChainPublished, type AuditChainReader, type AuditRecord } from '../audit/index.js';
import { assertArgument, canonicalJson, isHex, keccak256, ProvenantError, verifyMerkleProof } from '../core/index.js';
import {
  ATTRIBUTION_LEAF_TYPES,
  attributionLeafValues,
  buildAttributionBatch,
  evaluationId as computeEvaluationId,
  modelId as computeModelId,
  type AttributionBatch,
  type AttributionRecordInput,
} from './attribution-record.js';
import { syntheticAddress } from '../datanet/index.js';
import { deployRegistry } from './deploy-registry.js';
import type { PublishReturnType } from './publish-once.js';
import { publishAttributionBatch } from './publish-attribution-batch.js';
import { publishEvaluation } from './publish-evaluation.js';
import { publishModel } from './publish-model.js';
import { publishSnapshot } from './publish-snapshot.js';
import { readRecord, type RegistryRecord } from './get-record.js';
import type { RegistryClient, WriteOptions } from './send-transaction.js';
import { verifyAttributionOnChain } from './verify-attribution-on-chain.js';
import { getRegistryEvents, type RegistryEventName } from './watch-registry-events.js';

/** The `kind` of each transaction in the section, in publishing order. */
export type AuditTransactionKind = 'deployRegistry' | 'publishSnapshot' | 'publishModel' | 'publishEvaluation' | 'publishAttributionBatch';

export interface PublishAuditRecordClients {
  /** Reads: chain id, event logs, receipts, the on-chain proof check. */
  publicClient: RegistryClient;
  /** Signs and sends; must carry an account that may publish to `registry` (or deploy one). */
  walletClient: RegistryClient;
  /** An existing registry. When omitted a fresh one is deployed (owned by, and publishable by, the wallet's account). */
  registry?: Address;
}

export interface PublishAuditRecordOptions extends Pick<WriteOptions, 'confirmations' | 'retry' | 'pollingInterval' | 'receiptTimeoutMs'> {
  /**
   * Payout address of each contributor id. Default: the id itself when it is an address, else
   * `contributorAddress(id)` — a placeholder nobody holds a key to; pass real addresses to pay real people.
   */
  contributorAddresses?: Readonly<Record<string, Address>> | ReadonlyMap<string, Address>;
  /** Which leaf (index into `attribution.contributorTotals`) to prove in the section. Default 0. */
  proofIndex?: number;
  /** Batch id; default content-derived (`attributionBatchId(root, modelRef, count)`), so republishing is a no-op. */
  batchId?: Hex;
  /** URI of the snapshot's rows (stored on chain). Default ''. */
  snapshotUri?: string;
  /** URI of the full evaluation, e.g. the audit record itself (stored on chain). Default ''. */
  evaluationUri?: string;
  /**
   * First block searched for the transactions of records that already exist (to report their hashes and gas).
   * Default 'earliest' — fine on a local node; on a long chain pass the registry's deployment block.
   */
  fromBlock?: bigint;
}

/** What happened to one step: sent now (`published`) or found on chain (`exists`, nothing sent). */
export interface AuditPublishStep {
  kind: AuditTransactionKind;
  status: 'published' | 'exists';
  txHash: Hex;
  gasUsed: bigint;
}

export interface PublishAuditRecordReturnType {
  /** The record's `chain` section (JSON-safe, valid against the audit schema): `record.chain = result.chain`. */
  chain: AuditChainPublished;
  /** `exists` when every step was already on chain and nothing was sent; else `published`. */
  status: 'published' | 'exists';
  steps: AuditPublishStep[];
  datanetId: Hex;
  modelId: Hex;
  configHash: Hex;
  summaryHash: Hex;
  evaluationId: Hex;
  /** The whole batch, for proofs of the other leaves (`batch.getProof(i)`). */
  batch: AttributionBatch;
}

/**
 * The placeholder payout address of a contributor id that is not an address: `syntheticAddress(id)` from
 * `provenant/datanet` (the last 20 bytes of keccak256("provenant:contributor:" + id)) — one definition, so a Datanet
 * built with `identities: 'address'` and a record keyed by names pay the same account. Deterministic, so a verifier can
 * recompute it; nobody holds its key.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` naming `id` when it is not a non-empty string.
 *
 * @example
 * ```ts
 * import { contributorAddress } from 'provenant/chain';
 * contributorAddress('spam-1'); // '0x…' (40 hex digits)
 * ```
 */
export function contributorAddress(id: string): Address {
  assertArgument(typeof id === 'string' && id.length > 0, 'id', 'must be a non-empty string', id);
  return syntheticAddress(id);
}

function recordInvalid(message: string, data: Record<string, unknown>): ProvenantError {
  return new ProvenantError('AUDIT_RECORD_INVALID', `publishAuditRecord: ${message}`, { data });
}

/**
 * The attribution records (leaves) of an audit record, one per entry of `attribution.contributorTotals`, in that
 * order: queryHash = `attribution.scoreDigest` (the digest of the whole score set the totals were summed from),
 * contributor = its payout address (from `contributorAddresses`, the id itself when it is an address, else
 * {@link contributorAddress}), score = the total (fixed point, 18 decimals), rewardWei = its amount in `rewards.split`
 * (0 when absent, e.g. flagged), modelRef = `modelRef`.
 *
 * @throws ProvenantError `AUDIT_RECORD_INVALID` when there are no totals, a contributor repeats, a reward goes to a
 *   contributor without a total, or a reward is not a decimal wei string; `INVALID_ARGUMENT` for a given address that is
 *   not 20 bytes.
 * @example
 * ```ts
 * import { auditAttributionRecords, buildAttributionBatch } from 'provenant/chain';
 * import type { AuditRecord, Hex } from 'provenant';
 *
 * declare const record: AuditRecord;
 * declare const modelRef: Hex;
 * const batch = buildAttributionBatch(auditAttributionRecords(record, modelRef, { 'spam-1': '0x52908400098527886e0f7030069857d2e4169ee7' }));
 * batch.recordCount; // one leaf per contributor total
 * ```
 */
export function auditAttributionRecords(
  record: AuditRecord,
  modelRef: Hex,
  contributorAddresses: Readonly<Record<string, Address>> | ReadonlyMap<string, Address> = new Map(),
): AttributionRecordInput[] {
  const totals = record.attribution.contributorTotals;
  if (totals.length === 0) throw recordInvalid('attribution.contributorTotals is empty: there is nothing to publish.', {});
  const seen = new Set<string>();
  for (const t of totals) {
    if (seen.has(t.contributor)) throw recordInvalid(`contributor "${t.contributor}" has two totals.`, { contributor: t.contributor });
    seen.add(t.contributor);
  }
  const rewards = new Map<string, bigint>();
  for (const { contributor, amountWei } of record.rewards.split) {
    if (!seen.has(contributor)) throw recordInvalid(`rewards.split pays "${contributor}", who has no attribution total.`, { contributor });
    if (!/^[0-9]+$/.test(amountWei)) throw recordInvalid(`reward of "${contributor}" is not a decimal wei string.`, { contributor, amountWei });
    rewards.set(contributor, (rewards.get(contributor) ?? 0n) + BigInt(amountWei));
  }
  const addressOf = (id: string): Address => {
    // A contributor id is data, never a property name: "toString" or "__proto__" must not read Object.prototype.
    const given = contributorAddresses instanceof Map ? contributorAddresses.get(id) : Object.hasOwn(contributorAddresses, id) ? (contributorAddresses as Readonly<Record<string, Address>>)[id] : undefined;
    if (given !== undefined) {
      assertArgument(isHex(given, 20), `contributorAddresses.${id}`, 'must be a 20-byte address', given);
      return given;
    }
    return isHex(id, 20) ? (id as Address) : contributorAddress(id);
  };
  return totals.map((t) => ({
    queryHash: record.attribution.scoreDigest,
    contributor: addressOf(t.contributor),
    score: t.score,
    rewardWei: rewards.get(t.contributor) ?? 0n,
    modelRef,
  }));
}

/** The transaction that emitted the first matching registry event (how an `exists` step reports its hash and gas). */
async function findEventTransaction(
  client: RegistryClient,
  address: Address,
  eventName: RegistryEventName,
  args: Record<string, unknown>,
  options: PublishAuditRecordOptions,
): Promise<{ txHash: Hex; gasUsed: bigint } | null> {
  const logs = await getRegistryEvents(client, { address, eventName, args, fromBlock: options.fromBlock, retry: options.retry });
  const txHash = logs[0]?.transactionHash;
  if (!txHash) return null;
  const receipt = await getTransactionReceipt(client, { hash: txHash });
  return { txHash, gasUsed: receipt.gasUsed };
}

/**
 * Publishes an audit record's Datanet snapshot, model, evaluation summary and attribution batch (deploying a registry
 * first when none is given), proves one attribution leaf on chain and off chain, and returns the record's `chain`
 * section with the transaction hashes and gas used.
 *
 * Idempotent: publishing the same record to the same registry again sends nothing, returns `status: 'exists'`, and
 * the same section (hashes of the original transactions, found through the registry's events). Pass the first
 * result's `chain.registry` as `registry` to get this — without one, every call deploys a new registry. A record that
 * reuses a Datanet name and version with a different root fails with CHAIN_RECORD_CONFLICT (records are write-once).
 *
 * @example
 * ```ts
 * import { createPublicClient, createWalletClient, http } from 'viem';
 * import { foundry } from 'viem/chains';
 * import { privateKeyToAccount } from 'viem/accounts';
 * import { publishAuditRecord, startLocalNode } from 'provenant/chain';
 * import { type AuditRecord } from 'provenant';
 * declare const record: AuditRecord;
 * const node = await startLocalNode();
 * const account = privateKeyToAccount(node.accounts[0]);
 * const walletClient = createWalletClient({ account, chain: foundry, transport: http(node.rpcUrl) });
 * const publicClient = createPublicClient({ chain: foundry, transport: http(node.rpcUrl) });
 * const { chain } = await publishAuditRecord({ publicClient, walletClient }, record);
 * record.chain = chain; // then writeAuditRecord(record)
 * await node.stop();
 * ```
 */
export async function publishAuditRecord(
  clients: PublishAuditRecordClients,
  record: AuditRecord,
  options: PublishAuditRecordOptions = {},
): Promise<PublishAuditRecordReturnType> {
  const { publicClient, walletClient } = clients;
  const proofIndex = options.proofIndex ?? 0;
  const totals = record.attribution.contributorTotals.length;
  assertArgument(Number.isInteger(proofIndex) && proofIndex >= 0 && proofIndex < Math.max(totals, 1), 'proofIndex', `must be an index into the ${totals} contributor totals`, proofIndex);
  if (clients.registry !== undefined) assertArgument(isHex(clients.registry, 20), 'registry', 'must be a 20-byte address', clients.registry);

  // Everything derivable from the record is computed (and validated) before anything is sent.
  const datanetId = keccak256(record.datanet.name);
  const configHash = keccak256(canonicalJson(record.fineTuning.parameters));
  const summaryHash = keccak256(canonicalJson(record.evaluation));
  const model = { baseHash: record.baseModel.hash, adapterHash: record.fineTuning.adapterHash, snapshotRoot: record.datanet.root, configHash };
  const modelId = computeModelId(model);
  const evaluationId = computeEvaluationId(modelId, summaryHash);
  const batch = buildAttributionBatch(auditAttributionRecords(record, modelId, options.contributorAddresses), { batchId: options.batchId });
  // A sealed record anchors its body digest as the evaluation URI, so verifyAuditRecord can compare the on-chain copy.
  const evaluationUri = options.evaluationUri ?? (record.integrity ? auditDigestUri(record.integrity.digest) : '');

  const write = { confirmations: options.confirmations, retry: options.retry, pollingInterval: options.pollingInterval, receiptTimeoutMs: options.receiptTimeoutMs };
  const chainId = await getChainId(publicClient);
  const steps: AuditPublishStep[] = [];

  let address: Address;
  if (clients.registry === undefined) {
    const deployed = await deployRegistry(walletClient, write);
    address = deployed.address;
    steps.push({ kind: 'deployRegistry', status: 'published', txHash: deployed.txHash, gasUsed: deployed.gasUsed });
  } else {
    address = clients.registry;
    if (record.integrity) await refuseConflictingRecord(publicClient, address, record, evaluationUri, options);
    // The constructor's OwnershipTransferred(0, owner) marks the deployment; outside the searched range it is left out.
    const creation = await findEventTransaction(publicClient, address, 'OwnershipTransferred', { previousOwner: zeroAddress }, options);
    if (creation) steps.push({ kind: 'deployRegistry', status: 'exists', ...creation });
  }

  const step = async <R extends RegistryRecord>(
    kind: AuditTransactionKind,
    result: PublishReturnType<R>,
    eventName: RegistryEventName,
    args: Record<string, unknown>,
  ): Promise<void> => {
    if (result.status === 'published') {
      steps.push({ kind, status: 'published', txHash: result.txHash!, gasUsed: result.gasUsed! });
      return;
    }
    const found = await findEventTransaction(publicClient, address, eventName, args, options);
    if (!found) {
      throw new ProvenantError('CHAIN_RECORD_NOT_FOUND', `publishAuditRecord: the ${kind} record is on chain but its transaction was not found.`, {
        details: 'Its event lies before `fromBlock`; pass an earlier `fromBlock` (the registry deployment block).',
        data: { kind, args },
      });
    }
    steps.push({ kind, status: 'exists', ...found });
  };

  const version = BigInt(record.datanet.version);
  const snapshot = await publishSnapshot(walletClient, {
    ...write,
    address,
    datanetId,
    version,
    root: record.datanet.root,
    rowCount: record.datanet.rows,
    uri: options.snapshotUri,
  });
  await step('publishSnapshot', snapshot, 'SnapshotPublished', { datanetId, version });
  await step('publishModel', await publishModel(walletClient, { ...write, address, ...model }), 'ModelPublished', { modelId });
  const evaluation = await publishEvaluation(walletClient, { ...write, address, modelId, summaryHash, uri: evaluationUri });
  await step('publishEvaluation', evaluation, 'EvaluationPublished', { evaluationId });
  const published = await publishAttributionBatch(walletClient, { ...write, address, batch });
  await step('publishAttributionBatch', published, 'AttributionBatchPublished', { batchId: batch.batchId });

  const leafRecord = batch.records[proofIndex]!;
  const leaf = attributionLeafValues(leafRecord);
  const proof = batch.getProof(proofIndex);
  const verifiedOnChain = await verifyAttributionOnChain(publicClient, { address, batchId: batch.batchId, record: leafRecord, proof, retry: options.retry });
  const verifiedOffChain = verifyMerkleProof(batch.root, ATTRIBUTION_LEAF_TYPES, leaf, proof);

  const lower = (hex: Hex): Hex => hex.toLowerCase() as Hex;
  const chain: AuditChainPublished = {
    status: 'published',
    chainId,
    registry: lower(address),
    transactions: steps.map((s) => ({ kind: s.kind, txHash: lower(s.txHash), gasUsed: s.gasUsed.toString() })),
    attributionBatch: {
      batchId: lower(batch.batchId),
      root: lower(batch.root),
      leafEncoding: [...ATTRIBUTION_LEAF_TYPES],
      leaf: leaf.map((v) => (typeof v === 'bigint' ? v.toString() : lower(v))),
      proof: proof.map(lower),
      verifiedOnChain,
      verifiedOffChain,
    },
  };
  return {
    chain,
    status: steps.some((s) => s.status === 'published') ? 'published' : 'exists',
    steps,
    datanetId,
    modelId,
    configHash,
    summaryHash,
    evaluationId,
    batch,
  };
}

/** Where `publishAuditRecordWithKey` publishes: an RPC URL and a funded key — a `LocalNode` from `startLocalNode` fits. */
export interface PublishAuditRecordTarget {
  rpcUrl: string;
  /** Default: asked from the node (`eth_chainId`). */
  chainId?: number;
  /** The signing key. Default: `accounts[0]`. */
  privateKey?: Hex;
  /** Funded keys (a `LocalNode`'s `accounts`); the first signs when `privateKey` is not given. */
  accounts?: readonly Hex[];
  /** An existing registry; default: deploy one. */
  registry?: Address;
}

/**
 * `publishAuditRecord` for scripts and demos that hold an RPC URL and a private key rather than viem clients: builds
 * the clients (HTTP, a local account) and returns just the record's `chain` section.
 *
 * @example
 * ```ts
 * import { publishAuditRecordWithKey, startLocalNode } from 'provenant/chain';
 * import { type AuditRecord } from 'provenant';
 * declare const record: AuditRecord;
 * const node = await startLocalNode();
 * try {
 *   record.chain = await publishAuditRecordWithKey(node, record);
 * } finally {
 *   await node.stop();
 * }
 * ```
 */
export async function publishAuditRecordWithKey(
  target: PublishAuditRecordTarget,
  record: AuditRecord,
  options: PublishAuditRecordOptions = {},
): Promise<AuditChainPublished> {
  const privateKey = target.privateKey ?? target.accounts?.[0];
  assertArgument(isHex(privateKey, 32), 'privateKey', 'must be a 32-byte private key (or give accounts[0])', privateKey === undefined ? undefined : '(redacted)');
  assertArgument(typeof target.rpcUrl === 'string' && /^https?:\/\//.test(target.rpcUrl), 'rpcUrl', 'must be an http(s) URL', target.rpcUrl);
  const transport = http(target.rpcUrl);
  const chainId = target.chainId ?? (await getChainId(createPublicClient({ transport })));
  const chain = defineChain({
    id: chainId,
    name: `chain ${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [target.rpcUrl] } },
  });
  const publicClient = createPublicClient({ chain, transport });
  const walletClient = createWalletClient({ account: privateKeyToAccount(privateKey), chain, transport });
  const result = await publishAuditRecord({ publicClient, walletClient, registry: target.registry }, record, options);
  return result.chain;
}

/**
 * Refuses a second, different sealed record for the same model (base and adapter hashes) on the same snapshot root: an
 * audit record is evidence, and two that disagree about one model cannot both be.
 */
async function refuseConflictingRecord(client: RegistryClient, address: Address, record: AuditRecord, uri: string, options: PublishAuditRecordOptions): Promise<void> {
  const models = await getRegistryEvents(client, { address, eventName: 'ModelPublished', fromBlock: options.fromBlock, retry: options.retry });
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  for (const log of models) {
    const m = log.args as { modelId: Hex; baseHash: Hex; adapterHash: Hex; snapshotRoot: Hex };
    if (!same(m.baseHash, record.baseModel.hash) || !same(m.adapterHash, record.fineTuning.adapterHash) || !same(m.snapshotRoot, record.datanet.root)) continue;
    const evaluations = await getRegistryEvents(client, { address, eventName: 'EvaluationPublished', args: { modelId: m.modelId }, fromBlock: options.fromBlock, retry: options.retry });
    for (const e of evaluations) {
      const published = (e.args as { uri: string }).uri;
      if (published.startsWith('provenant-audit:') && published !== uri) {
        throw new ProvenantError('CHAIN_RECORD_CONFLICT', 'publishAuditRecord: a different audit record of this model on this snapshot is already published.', {
          details: 'Records are evidence and write-once: publish a new fine-tune (a new adapter) rather than a second account of the same one.',
          metaMessages: [`published: ${published}`, `this record: ${uri}`],
          data: { modelId: m.modelId, published, record: uri },
          docsPath: '#the-audit-record',
        });
      }
    }
  }
}

/**
 * A reader of a record's on-chain anchors for `verifyAuditRecord(record, { client })`: the snapshot, the model, the
 * evaluation (with the anchored record digest) and the attribution batch, each read from the registry by the ids the
 * record determines.
 *
 * @example
 * ```ts
 * import { auditChainReader, type RegistryClient } from 'provenant/chain';
 * import { verifyAuditRecord, type AuditRecord, type Hex } from 'provenant';
 * declare const record: AuditRecord;
 * declare const publicClient: RegistryClient;
 * declare const registry: Hex; // the AttributionRegistry the record was published to
 * const { ok, failures } = await verifyAuditRecord(record, { client: auditChainReader(publicClient, registry) });
 * ```
 */
export function auditChainReader(client: RegistryClient, address: Address, options: Pick<WriteOptions, 'retry'> = {}): AuditChainReader {
  return {
    async readAuditAnchors(record: AuditRecord): Promise<AuditChainAnchors> {
      const configHash = keccak256(canonicalJson(record.fineTuning.parameters));
      const modelId = computeModelId({ baseHash: record.baseModel.hash, adapterHash: record.fineTuning.adapterHash, snapshotRoot: record.datanet.root, configHash });
      const evaluationId = computeEvaluationId(modelId, keccak256(canonicalJson(record.evaluation)));
      const read = { address, retry: options.retry };
      const [snapshot, model, evaluation, batch] = await Promise.all([
        readRecord(client, { ...read, kind: 'snapshot', datanetId: keccak256(record.datanet.name), version: BigInt(record.datanet.version) }),
        readRecord(client, { ...read, kind: 'model', modelId }),
        readRecord(client, { ...read, kind: 'evaluation', evaluationId }),
        record.chain.status === 'published' ? readRecord(client, { ...read, kind: 'attributionBatch', batchId: record.chain.attributionBatch.batchId }) : Promise.resolve(null),
      ]);
      return {
        snapshot: snapshot && { root: snapshot.root, rowCount: snapshot.rowCount },
        model: model && { baseHash: model.baseHash, adapterHash: model.adapterHash, snapshotRoot: model.snapshotRoot, configHash: model.configHash },
        evaluation: evaluation && { summaryHash: evaluation.summaryHash, uri: evaluation.uri },
        batch: batch && { root: batch.root },
      };
    },
  };
}
