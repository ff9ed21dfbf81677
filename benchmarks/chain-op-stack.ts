/**
 * The OP Stack half of bench:chain: L1 data fees of our own transactions (checked against the real GasPriceOracle on
 * anvil), strategy cost models fitted from measured transactions, the load simulation (breaking load, cost and latency
 * per strategy, base fee under sustained load), and a real bounded run of the root strategy through the publisher queue
 * on anvil with 2 s blocks and 30M gas.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWalletClient, http, parseTransaction, publicActions, serializeTransaction, type Address, type Hex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import {
  ATTRIBUTION_STRATEGIES,
  buildAttributionBatch,
  deployRegistry,
  EAS_ATTEST_GAS,
  EAS_PREDEPLOY,
  easAttestCalldata,
  estimateL1Fee,
  findBreakingLoad,
  fitStrategyModel,
  flzCompressLength,
  inferenceTrace,
  openPublisherQueue,
  publishModel,
  opStackProfileParameters,
  resolveOpStackProfile,
  simulateAttributionLoad,
  startLocalNode,
  unsignedTransaction,
  type AttributionRecordInput,
  type AttributionStrategy,
  type BreakingLoad,
  type LoadSimulationResult,
  type OpStackProfile,
  type StrategySample,
  type StrategyTransactionModel,
} from '../src/chain/index.js';
import { bytesToHex, hexToBytes, keccak256 } from '../src/core/index.js';
import { bedrockVersion, installGasPriceOracle } from '../test/chain/op-stack/gas-price-oracle.js';

/** The unsigned form of a signed raw transaction: what GasPriceOracle.getL1Fee takes. */
export function unsignedOf(raw: Hex): Hex {
  const { r: _r, s: _s, v: _v, yParity: _y, ...fields } = parseTransaction(raw) as Record<string, unknown>;
  return serializeTransaction(fields as Parameters<typeof serializeTransaction>[0]);
}

export interface MeasuredTransaction {
  strategy: AttributionStrategy;
  label: string;
  events: number;
  gasUsed: number;
  unsigned: Hex;
}

/** L1 fee of each measured transaction, ours vs the real GasPriceOracle (Ecotone and Fjord) at the profile's L1 prices. */
export async function l1FeeTable(url: string, txs: readonly MeasuredTransaction[], profile: OpStackProfile) {
  const oracle = await installGasPriceOracle(url);
  const values = { baseFeeScalar: profile.baseFeeScalar, blobBaseFeeScalar: profile.blobBaseFeeScalar, l1BaseFee: BigInt(profile.l1BaseFeeWei), blobBaseFee: BigInt(profile.blobBaseFeeWei) };
  await oracle.setL1Values(values);
  const rows: Record<string, unknown>[] = [];
  for (const fork of ['ecotone', 'fjord'] as const) {
    await oracle.activate(fork);
    for (const tx of txs) {
      const ours = estimateL1Fee(tx.unsigned, { ...values, fork });
      const theirs = await oracle.getL1Fee(tx.unsigned);
      rows.push({ fork, transaction: tx.label, events: tx.events, unsignedBytes: (tx.unsigned.length - 2) / 2, fastLzBytes: flzCompressLength(hexToBytes(tx.unsigned)), l1FeeWei: ours.toString(), oracleWei: theirs.toString(), equal: ours === theirs });
    }
  }
  return { contractsBedrock: bedrockVersion(), rows };
}

/** Strategy models from measured transactions (EAS: its gas constant and an `attest` carrying our record). */
export function strategyModels(txs: readonly MeasuredTransaction[], easRecord: AttributionRecordInput, schema: Hex): StrategyTransactionModel[] {
  const samples = (s: AttributionStrategy): StrategySample[] => txs.filter((t) => t.strategy === s).map((t) => ({ events: t.events, gasUsed: t.gasUsed, unsignedTransaction: t.unsigned }));
  const eas = fitStrategyModel('eas-per-event', [{ events: 1, gasUsed: EAS_ATTEST_GAS, unsignedTransaction: unsignedTransaction({ to: EAS_PREDEPLOY, data: easAttestCalldata(easRecord, schema), gas: 300_000n }) }]);
  const root = fitStrategyModel('per-block-root', samples('per-block-root'));
  return [eas, fitStrategyModel('per-event', samples('per-event')), fitStrategyModel('batched-events', samples('batched-events')), root, { ...root, strategy: 'periodic-root' }];
}

export const LOADS_EVENTS_PER_SECOND = [1, 10, 100, 1_000, 10_000, 100_000];
export const EVENTS_PER_QUERY = 10;
export const ROOT_INTERVAL_SECONDS = 60;

export interface SimulationOutput {
  profile: OpStackProfile;
  profileParameters: ReturnType<typeof opStackProfileParameters>;
  models: StrategyTransactionModel[];
  breaking: (Omit<BreakingLoad, 'atLimit'> & { atLimit: Omit<LoadSimulationResult, 'baseFee'> })[];
  byLoad: Omit<LoadSimulationResult, 'baseFee'>[];
  shapes: Omit<LoadSimulationResult, 'baseFee'>[];
  sustained: { strategy: AttributionStrategy; eventsPerSecond: number; series: LoadSimulationResult['baseFee']['series']; endWei: number; costPerEventWei: number; holds: boolean; reason: string }[];
}

const strip = ({ baseFee: _b, ...rest }: LoadSimulationResult) => rest;

