/**
 * Every error Provenant throws is a `ProvenantError` with a stable `code`, so callers can branch on it
 * (`if (e instanceof ProvenantError && e.code === 'DATANET_ROW_INVALID')`) without parsing messages.
 * The shape follows viem's BaseError: a one-line `shortMessage` a user can act on, `details`, the offending
 * values in `metaMessages`, and `walk()` to find a root cause.
 */
import { isAccountLike, redactHexSecrets, redactingReplacer } from './redact.js';

/** Stable error codes. Add new codes at the end of their group; never rename one. */
export type ProvenantErrorCode =
  // core
  | 'INVALID_ARGUMENT'
  | 'RNG_SEED_INVALID'
  | 'ABI_ENCODING_INVALID'
  | 'MERKLE_TREE_EMPTY'
  | 'MERKLE_INDEX_OUT_OF_RANGE'
  | 'MERKLE_LEAF_NOT_FOUND'
  | 'MERKLE_PROOF_INVALID'
  | 'JSON_NOT_CANONICAL'
  | 'FILE_NOT_FOUND'
  | 'FILE_READ_FAILED'
  | 'FILE_WRITE_FAILED'
  // datanet
  | 'DATANET_ROW_INVALID'
  | 'DATANET_CONTRIBUTION_INVALID'
  | 'DATANET_SCHEMA_INVALID'
  | 'DATANET_SNAPSHOT_INVALID'
  | 'DATANET_SPLIT_INVALID'
  | 'DATANET_JSONL_MALFORMED'
  | 'DATANET_ROW_NOT_FOUND'
  | 'DATASET_PACKAGE_MISSING'
  | 'DATANET_ENCODING_INVALID'
  // finetune
  | 'BACKEND_UNAVAILABLE'
  | 'MODEL_CONFIG_INVALID'
  | 'LORA_CONFIG_INVALID'
  | 'LORA_SHAPE_MISMATCH'
  | 'LORA_TARGET_NOT_FOUND'
  | 'ADAPTER_NOT_FOUND'
  | 'ADAPTER_KEYS_MISSING'
  | 'ADAPTER_KEYS_UNEXPECTED'
  | 'ADAPTER_DTYPE_MISMATCH'
  | 'ADAPTER_BASE_MISMATCH'
  | 'SAFETENSORS_INVALID'
  | 'CHECKPOINT_INVALID'
  | 'TRAINING_CONFIG_INVALID'
  | 'TRAINING_NON_FINITE_LOSS'
  | 'PRETRAINED_NOT_FOUND'
  | 'PRETRAINED_CONFIG_UNSUPPORTED'
  | 'PRETRAINED_WEIGHTS_MISMATCH'
  | 'TOKENIZER_INVALID'
  | 'ADAPTER_UNSUPPORTED'
  | 'ADAPTER_WEIGHTS_INVALID'
  | 'TRAINING_EXAMPLE_INVALID'
  | 'PRETRAINED_WEIGHTS_INVALID'
  // eval
  | 'EVAL_INPUT_INVALID'
  | 'EVAL_LENGTH_MISMATCH'
  | 'EVAL_PROBABILITIES_INVALID'
  | 'EVAL_GATE_INVALID'
  // attribution
  | 'ATTRIBUTION_INPUT_INVALID'
  | 'ATTRIBUTION_SHAPE_MISMATCH'
  | 'ATTRIBUTION_FEATURE_STORE_INVALID'
  | 'ATTRIBUTION_NOT_CONVERGED'
  | 'REWARD_SPLIT_INVALID'
  | 'ATTRIBUTION_INDEX_DISPOSED'
  // audit
  | 'AUDIT_RECORD_INVALID'
  | 'OPTIONAL_DEPENDENCY_MISSING'
  // chain
  | 'CHAIN_RPC_FAILED'
  | 'CHAIN_REVERTED'
  | 'CHAIN_UNAUTHORIZED'
  | 'CHAIN_RECORD_NOT_FOUND'
  | 'CHAIN_QUEUE_INVALID'
  | 'CHAIN_RECORD_CONFLICT'
  | 'CHAIN_NODE_FAILED'
  | 'CHAIN_ARTIFACT_STALE'
  | 'CHAIN_TX_REPLACED'
  | 'CHAIN_NOT_A_REGISTRY';

