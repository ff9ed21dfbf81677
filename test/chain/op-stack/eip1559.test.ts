import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWalletClient, http, publicActions, type Hex } from 'viem';
import { foundry } from 'viem/chains';
import { baseFeeSeries, nextBaseFee, resolveOpStackProfile, startLocalNode, type LocalNode } from '../../../src/chain/index.js';
import { bytesToHex, createRng } from '../../../src/core/index.js';
import { testAccount } from '../helpers-node.js';

const OP = { gasLimit: 30_000_000, elasticity: 6, baseFeeMaxChangeDenominator: 250 };

describe('EIP-1559 base fee, OP Stack parameters', () => {
  let node: LocalNode;
  beforeAll(async () => {
    // anvil's optimism mode runs the OP Stack base-fee rule; blocks are mined on demand so each block's gas is ours to set.
    node = await startLocalNode({ accounts: 1, args: ['--network', 'optimism', '--gas-limit', '30000000', '--base-fee', '1000000000', '--no-mining'] });
  });
  afterAll(async () => node?.stop());

  it('equals anvil (--network optimism) block by block under a load that crosses the target both ways', async () => {
    const client = createWalletClient({ account: testAccount(0), chain: foundry, transport: http(node.rpcUrl, { retryCount: 0 }) }).extend(publicActions);
    const rng = createRng(1559);
    // Non-zero calldata of varied length: gas (16–40 per byte, by hardfork) varies per transaction.
    const calldata = (): Hex => bytesToHex(new Uint8Array(20_000 + rng.nextInt(40_000)).fill(0xab));
    const txsPerBlock = [0, 1, 3, 8, 10, 10, 2, 0, 5, 10];
    let nonce = 0;
    for (const count of txsPerBlock) {
      for (let i = 0; i < count; i++) {
        await client.sendTransaction({ to: '0x000000000000000000000000000000000000dEaD', data: calldata(), gas: 2_900_000n, maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 1n, nonce: nonce++ });
      }
      await client.request({ method: 'evm_mine' as never, params: [] as never });
    }
    const blocks = await Promise.all(Array.from({ length: txsPerBlock.length + 1 }, (_, i) => client.getBlock({ blockNumber: BigInt(i) })));
    const used = blocks.map((b) => b.gasUsed);
    const observed = blocks.map((b) => b.baseFeePerGas!);
    const target = 30_000_000n / 6n;
    expect(used.some((u) => u > target)).toBe(true);
    expect(used.some((u) => u > 0n && u < target)).toBe(true);
    // Block 1 keeps anvil's configured base fee (the genesis block is not a parent in its rule); from block 2 on, every
    // base fee follows from its parent's.
    for (let i = 2; i < blocks.length; i++) expect([i, nextBaseFee(observed[i - 1]!, used[i - 1]!, OP)]).toEqual([i, observed[i]]);
    expect(baseFeeSeries(observed[1]!, used.slice(1, -1), OP)).toEqual(observed.slice(1, -1));
  });

  it('matches the closed form at a full block (+(6 − 1)/250 = +2 %) and an empty one (−1/250), and honours a floor', () => {
    expect(nextBaseFee(1_000_000_000n, 30_000_000, OP)).toBe(1_020_000_000n);
    expect(nextBaseFee(1_000_000_000n, 0, OP)).toBe(996_000_000n);
    expect(nextBaseFee(1_000_000_000n, 5_000_000, OP)).toBe(1_000_000_000n);
    // Above the target the fee rises by at least 1 wei, even from a tiny fee.
    expect(nextBaseFee(10n, 5_000_001, OP)).toBe(11n);
    expect(nextBaseFee(1_000_000n, 0, { ...OP, minBaseFeeWei: 999_000n })).toBe(999_000n);
    // Pre-Canyon denominator 50: a full block is +10 %.
    expect(nextBaseFee(1_000_000_000n, 30_000_000, { ...OP, baseFeeMaxChangeDenominator: 50 })).toBe(1_100_000_000n);
    // Sustained full blocks compound: 35 blocks (70 s) roughly double the fee (1.02^35 ≈ 2.0).
    const series = baseFeeSeries(1_000_000_000n, new Array(36).fill(30_000_000), OP);
    expect(Number(series[35]!) / 1e9).toBeCloseTo(1.02 ** 35, 3);
  });

  it('rejects gas above the limit and a bad profile, naming the field', () => {
    expect(() => nextBaseFee(1n, 30_000_001, OP)).toThrow(/parentGasUsed/);
    expect(() => resolveOpStackProfile({ elasticity: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => resolveOpStackProfile({ gasLimt: 1 } as never)).toThrow(/gasLimt: unknown field/);
    expect(() => resolveOpStackProfile({ baseFeeScalar: 0x1000_0000 })).toThrow(/baseFeeScalar/);
    expect(resolveOpStackProfile({ gasLimit: 150_000_000 }).elasticity).toBe(6);
  });
});
