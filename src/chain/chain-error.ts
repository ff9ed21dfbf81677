/**
 * viem errors → Provenant's typed chain errors. A revert becomes `CHAIN_REVERTED` (or `CHAIN_UNAUTHORIZED` for the
 * registry's `NotPublisher`/`NotOwner`) with the custom error decoded from the registry ABI — name, arguments and a
 * one-line reason a user can act on. Transport failures become `CHAIN_RPC_FAILED`; `isRetryableRpcError` says which of
 * them a retry can fix.
 */
import { BaseError, ContractFunctionRevertedError } from 'viem';
import { describeValue, ProvenantError, type ProvenantErrorCode } from '../core/index.js';

export interface DecodedRevert {
  /** The custom error's name (`BatchExists`), `Error` for `require(…, "reason")`, or `Panic`. */
  errorName: string;
  args: readonly unknown[];
  /** A readable rendering: `BatchExists(0x12…)`. */
  reason: string;
}

const UNAUTHORIZED = new Set(['NotPublisher', 'NotOwner']);

/** Finds and decodes a contract revert anywhere in an error's cause chain; null when the error is not a revert. */
export function decodeRevert(error: unknown): DecodedRevert | null {
  if (!(error instanceof BaseError)) return null;
  const revert = error.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
  if (!revert) return null;
  const errorName = revert.data?.errorName ?? (revert.reason !== undefined ? 'Error' : 'UnknownRevert');
  const args = revert.data?.args ?? (revert.reason !== undefined ? [revert.reason] : []);
  const reason = revert.data
    ? `${errorName}(${args.map((a) => describeValue(a, 80)).join(', ')})`
    : (revert.reason ?? revert.signature ?? 'execution reverted without a reason');
  return { errorName, args, reason };
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
 * 408/429/5xx) or the node was rate-limited or unavailable. Reverts, bad arguments and nonce errors are never retryable.
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

/** Wraps any error from a chain call into a ProvenantError with a stable code and the decoded revert, if any. */
export function toChainError(error: unknown, context: ChainErrorContext): ProvenantError {
  if (error instanceof ProvenantError) return error;
  const where = [
    ...(context.address ? [`registry: ${context.address}`] : []),
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
      data: { action: context.action, errorName: revert.errorName, args: revert.args, txHash: context.txHash },
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
