import { encodeDeployData, type Address, type Hex, type TransactionReceipt } from 'viem';
import { assertArgument, isHex, ProvenantError } from '../core/index.js';
import { attributionRegistryAbi, attributionRegistryBytecode } from './contracts/attribution-registry.js';
import { resolveAccount, sendReliably, type RegistryClient, type WriteOptions } from './send-transaction.js';

export interface DeployRegistryParameters extends Omit<WriteOptions, 'simulate'> {
  /** Accounts allowed to publish. Default: the deploying account only. The deployer becomes the owner. */
  publishers?: readonly Address[];
}

export interface DeployRegistryReturnType {
  address: Address;
  txHash: Hex;
  gasUsed: bigint;
  receipt: TransactionReceipt;
}

/**
 * Deploys a fresh `AttributionRegistry` owned by the sending account.
 *
 * @example
 * ```ts
 * import { createWalletClient, http } from 'viem';
 * import { deployRegistry } from 'provenant/chain';
 * import { optimism } from 'viem/chains';
 * import { privateKeyToAccount } from 'viem/accounts';
 * import { type Hex } from 'provenant';
 * declare const key: Hex;
 * declare const url: string;
 * const client = createWalletClient({ account: privateKeyToAccount(key), chain: optimism, transport: http(url) });
 * const { address } = await deployRegistry(client, { publishers: [client.account.address] });
 * ```
 */
export async function deployRegistry(client: RegistryClient, parameters: DeployRegistryParameters = {}): Promise<DeployRegistryReturnType> {
  const action = 'deployRegistry';
  const account = resolveAccount(client, parameters.account, action);
  const publishers = parameters.publishers ?? [account.address];
  for (const p of publishers) assertArgument(isHex(p, 20), 'publishers', 'every publisher must be a 20-byte address', p);
  const data = encodeDeployData({ abi: attributionRegistryAbi, bytecode: attributionRegistryBytecode, args: [publishers] });
  const { txHash, receipt } = await sendReliably(client, { ...parameters, account, data, action });
  if (!receipt.contractAddress) {
    throw new ProvenantError('CHAIN_RPC_FAILED', 'deployRegistry: the receipt has no contract address.', { data: { txHash } });
  }
  return { address: receipt.contractAddress, txHash, gasUsed: receipt.gasUsed, receipt };
}
