/**
 * Registry events, decoded with the registry ABI: `watchRegistryEvents` streams new ones (polling, or subscriptions on
 * a WebSocket client), `getRegistryEvents` reads a block range (e.g. to index history, or to audit that a batch id was
 * published exactly once).
 */
import type { Address, BlockNumber, BlockTag, ContractEventName, Log } from 'viem';
import { getContractEvents, watchContractEvent } from 'viem/actions';
import { assertArgument, isHex } from '../core/index.js';
import { toChainError } from './chain-error.js';
import { attributionRegistryAbi } from './contracts/attribution-registry.js';
import { withRetry, type RetryOptions } from './retry.js';
import type { RegistryAbi, RegistryClient } from './send-transaction.js';

export type RegistryEventName = ContractEventName<RegistryAbi>;

/** A decoded registry log: `eventName` and typed `args`. */
export type RegistryEventLog<E extends RegistryEventName = RegistryEventName> = Log<bigint, number, false, undefined, true, RegistryAbi, E>;

/** The logs of event `E`, or of every registry event when `E` is undefined. */
export type RegistryEventLogs<E extends RegistryEventName | undefined> = RegistryEventLog<E extends RegistryEventName ? E : RegistryEventName>[];

export interface WatchRegistryEventsParameters<E extends RegistryEventName | undefined = undefined> {
  address: Address;
  /** Only this event (default: all registry events). */
  eventName?: E;
  /** Indexed-argument filter, e.g. `{ batchId }` for `AttributionBatchPublished`. */
  args?: Record<string, unknown>;
  onLogs: (logs: RegistryEventLogs<E>) => void;
  onError?: (error: Error) => void;
  /** Also deliver logs from this block on. */
  fromBlock?: bigint;
  /** Polling interval in ms (HTTP transports). */
  pollingInterval?: number;
}

/**
 * Calls `onLogs` with each new batch of registry events; returns the function that stops watching.
 *
 * @example
 * ```ts
 * import { type Hex } from 'provenant';
 * import { watchRegistryEvents, type RegistryClient } from 'provenant/chain';
 * declare const client: RegistryClient;
 * declare const address: Hex;
 * const stop = watchRegistryEvents(client, { address, eventName: 'AttributionBatchPublished', onLogs: (logs) => console.log(logs.length, 'batches') });
 * stop(); // unsubscribe
 * ```
 */
export function watchRegistryEvents<E extends RegistryEventName | undefined = undefined>(
  client: RegistryClient,
  parameters: WatchRegistryEventsParameters<E>,
): () => void {
  const { onError } = parameters;
  assertArgument(isHex(parameters.address, 20), 'address', 'must be the registry address', parameters.address);
  return watchContractEvent(client, {
    address: parameters.address,
    abi: attributionRegistryAbi,
    eventName: parameters.eventName,
    args: parameters.args,
    strict: true,
    fromBlock: parameters.fromBlock,
    pollingInterval: parameters.pollingInterval,
    onLogs: parameters.onLogs as never,
    onError: onError ? (error: Error) => onError(toChainError(error, { action: 'watchRegistryEvents', address: parameters.address })) : undefined,
  } as never);
}

export interface GetRegistryEventsParameters<E extends RegistryEventName | undefined = undefined> {
  address: Address;
  eventName?: E;
  args?: Record<string, unknown>;
  /** Default: the earliest block. */
  fromBlock?: BlockNumber | BlockTag;
  /** Default: latest. */
  toBlock?: BlockNumber | BlockTag;
  retry?: RetryOptions;
}

/**
 * Reads decoded registry events in a block range.
 *
 * @example
 * ```ts
 * import { getRegistryEvents, type RegistryClient } from 'provenant/chain';
 * import { type Hex } from 'provenant';
 * declare const client: RegistryClient;
 * declare const address: Hex;
 * declare const batchId: unknown;
 * const logs = await getRegistryEvents(client, { address, eventName: 'AttributionBatchPublished', args: { batchId } });
 * logs.length; // 1: published once
 * ```
 */
export async function getRegistryEvents<E extends RegistryEventName | undefined = undefined>(
  client: RegistryClient,
  parameters: GetRegistryEventsParameters<E>,
): Promise<RegistryEventLogs<E>> {
  assertArgument(isHex(parameters.address, 20), 'address', 'must be the registry address', parameters.address);
  return withRetry<RegistryEventLogs<E>>(
    () =>
      getContractEvents(client, {
        address: parameters.address,
        abi: attributionRegistryAbi,
        eventName: parameters.eventName,
        args: parameters.args,
        strict: true,
        fromBlock: parameters.fromBlock ?? 'earliest',
        toBlock: parameters.toBlock ?? 'latest',
      } as never) as unknown as Promise<RegistryEventLogs<E>>,
    parameters.retry,
  ).catch((error: unknown) => {
    throw toChainError(error, { action: 'getRegistryEvents', address: parameters.address });
  });
}