export interface ProvenantErrorOptions {
  /** Longer explanation: why this happened and how to fix it. */
  details?: string;
  /** The offending values, one line each (e.g. `row 17: label "spamm" not in [ham, spam]`). */
  metaMessages?: string[];
  /** Structured data for programs (indices, keys, shapes). */
  data?: Record<string, unknown>;
  /** Where the user can read more, relative to the README. */
  docsPath?: string;
  cause?: unknown;
}

const BRAND = Symbol.for('provenant.error');

export class ProvenantError extends Error {
  /**
   * `instanceof` by brand, not by identity: the `provenant` and `provenant/chain` bundles (and two installed copies of the
   * package) each carry their own class, and an error from one must still be recognised by the other.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  override readonly name = 'ProvenantError';
  readonly code: ProvenantErrorCode;
  readonly shortMessage: string;
  readonly details?: string;
  readonly metaMessages: string[];
  readonly data: Record<string, unknown>;
  readonly docsPath?: string;

  constructor(code: ProvenantErrorCode, shortMessage: string, options: ProvenantErrorOptions = {}) {
    const lines = [shortMessage];
    if (options.metaMessages?.length) lines.push('', ...options.metaMessages);
    if (options.details) lines.push('', `Details: ${options.details}`);
    if (options.docsPath) lines.push(`Docs: ${options.docsPath}`);
    lines.push(`Code: ${code}`);
    super(lines.join('\n'), options.cause === undefined ? undefined : { cause: options.cause });
    Object.defineProperty(this, BRAND, { value: true });
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = options.details;
    this.metaMessages = options.metaMessages ?? [];
    this.data = options.data ?? {};
    this.docsPath = options.docsPath;
  }

  /** Follows `cause` links; returns the deepest error, or the first one for which `predicate` holds. */
  walk(predicate?: (error: unknown) => boolean): unknown {
    let current: unknown = this;
    for (;;) {
      if (predicate?.(current)) return current;
      const next = (current as { cause?: unknown } | null)?.cause;
      if (next === undefined || next === null) return predicate ? null : current;
      current = next;
    }
  }
}

/**
 * True when `error` is a ProvenantError, optionally with the given code.
 *
 * @example
 * ```ts
 * import { isProvenantError } from 'provenant';
 * declare const error: unknown;
 * if (isProvenantError(error, 'DATANET_ROW_INVALID')) console.log(error.metaMessages);
 * ```
 */
export function isProvenantError(error: unknown, code?: ProvenantErrorCode): error is ProvenantError {
  return error instanceof ProvenantError && (code === undefined || error.code === code);
}

/**
 * Throws `INVALID_ARGUMENT` naming the argument unless `condition` holds.
 *
 * @example
 * ```ts
 * import { assertArgument } from 'provenant';
 * declare const k: number;
 * assertArgument(Number.isInteger(k) && k > 0, 'k', 'must be a positive integer', k); // throws INVALID_ARGUMENT naming k
 * ```
 */
export function assertArgument(condition: unknown, name: string, message: string, value?: unknown): asserts condition {
  if (!condition) {
    throw new ProvenantError('INVALID_ARGUMENT', `Invalid argument "${name}": ${message}`, {
      metaMessages: value === undefined ? [] : [`value: ${describeValue(value)}`],
      data: { argument: name },
    });
  }
}

/**
 * A short, safe rendering of a value for error messages (never throws, never prints megabytes, never prints key
 * material: 64-hex-digit runs, secret-named fields and account objects are redacted *before* truncation, so not even a
 * prefix of a key survives — see `redact.ts`).
 *
 * @example
 * ```ts
 * import { describeValue } from 'provenant';
 * describeValue(Number.NaN); // 'NaN'
 * describeValue(10n); // '10n'
 * ```
 */
export function describeValue(value: unknown, maxLength = 120): string {
  let text: string;
  try {
    if (typeof value === 'bigint') text = `${value}n`;
    else if (typeof value === 'number' && !Number.isFinite(value)) text = String(value);
    else if (typeof value === 'string') text = JSON.stringify(value);
    else if (ArrayBuffer.isView(value)) text = `${value.constructor.name}(${(value as unknown as ArrayLike<number>).length})`;
    else text = JSON.stringify(value, redactingReplacer) ?? String(value);
  } catch {
    text = isAccountLike(value) ? '<account>' : String(value);
  }
  text = redactHexSecrets(text);
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}
