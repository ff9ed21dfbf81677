/**
 * The real OP Stack fee predeploys on a plain anvil: `GasPriceOracle` and `L1Block` runtime bytecode from the npm package
 * `@eth-optimism/contracts-bedrock` (its forge-artifacts; neither contract has immutables, so the deployed bytecode runs
 * as is at the predeploy address, as the implementation behind the proxy does on a real chain), L1 values and fork flags
 * set the way the protocol sets them: by the depositor account, impersonated.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createPublicClient, createWalletClient, encodePacked, http, toFunctionSelector, type Abi, type Address, type Hex } from 'viem';
import { foundry } from 'viem/chains';

export const GAS_PRICE_ORACLE: Address = '0x420000000000000000000000000000000000000F';
export const L1_BLOCK: Address = '0x4200000000000000000000000000000000000015';
export const DEPOSITOR: Address = '0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001';

interface ForgeArtifact {
  abi: Abi;
  deployedBytecode: { object: Hex; immutableReferences?: Record<string, unknown> };
  metadata: { compiler: { version: string } };
}

export function readBedrockArtifact(name: 'GasPriceOracle' | 'L1Block'): ForgeArtifact {
  const root = dirname(createRequire(import.meta.url).resolve('@eth-optimism/contracts-bedrock/package.json'));
  return JSON.parse(readFileSync(join(root, 'forge-artifacts', `${name}.sol`, `${name}.json`), 'utf8')) as ForgeArtifact;
}

export function bedrockVersion(): string {
  const root = dirname(createRequire(import.meta.url).resolve('@eth-optimism/contracts-bedrock/package.json'));
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

async function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

export interface L1BlockValues {
  baseFeeScalar: number;
  blobBaseFeeScalar: number;
  l1BaseFee: bigint;
  blobBaseFee: bigint;
}

export interface GasPriceOracleHandle {
  abi: Abi;
  /** `getL1Fee(data)` by eth_call. */
  getL1Fee(data: Hex): Promise<bigint>;
  getL1FeeUpperBound(size: bigint): Promise<bigint>;
  /** `setL1BlockValuesEcotone` as the depositor (packed calldata, as the protocol's L1 info deposit sends it). */
  setL1Values(values: L1BlockValues): Promise<void>;
  /** `setEcotone()` (unless active) and, for Fjord, `setFjord()`, as the depositor. */
  activate(fork: 'ecotone' | 'fjord'): Promise<void>;
  isFjord(): Promise<boolean>;
}

/** Installs both predeploys on the node at `url` (fork flags cleared) and returns handles to drive them. */
export async function installGasPriceOracle(url: string): Promise<GasPriceOracleHandle> {
  const oracle = readBedrockArtifact('GasPriceOracle');
  const l1Block = readBedrockArtifact('L1Block');
  for (const a of [oracle, l1Block]) {
    if (a.deployedBytecode.immutableReferences && Object.keys(a.deployedBytecode.immutableReferences).length > 0) throw new Error('artifact has immutables');
  }
  await rpc(url, 'anvil_setCode', [GAS_PRICE_ORACLE, oracle.deployedBytecode.object]);
  await rpc(url, 'anvil_setCode', [L1_BLOCK, l1Block.deployedBytecode.object]);
  // Fresh flags (isEcotone, isFjord share slot 0), in case an earlier run in this node set them.
  await rpc(url, 'anvil_setStorageAt', [GAS_PRICE_ORACLE, '0x0', `0x${'0'.repeat(64)}`]);
  await rpc(url, 'anvil_impersonateAccount', [DEPOSITOR]);
  await rpc(url, 'anvil_setBalance', [DEPOSITOR, '0x56bc75e2d63100000']);
  const publicClient = createPublicClient({ chain: foundry, transport: http(url, { retryCount: 0 }) });
  const depositor = createWalletClient({ account: DEPOSITOR, chain: foundry, transport: http(url, { retryCount: 0 }) });
  const send = async (to: Address, data: Hex): Promise<void> => {
    const hash = await depositor.sendTransaction({ to, data, gas: 1_000_000n });
    const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    if (receipt.status !== 'success') throw new Error(`depositor call to ${to} reverted`);
  };
  // FastLZ in the EVM is expensive: ~128 KiB of input needs more than a 30M-gas block, so calls get a large gas allowance.
  const read = (functionName: string, args: readonly unknown[] = []) =>
    publicClient.readContract({ address: GAS_PRICE_ORACLE, abi: oracle.abi, functionName, args, gas: 1_000_000_000n } as never) as Promise<unknown>;
  let sequenceNumber = 0n;
  return {
    abi: oracle.abi,
    getL1Fee: async (data) => (await read('getL1Fee', [data])) as bigint,
    getL1FeeUpperBound: async (size) => (await read('getL1FeeUpperBound', [size])) as bigint,
    isFjord: async () => (await read('isFjord')) as boolean,
    setL1Values: async (v) => {
      sequenceNumber += 1n;
      const data = encodePacked(
        ['bytes4', 'uint32', 'uint32', 'uint64', 'uint64', 'uint64', 'uint256', 'uint256', 'bytes32', 'bytes32'],
        [toFunctionSelector('setL1BlockValuesEcotone()'), v.baseFeeScalar, v.blobBaseFeeScalar, sequenceNumber, 1_700_000_000n, 19_000_000n, v.l1BaseFee, v.blobBaseFee, `0x${'11'.repeat(32)}`, `0x${'22'.repeat(32)}`],
      );
      await send(L1_BLOCK, data);
    },
    activate: async (fork) => {
      if (!((await read('isEcotone')) as boolean)) await send(GAS_PRICE_ORACLE, toFunctionSelector('setEcotone()'));
      if (fork === 'fjord' && !((await read('isFjord')) as boolean)) await send(GAS_PRICE_ORACLE, toFunctionSelector('setFjord()'));
    },
  };
}
