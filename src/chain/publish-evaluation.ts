import type { Address, Hex } from 'viem';
import { evaluationId as computeEvaluationId } from './attribution-record.js';
import type { EvaluationRecord } from './get-record.js';
import { publishOnce, type PublishReturnType } from './publish-once.js';
import { writeRegistry, type RegistryClient, type WriteOptions } from './send-transaction.js';

export interface PublishEvaluationParameters extends WriteOptions {
  address: Address;
  /** The evaluated model's registry id (it must be published first). */
  modelId: Hex;
  /** Hash of the evaluation summary (e.g. sha256 or keccak256 of the audit record's canonical JSON). */
  summaryHash: Hex;
  /** Where the full evaluation can be read; may be empty. */
  uri?: string;
}

/**
 * Publishes an evaluation summary hash for a model. Id = `evaluationId(modelId, summaryHash)`; republishing is a no-op,
 * and an unknown model is rejected by the registry (CHAIN_REVERTED, `ModelNotFound`).
 *
 * @example
 * ```ts
 * import { canonicalJson, sha256, type Hex } from 'provenant';
 * import { publishEvaluation, type RegistryClient } from 'provenant/chain';
 * declare const client: RegistryClient;
 * declare const address: Hex;
 * declare const modelId: Hex; // from publishModel
 * declare const summary: unknown;
 * await publishEvaluation(client, { address, modelId, summaryHash: sha256(canonicalJson(summary)), uri: 'ipfs://…' });
 * ```
 */
export async function publishEvaluation(client: RegistryClient, parameters: PublishEvaluationParameters): Promise<PublishReturnType<EvaluationRecord>> {
  const { address, modelId, summaryHash } = parameters;
  const uri = parameters.uri ?? '';
  const id = computeEvaluationId(modelId, summaryHash);
  return publishOnce<EvaluationRecord>(client, { address, kind: 'evaluation', evaluationId: id, retry: parameters.retry }, {
    action: 'publishEvaluation',
    existsError: 'EvaluationExists',
    matches: (r) => r.uri === uri,
    describe: (r) => [`evaluationId: ${r.evaluationId}`, `on chain uri: ${JSON.stringify(r.uri)}`, `given uri:    ${JSON.stringify(uri)}`],
    send: () =>
      writeRegistry(client, { ...parameters, action: 'publishEvaluation', functionName: 'publishEvaluation', args: [modelId, summaryHash, uri] }),
  });
}
