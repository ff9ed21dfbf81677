/**
 * The one way every write in `provenant/chain` reaches the chain: simulate (decoded revert before paying gas), sign,
 * broadcast, wait for N confirmations — each RPC step retried with backoff, and the transaction hash known *before*
 * broadcast so a crash can never leave a transaction the caller does not know about.
 *
 * Why sign locally when we can: the signed bytes and their hash are handed to `onSigned` before they leave the process.
 * Re-broadcasting the same bytes after a crash or an ambiguous RPC failure cannot create a second transaction — same
 * nonce, same hash — which is what makes the publisher queue duplicate-free. JSON-RPC accounts (a node that signs) get
 * a pinned nonce instead, and the registry's write-once records catch the rest.
 */
import {
  BaseError,
  encodeFunctionData,
  keccak256,
  decodeFunctionData,
  NonceTooLowError,
  type Account,
  type Address,
  type Chain,
  type Client,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type Hex,
  type TransactionReceipt,
  type Transport,
} from 'viem';
import { parseAccount } from 'viem/accounts';
import {
  call,
  getTransaction,
  getTransactionCount,
  getTransactionReceipt,
  prepareTransactionRequest,
  sendRawTransaction,
  sendTransaction,
  simulateContract,
  waitForTransactionReceipt,
} from 'viem/actions';
import { assertArgument, isHex, ProvenantError } from '../core/index.js';
import { attributionRegistryAbi } from './contracts/attribution-registry.js';
import { toChainError } from './chain-error.js';
import { withRetry, type RetryOptions } from './retry.js';

/** Any viem client (public, wallet, or one extended with both); writes need an account on it or in the parameters. */
export type RegistryClient = Client<Transport, Chain | undefined, Account | undefined>;

export type RegistryAbi = typeof attributionRegistryAbi;
export type RegistryWriteFunction = ContractFunctionName<RegistryAbi, 'nonpayable'>;

/** What a caller learns about a transaction before and after it is broadcast. */
export interface SignedTransactionInfo {
  hash: Hex;
  nonce: number;
  /** The signed bytes (local accounts only): re-broadcasting them can never create a second transaction. */
  raw?: Hex;
}

export interface WriteOptions {
  /** The sender; defaults to the client's account. A local account (private key, mnemonic) signs in process. */
  account?: Account | Address;
  /** Blocks to wait after inclusion. Default 1. */
  confirmations?: number;
  /** Backoff for transport failures. Default: 4 retries from 250 ms. */
  retry?: RetryOptions;
  /**
   * Simulate first so a revert is reported (decoded) without spending gas. Default true. Set false to send anyway —
   * the chain then rejects the transaction itself and the receipt is decoded.
   */
  simulate?: boolean;
  /** Gas limit; estimated when omitted (needed with `simulate: false` for a call that would revert). */
  gas?: bigint;
  /** Pin the nonce (the queue does, so a re-send replaces rather than duplicates). */
  nonce?: number;
  /** Receipt polling interval in ms. Default: the client's. */
  pollingInterval?: number;
  /** Give up waiting for the receipt after this many ms. Default 120,000. */
  receiptTimeoutMs?: number;
  /** Called with the hash after signing and before broadcast (persist it to survive a crash). */
  onSigned?: (tx: SignedTransactionInfo) => void | Promise<void>;
  /** Called once the node has accepted the transaction. */
  onSent?: (tx: SignedTransactionInfo) => void | Promise<void>;
}

export interface SentTransaction {
  txHash: Hex;
  receipt: TransactionReceipt;
}

/**
 * The account a write will use: `account` if given, else the client's. A string must be a 20-byte address (parsed as a
 * JSON-RPC account); a viem `Account` is used as is.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` when there is no account, or it is malformed — a private key passed as a
 *   string is refused without being echoed (wrap it with viem's `privateKeyToAccount`).
 * @example
 * ```ts
 * import { resolveAccount, type RegistryClient } from 'provenant/chain';
 *
 * declare const client: RegistryClient;
 * const account = resolveAccount(client, '0x52908400098527886e0f7030069857d2e4169ee7', 'publishSnapshot');
 * account.type; // 'json-rpc' (the node signs); a privateKeyToAccount(...) account gives 'local'
 * ```
 */