export function simulate(models: readonly StrategyTransactionModel[], offChainLeavesPerSecond: number, profile = resolveOpStackProfile()): SimulationOutput {
  const durationSeconds = 600;
  const t = profile.blockTimeSeconds;
  const run = (model: StrategyTransactionModel, eventsPerSecond: number, shape: 'steady' | 'poisson' | 'bursty' = 'steady', seed = 1) =>
    simulateAttributionLoad({
      profile,
      model,
      trace: inferenceTrace({ queriesPerSecond: eventsPerSecond / EVENTS_PER_QUERY, eventsPerQuery: EVENTS_PER_QUERY, durationSeconds, blockTimeSeconds: t, shape, seed }),
      offChainLeavesPerSecond,
      rootIntervalSeconds: ROOT_INTERVAL_SECONDS,
    });
  const breaking = models.map((model) => {
    const b = findBreakingLoad({ profile, model, eventsPerQuery: EVENTS_PER_QUERY, durationSeconds, offChainLeavesPerSecond, rootIntervalSeconds: ROOT_INTERVAL_SECONDS });
    return { ...b, atLimit: strip(b.atLimit) };
  });
  const byLoad = models.flatMap((model) => LOADS_EVENTS_PER_SECOND.map((load) => strip(run(model, load))));
  const shapes = models.flatMap((model) => (['steady', 'poisson', 'bursty'] as const).map((shape) => strip(run(model, 10_000, shape, 7))));
  // Sustained load: each strategy at 1.5× its sustainable rate for 10 minutes — the base fee's climb.
  const sustained = models.map((model, i) => {
    const load = Math.min(breaking[i]!.sustainedEventsPerSecond * 1.5, 1e6);
    const r = run(model, load);
    return { strategy: model.strategy, eventsPerSecond: load, series: r.baseFee.series, endWei: r.baseFee.endWei, costPerEventWei: r.costPerEventWei, holds: r.holds, reason: r.reason };
  });
  return { profile, profileParameters: opStackProfileParameters(profile), models: [...models], breaking, byLoad, shapes, sustained };
}

/**
 * The root strategy for real: anvil (optimism mode: EIP-1559 elasticity 6, denominator 250) mining every 2 s with a 30M
 * gas limit; each 2 s window's records (at `eventsPerSecond`) are hashed into a tree, the root is enqueued in a
 * publisher queue and processed; measured: build time, latency from window close to the block's receipt, gas.
 */
export async function realRootRun(options: { windows: number; eventsPerSecond: number; records: (n: number, modelRef: Hex) => AttributionRecordInput[] }) {
  const node = await startLocalNode({ accounts: 1, args: ['--network', 'optimism', '--block-time', '2', '--gas-limit', '30000000'] });
  const dir = mkdtempSync(join(tmpdir(), 'provenant-bench-queue-'));
  try {
    const account = mnemonicToAccount('test test test test test test test test test test test junk', { addressIndex: 0 });
    const client = createWalletClient({ account, chain: foundry, transport: http(node.rpcUrl) }).extend(publicActions);
    const { address } = await deployRegistry(client);
    // Roots must reference a published model.
    const [baseHash, adapterHash, snapshotRoot, configHash] = ['base', 'adapter', 'snapshot', 'config'].map((label) => keccak256(label));
    const model = await publishModel(client, { address, baseHash: baseHash!, adapterHash: adapterHash!, snapshotRoot: snapshotRoot!, configHash: configHash! });
    const modelRef = model.record.modelId;
    const queue = openPublisherQueue(join(dir, 'queue.json'), address as Address);
    const t = 2;
    const perWindow = options.eventsPerSecond * t;
    const rows: { window: number; events: number; buildMs: number; latencySeconds: number; gasUsed: number; blockNumber: number; blockGap: number }[] = [];
    // Align the first window with a block boundary as seen by the node.
    const first = await client.getBlockNumber();
    while ((await client.getBlockNumber()) === first) await new Promise((r) => setTimeout(r, 50));
    let windowClose = performance.now() + t * 1000;
    for (let w = 0; w < options.windows; w++) {
      const records = options.records(perWindow, modelRef); // the window's events (generated ahead, arriving during it)
      const wait = windowClose - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const closedAt = performance.now();
      const batch = buildAttributionBatch(records);
      const buildMs = performance.now() - closedAt;
      const blockAtClose = Number(await client.getBlockNumber());
      queue.enqueue({ kind: 'attributionBatch', batchId: batch.batchId, root: batch.root, recordCount: String(batch.recordCount), modelRef: batch.modelRef });
      let confirmedAt = 0;
      let hash: Hex | undefined;
      const result = await queue.process(client, {
        pollingInterval: 50,
        onEvent: (e) => {
          hash = e.item.txHash ?? hash;
          if (e.type === 'confirmed') confirmedAt = performance.now();
          if (e.type === 'failed') console.error('queue item failed', e.item.error);
        },
      });
      if (result.confirmed !== 1 || !hash) throw new Error(`root of window ${w} was not confirmed: ${JSON.stringify(result)}`);
      const receipt = await client.getTransactionReceipt({ hash });
      rows.push({ window: w, events: perWindow, buildMs, latencySeconds: (confirmedAt - closedAt) / 1000, gasUsed: Number(receipt.gasUsed), blockNumber: Number(receipt.blockNumber), blockGap: Number(receipt.blockNumber) - blockAtClose });
      windowClose += t * 1000;
    }
    return { anvil: '--network optimism --block-time 2 --gas-limit 30000000', eventsPerSecond: options.eventsPerSecond, rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await node.stop();
  }
}

export { ATTRIBUTION_STRATEGIES, bytesToHex };
