/**
 * viem errors → Provenant's typed chain errors. A revert becomes `CHAIN_REVERTED` (or `CHAIN_UNAUTHORIZED` for the
 * registry's `NotPublisher`/`NotOwner`) with the custom error decoded from the registry ABI — name, arguments and a
 * one-line reason a user can act on. Transport failures become `CHAIN_RPC_FAILED`; `isRetryableRpcError` says which of
 * them a retry can fix.
 */
import { BaseError, ContractFunctionRevertedError, ContractFunctionZeroDataError, InvalidAddressError, decodeErrorResult, type Hex } from 'viem';
import { describeValue, isHex, ProvenantError, type ProvenantErrorCode } from '../core/index.js';
import { attributionRegistryAbi } from './contracts/attribution-registry.js';

export interface DecodedRevert {
  /** The custom error's name (`BatchExists`), `Error` for `require(…, "reason")`, or `Panic`. */
  errorName: string;
  args: readonly unknown[];
  /** A readable rendering: `BatchExists(0x12…)`. */
  reason: string;
}

const UNAUTHORIZED = new Set(['NotPublisher', 'NotOwner']);

/** Revert arguments are public chain data (ids, roots, addresses): rendered in full, unlike echoed user input. */
function renderArgument(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return isHex(value) ? value : JSON.stringify(value);
  return String(value);
}

/**
 * The raw revert data anywhere in an error's cause chain: a node answering `eth_estimateGas`, `eth_call` or
 * `eth_sendTransaction` with "execution reverted" puts the ABI-encoded custom error in the JSON-RPC error's `data`
 * (viem keeps it on `RpcRequestError.data` / `RawContractError.data`, but does not decode it outside `simulateContract`).
 */
function findRevertData(error: BaseError): Hex | null {
  let found: Hex | null = null;
  error.walk((e) => {
    const data = (e as { data?: unknown }).data;
    const candidate = typeof data === 'string' ? data : typeof (data as { data?: unknown })?.data === 'string' ? (data as { data: string }).data : undefined;
    if (candidate && /^0x[0-9a-fA-F]{8,}$/.test(candidate)) found = candidate as Hex;
    return false;
  });
  return found;
}

/**
 * Finds and decodes a contract revert anywhere in an error's cause chain; null when the error is not a revert (or not a
 * viem `BaseError`). Decoded against the registry ABI (plus `Error(string)` and `Panic(uint256)`), whether viem decoded
 * it (simulation) or only carried the raw bytes (gas estimation, a node-signed send); a selector outside the ABI is
 * `errorName: 'UnknownRevert'`.
 *
 * @example
 * ```ts
 * import { decodeRevert, writeRegistry, type RegistryClient } from 'provenant/chain';
 *
 * declare const client: RegistryClient;
 * declare const parameters: Parameters<typeof writeRegistry>[1];
 * try {
 *   await writeRegistry(client, parameters);
 * } catch (error) {
 *   const revert = decodeRevert((error as { cause?: unknown }).cause); // { errorName: 'BatchExists', args: […], reason: 'BatchExists(0x12…)' } or null
 * }
 * ```
 */
export function decodeRevert(error: unknown): DecodedRevert | null {
  if (!(error instanceof BaseError)) return null;
  const revert = error.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
  if (revert && (revert.data || revert.reason !== undefined)) {
    const errorName = revert.data?.errorName ?? 'Error';
    const args = revert.data?.args ?? [revert.reason];
    const reason = revert.data ? `${errorName}(${args.map(renderArgument).join(', ')})` : revert.reason!;
    return { errorName, args, reason };
  }
  const data = findRevertData(error);
  if (data) {
    try {
      const decoded = decodeErrorResult({ abi: attributionRegistryAbi, data });
      const args = (decoded.args ?? []) as readonly unknown[];
      if ((decoded.errorName as string) === 'Error') return { errorName: 'Error', args, reason: String(args[0]) };
      return { errorName: decoded.errorName, args, reason: `${decoded.errorName}(${args.map(renderArgument).join(', ')})` };
    } catch {
      return { errorName: 'UnknownRevert', args: [data], reason: `custom error ${data.slice(0, 10)} (not in the registry ABI)` };
    }
  }
  if (revert) return { errorName: 'UnknownRevert', args: [], reason: revert.signature ?? 'execution reverted without a reason' };
  return null;
}

const RETRYABLE_NAMES = new Set([
  'HttpRequestError',
  'TimeoutError',
  'SocketClosedError',
  'WebSocketRequestError',
  'LimitExceededRpcError',
  'ResourceUnavailableRpcError',
  'InternalRpcError',
  'UnknownRpcError',
]);