export function resolveAccount(client: RegistryClient, account: Account | Address | undefined, action: string): Account {
  const resolved = account ?? client.account;
  if (!resolved) {
    throw new ProvenantError('INVALID_ARGUMENT', `${action} needs an account: pass \`account\` or use a client created with one.`, {
      data: { action },
    });
  }
  if (typeof resolved === 'string') {
    assertArgument(isHex(resolved, 20), 'account', 'must be a 20-byte address or a viem Account (a private key goes through privateKeyToAccount, never as a string)', resolved);
  } else {
    assertArgument(typeof resolved === 'object' && isHex(resolved.address, 20), 'account', 'must be a viem Account with a 20-byte address', resolved);
  }
  return parseAccount(resolved);
}

const REPLACEMENT = /replacement transaction underpriced|replacement fee too low/;

/**
 * Broadcasts already-signed bytes (`eth_sendRawTransaction`, retried with backoff) and returns their hash, keccak256 of
 * the bytes. "already known" or "nonce too low" from the node mean either our transaction is in (fine: the hash is
 * returned) or its nonce was taken by another one.
 *
 * @throws ProvenantError `CHAIN_RPC_FAILED` with `data.nonceConsumed: true` when the nonce was used by another
 *   transaction (re-sign with a fresh nonce); the transport error itself when the retries are spent.
 * @example
 * ```ts
 * import { broadcastRawTransaction, type RegistryClient } from 'provenant/chain';
 * import type { Hex } from 'provenant';
 *
 * declare const client: RegistryClient;
 * declare const raw: Hex; // from onSigned's `raw`, persisted before a crash
 * const hash = await broadcastRawTransaction(client, raw, { retries: 2 }); // same hash as before: re-sending never duplicates
 * ```
 */
export async function broadcastRawTransaction(client: RegistryClient, raw: Hex, retry?: RetryOptions): Promise<Hex> {
  const hash = keccak256(raw);
  try {
    await withRetry(() => sendRawTransaction(client, { serializedTransaction: raw }), retry);
  } catch (error) {
    // sendRawTransaction does not map node messages to NonceTooLowError, so match the node's text as viem does. A
    // pending transaction holding the nonce (not yet mined) shows up as an underpriced replacement.
    const nonceError =
      error instanceof BaseError &&
      error.walk((e) => {
        const details = String((e as { details?: string }).details ?? '');
        return e instanceof NonceTooLowError || NonceTooLowError.nodeMessage.test(details) || REPLACEMENT.test(details);
      });
    if (!nonceError) throw error;
    const known =
      (await getTransactionReceipt(client, { hash }).catch(() => null)) ?? (await getTransaction(client, { hash }).catch(() => null));
    if (!known) {
      throw new ProvenantError('CHAIN_RPC_FAILED', 'The signed transaction was not mined and its nonce is now used by another transaction.', {
        details: 'Re-sign it with a fresh nonce (the publisher queue does this after checking the record is not on chain).',
        data: { txHash: hash, nonceConsumed: true },
        cause: error,
      });
    }
  }
  return hash;
}

/**
 * Waits for a receipt with `confirmations` confirmations (default 1, timeout default 120 s); a reverted receipt is
 * replayed against the state before its block to decode the reason, and thrown.
 *
 * @throws ProvenantError `CHAIN_REVERTED` / `CHAIN_UNAUTHORIZED` for a reverted transaction (`data.status:
 *   'reverted-on-chain'`), `CHAIN_TX_REPLACED` when another transaction with the same nonce was mined instead,
 *   `CHAIN_RPC_FAILED` on timeout or transport failure.
 * @example
 * ```ts
 * import { waitForConfirmedReceipt, type RegistryClient } from 'provenant/chain';
 * import type { Hex } from 'provenant';
 *
 * declare const client: RegistryClient;
 * declare const txHash: Hex;
 * const receipt = await waitForConfirmedReceipt(client, txHash, { action: 'publishSnapshot', confirmations: 2 });
 * receipt.status; // 'success'
 * ```
 */
export async function waitForConfirmedReceipt(
  client: RegistryClient,
  hash: Hex,
  options: Pick<WriteOptions, 'confirmations' | 'retry' | 'pollingInterval' | 'receiptTimeoutMs'> & { action: string; address?: Address },
): Promise<TransactionReceipt> {
  const receipt = await withRetry(
    () =>
      waitForTransactionReceipt(client, {
        hash,
        confirmations: options.confirmations ?? 1,
        timeout: options.receiptTimeoutMs ?? 120_000,
        ...(options.pollingInterval !== undefined ? { pollingInterval: options.pollingInterval } : {}),
      }),
    options.retry,
  ).catch((error: unknown) => {
    throw toChainError(error, { action: options.action, address: options.address, txHash: hash });
  });
  // viem follows a same-nonce replacement and resolves with *its* receipt: that is never our transaction's success.
  if (receipt.transactionHash.toLowerCase() !== hash.toLowerCase()) throw replacedError(options.action, hash, receipt);
  if (receipt.status === 'reverted') throw await explainRevertedReceipt(client, receipt, options.action);
  return receipt;
}

function replacedError(action: string, hash: Hex, receipt: TransactionReceipt): ProvenantError {
  return new ProvenantError('CHAIN_TX_REPLACED', `${action}: the transaction was replaced by another with the same nonce before it was mined.`, {
    metaMessages: [`transaction: ${hash}`, `replaced by: ${receipt.transactionHash} (block ${receipt.blockNumber}, ${receipt.status})`],
    details: 'Someone (a wallet speeding it up or cancelling it, another process with the same key) sent another transaction with this nonce. Our call did not execute; read the registry to see whether the record is there, and send again if not.',
    data: { action, txHash: hash, replacementHash: receipt.transactionHash, replacementStatus: receipt.status, blockNumber: receipt.blockNumber },
  });
}

/**
 * Replays a reverted transaction against the state before its block to recover the revert reason (receipts carry
 * none), and returns the typed error: CHAIN_UNAUTHORIZED for NotPublisher/NotOwner, else CHAIN_REVERTED.
 *
 * @example
 * ```ts
 * import { explainRevertedReceipt, type RegistryClient } from 'provenant/chain';
 * import { type TransactionReceipt } from 'viem';
 * declare const client: RegistryClient;
 * declare const receipt: TransactionReceipt;
 * if (receipt.status === 'reverted') throw await explainRevertedReceipt(client, receipt, 'publish');
 * ```
 */
export async function explainRevertedReceipt(client: RegistryClient, receipt: TransactionReceipt, action: string): Promise<ProvenantError> {
  const context = { action, address: receipt.to ?? receipt.contractAddress ?? undefined, txHash: receipt.transactionHash };
  try {
    const tx = await getTransaction(client, { hash: receipt.transactionHash });
    const blockNumber = receipt.blockNumber > 0n ? receipt.blockNumber - 1n : 0n;
    if (tx.to) {
      // simulateContract decodes the registry's custom errors; `call` alone would only give raw revert data.
      const { functionName, args } = decodeFunctionData({ abi: attributionRegistryAbi, data: tx.input });
      await simulateContract(client, {
        address: tx.to,
        abi: attributionRegistryAbi,
        functionName: functionName as RegistryWriteFunction,
        args: args as never,
        account: tx.from,
        blockNumber,
      });
    } else {
      await call(client, { account: tx.from, data: tx.input, blockNumber });
    }
  } catch (error) {
    const typed = toChainError(error, context);
    if (typed.code !== 'CHAIN_RPC_FAILED') {
      typed.data.status = 'reverted-on-chain';
      typed.data.blockNumber = receipt.blockNumber;
      return typed;
    }
  }
  return new ProvenantError('CHAIN_REVERTED', `${action} reverted on chain (the reason could not be reproduced by replaying it).`, {
    metaMessages: [`transaction: ${receipt.transactionHash}`, `block: ${receipt.blockNumber}`],
    data: { ...context, status: 'reverted-on-chain', blockNumber: receipt.blockNumber },
  });
}