/**
 * True when retrying the same request may succeed: the transport failed (connection refused or reset, timeout, HTTP
 * 408/429/5xx) or the node was rate-limited or unavailable. Reverts, bad arguments and nonce errors are never
 * retryable. The default `shouldRetry` of {@link withRetry}.
 *
 * @example
 * ```ts
 * import { isRetryableRpcError, withRetry } from 'provenant/chain';
 *
 * declare const readBlock: () => Promise<bigint>;
 * const block = await withRetry(readBlock, { retries: 3, shouldRetry: (e, attempt) => attempt <= 3 && isRetryableRpcError(e) });
 * ```
 */
export function isRetryableRpcError(error: unknown): boolean {
  if (decodeRevert(error)) return false;
  let current: unknown = error;
  for (let depth = 0; current && depth < 10; depth++) {
    const e = current as { name?: string; status?: number; code?: string | number; message?: string; cause?: unknown };
    if (e.name === 'HttpRequestError') {
      return e.status === undefined || e.status === 408 || e.status === 429 || e.status >= 500;
    }
    if (e.name && RETRYABLE_NAMES.has(e.name)) return true;
    if (typeof e.code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET'].includes(e.code)) return true;
    current = e.cause;
  }
  return false;
}

export interface ChainErrorContext {
  /** The action that failed, e.g. `publishAttributionBatch`. */
  action: string;
  address?: string;
  txHash?: string;
}

/**
 * Wraps any error from a chain call into a ProvenantError with a stable code and the decoded revert, if any (a
 * ProvenantError passes through unchanged). Codes: `CHAIN_UNAUTHORIZED` (the registry's `NotPublisher`/`NotOwner`),
 * `CHAIN_REVERTED` (any other revert; `data.errorName`, `data.args`, `data.reason`), `CHAIN_NOT_A_REGISTRY` (the
 * address returned no data), `INVALID_ARGUMENT` (a malformed address, never echoed raw), else `CHAIN_RPC_FAILED`
 * (`data.retryable`). Returns the error; it does not throw it.
 *
 * @example
 * ```ts
 * import { toChainError } from 'provenant/chain';
 *
 * declare const readBlockNumber: () => Promise<bigint>; // e.g. () => getBlockNumber(client) with viem
 * const block = await readBlockNumber().catch((error: unknown) => {
 *   throw toChainError(error, { action: 'getBlockNumber' }); // e.g. code 'CHAIN_RPC_FAILED', data.retryable true
 * });
 * ```
 */
export function toChainError(error: unknown, context: ChainErrorContext): ProvenantError {
  if (error instanceof ProvenantError) return error;
  // Never echo an address argument raw: a private key passed where the address belongs would be printed in full.
  const address = context.address === undefined ? undefined : isHex(context.address, 20) ? context.address : describeValue(context.address);
  if (error instanceof BaseError && error.walk((e) => e instanceof InvalidAddressError)) {
    // viem's message quotes the bad value; the cause is dropped so no logger can print it from the chain either.
    return new ProvenantError('INVALID_ARGUMENT', `${context.action}: an address argument is not a 20-byte 0x-hex address.`, {
      metaMessages: [`value: ${describeValue((/Address "(.*)" is invalid/.exec(error.message) ?? [])[1] ?? '(unknown)')}`],
      data: { action: context.action },
    });
  }
  const where = [
    ...(address ? [`registry: ${address}`] : []),
    ...(context.txHash ? [`transaction: ${context.txHash}`] : []),
  ];
  const revert = decodeRevert(error);
  if (revert) {
    const code: ProvenantErrorCode = UNAUTHORIZED.has(revert.errorName) ? 'CHAIN_UNAUTHORIZED' : 'CHAIN_REVERTED';
    return new ProvenantError(code, `${context.action} reverted: ${revert.reason}.`, {
      metaMessages: where,
      details:
        code === 'CHAIN_UNAUTHORIZED'
          ? 'The sending account is not allowed to do this; the registry owner can add it with setPublisher.'
          : 'The registry rejected the call; the decoded reason names the check that failed.',
      data: { action: context.action, errorName: revert.errorName, args: revert.args, reason: revert.reason, txHash: context.txHash },
      cause: error,
    });
  }
  if (error instanceof BaseError && error.walk((e) => e instanceof ContractFunctionZeroDataError)) {
    return new ProvenantError('CHAIN_NOT_A_REGISTRY', `${context.action}: the contract at ${address ?? 'the given address'} returned no data — it is not an AttributionRegistry.`, {
      metaMessages: where,
      details: 'An account without code, or a contract with another interface, answers calls without returning a record. Check the registry address (and the chain).',
      data: { action: context.action, address },
      cause: error,
    });
  }
  const short = error instanceof BaseError ? error.shortMessage : error instanceof Error ? error.message : String(error);
  return new ProvenantError('CHAIN_RPC_FAILED', `${context.action} failed: ${short.split('\n')[0]}`, {
    metaMessages: where,
    data: { action: context.action, retryable: isRetryableRpcError(error), txHash: context.txHash },
    cause: error,
  });
}