/**
 * Signs (or asks the node to sign) and broadcasts `data` to `to` (or a contract creation), without waiting: returns
 * the hash and nonce (and, for local accounts, the signed bytes). Gas estimation runs here, so a call that would
 * revert throws the decoded revert (CHAIN_REVERTED / CHAIN_UNAUTHORIZED) even with `simulate: false`.
 *
 * @example
 * ```ts
 * import { signAndBroadcast, type RegistryClient } from 'provenant/chain';
 * import { type Hex } from 'provenant';
 * declare const client: RegistryClient;
 * declare const registry: Hex;
 * declare const data: Hex;
 * const { hash, nonce } = await signAndBroadcast(client, { to: registry, data, action: 'publish' });
 * ```
 */
export async function signAndBroadcast(
  client: RegistryClient,
  parameters: WriteOptions & { to?: Address; data: Hex; action: string },
): Promise<SignedTransactionInfo> {
  const { action, to, data } = parameters;
  if (to !== undefined) assertArgument(isHex(to, 20), 'to', 'must be a 20-byte address', to);
  const account = resolveAccount(client, parameters.account, action);
  const context = { action, address: to };
  let info: SignedTransactionInfo;
  try {
    if (account.type === 'local') {
      // A nonce we chose ourselves may be taken by a concurrent send from the same account (two publishes in
      // parallel read the same pending count): then the signed bytes can never be mined, so sign again with a fresh
      // nonce. A nonce pinned by the caller is never changed here.
      for (let attempt = 0; ; attempt++) {
        const request = await withRetry(
          () =>
            prepareTransactionRequest(client, {
              account,
              chain: client.chain ?? null,
              to: to ?? null,
              data,
              ...(parameters.gas !== undefined ? { gas: parameters.gas } : {}),
              ...(parameters.nonce !== undefined ? { nonce: parameters.nonce } : {}),
            } as never),
          parameters.retry,
        );
        const raw = await account.signTransaction(request as never, { serializer: client.chain?.serializers?.transaction });
        info = { hash: keccak256(raw), nonce: (request as { nonce: number }).nonce, raw };
        await parameters.onSigned?.(info);
        try {
          await broadcastRawTransaction(client, raw, parameters.retry);
          break;
        } catch (error) {
          const taken = error instanceof ProvenantError && error.data.nonceConsumed === true;
          if (!taken || parameters.nonce !== undefined || attempt >= 5) throw error;
        }
      }
    } else {
      const nonce =
        parameters.nonce ??
        (await withRetry(() => getTransactionCount(client, { address: account.address, blockTag: 'pending' }), parameters.retry));
      const hash = await withRetry(
        () =>
          sendTransaction(client, {
            account,
            chain: client.chain ?? null,
            to: to ?? null,
            data,
            nonce,
            ...(parameters.gas !== undefined ? { gas: parameters.gas } : {}),
          } as never),
        parameters.retry,
      );
      info = { hash, nonce };
    }
    await parameters.onSent?.(info);
  } catch (error) {
    throw toChainError(error, context);
  }
  return info;
}

/**
 * Signs (or asks the node to sign) and broadcasts `data` to `to` (or a contract creation), then waits for the receipt
 * with `confirmations`. The transaction hash reaches `onSigned` before broadcast, so a crash never leaves a transaction
 * the caller does not know about; transport failures are retried with backoff.
 *
 * @throws ProvenantError `CHAIN_REVERTED` / `CHAIN_UNAUTHORIZED` (decoded, from gas estimation or the receipt),
 *   `CHAIN_TX_REPLACED` when another transaction with the same nonce was mined instead, `CHAIN_RPC_FAILED` for transport
 *   failures, `INVALID_ARGUMENT` for a missing or malformed account or `to`.
 * @example
 * ```ts
 * import { sendReliably, type RegistryClient } from 'provenant/chain';
 * import type { Hex } from 'provenant';
 *
 * declare const client: RegistryClient;
 * declare const registry: Hex, data: Hex;
 * const { txHash, receipt } = await sendReliably(client, { to: registry, data, action: 'publish', onSigned: (tx) => console.log('signed', tx.hash) });
 * receipt.blockNumber; // bigint
 * ```
 */
export async function sendReliably(
  client: RegistryClient,
  parameters: WriteOptions & { to?: Address; data: Hex; action: string },
): Promise<SentTransaction> {
  const info = await signAndBroadcast(client, parameters);
  const receipt = await waitForConfirmedReceipt(client, info.hash, { ...parameters, address: parameters.to });
  return { txHash: info.hash, receipt };
}

/**
 * Simulates (unless `simulate: false`), then sends a typed registry call through {@link sendReliably}: the revert of a
 * call that would fail is decoded before any gas is spent.
 *
 * @throws ProvenantError `CHAIN_REVERTED` / `CHAIN_UNAUTHORIZED` with the decoded custom error, `CHAIN_TX_REPLACED`,
 *   `CHAIN_RPC_FAILED`, `INVALID_ARGUMENT` for a missing or malformed account or address.
 * @example
 * ```ts
 * import { writeRegistry, type RegistryClient } from 'provenant/chain';
 * import type { Hex } from 'provenant';
 *
 * declare const client: RegistryClient;
 * declare const registry: Hex, publisher: Hex;
 * const { txHash } = await writeRegistry(client, { address: registry, functionName: 'setPublisher', args: [publisher, true], action: 'setPublisher' });
 * ```
 */
export async function writeRegistry<F extends RegistryWriteFunction>(
  client: RegistryClient,
  parameters: WriteOptions & {
    address: Address;
    functionName: F;
    args: ContractFunctionArgs<RegistryAbi, 'nonpayable', F>;
    action: string;
  },
): Promise<SentTransaction> {
  const { address, functionName, args, action } = parameters;
  const account = resolveAccount(client, parameters.account, action);
  if (parameters.simulate ?? true) await simulateRegistryWrite(client, { ...parameters, args: args as readonly unknown[], account });
  const data = encodeFunctionData({ abi: attributionRegistryAbi, functionName, args } as never);
  return sendReliably(client, { ...parameters, account, to: address, data });
}

/**
 * Runs a registry write as an `eth_call` from the sender: resolves when it would succeed, throws the decoded revert
 * (CHAIN_REVERTED / CHAIN_UNAUTHORIZED) when it would not. Costs no gas.
 *
 * @example
 * ```ts
 * import { simulateRegistryWrite, type RegistryClient } from 'provenant/chain';
 * import { type Hex } from 'provenant';
 * declare const client: RegistryClient;
 * declare const address: Hex;
 * declare const args: readonly unknown[];
 * await simulateRegistryWrite(client, { address, functionName: 'publishAttributionBatch', args, action: 'check' });
 * ```
 */
export async function simulateRegistryWrite(
  client: RegistryClient,
  parameters: Pick<WriteOptions, 'account' | 'retry'> & { address: Address; functionName: string; args: readonly unknown[]; action: string },
): Promise<void> {
  const { address, functionName, args, action } = parameters;
  assertArgument(isHex(address, 20), 'address', 'must be the registry address', address);
  const account = resolveAccount(client, parameters.account, action);
  await withRetry(
    () => simulateContract(client, { address, abi: attributionRegistryAbi, functionName, args, account } as never),
    parameters.retry,
  ).catch((error: unknown) => {
    throw toChainError(error, { action, address });
  });
}
