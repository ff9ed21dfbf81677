/**
 * The audit record: one JSON object that binds a fine-tune's data, decisions, evaluation, attribution, rewards and on-chain
 * proofs, so a compliance team can check each claim. Versioned (`schema`), validated against `AUDIT_RECORD_SCHEMA` when
 * written and when read. bigint amounts are decimal strings (JSON has no integers beyond 2^53).
 *
 * Volatile fields — `createdAt`, `timings`, and chain transaction hashes — are the only ones allowed to differ between two
 * runs with the same seed and data; `stableAuditView` removes them for comparison.
 */
import { ProvenantError, findDuplicateJsonKey, readTextFileChecked, writeFileAtomic } from '../core/index.js';
import { validateJsonSchema, type SchemaViolation } from './json-schema.js';
import { AUDIT_RECORD_SCHEMA, AUDIT_SCHEMA_ID, INTEGRITY_ALGORITHM } from './schema.js';

export type HexString = `0x${string}`;

/** One decision: its value, its default and what it does — the record prints every one, default or not. */
export interface AuditParameter {
  name: string;
  value: unknown;
  default: unknown;
  meaning: string;
}

export interface Interval {
  value: number;
  low: number;
  high: number;
}

export interface AuditContributor {
  id: string;
  rows: number;
  bytes: number;
  labels: Record<string, number>;
  duplicates: number;
  rejections: number;
  licence?: string;
  role?: string;
}

export interface AuditEvalTask {
  name: string;
  kind: 'domain' | 'retained';
  metric: string;
  higherIsBetter: boolean;
  base: Interval;
  tuned: Interval;
  delta: Interval & { pValue: number };
  verdict: 'improved' | 'no significant change' | 'regressed';
}

/** The rule a gate applied (threshold or verdict), recorded so the verdict can be re-decided from the numbers. */
export interface AuditGateRule {
  task: string;
  quantity?: 'base' | 'tuned' | 'delta' | 'relativeDelta' | 'kl' | 'js';
  atLeast?: number;
  atMost?: number;
  on?: 'point' | 'interval';
  verdict?: 'improved' | 'not-regressed';
}

export interface AuditGateCheck {
  name: string;
  pass: boolean;
  reason: string;
  rule?: AuditGateRule;
  /** The point value compared (null for a verdict gate). */
  observed?: number | null;
  /** The interval of the quantity (compared when `rule.on` is 'interval'). */
  low?: number;
  high?: number;
}

/** Digests that make the record tamper-evident (see `buildAuditRecord`, `verifyAuditRecord`). */
export interface AuditIntegrity {
  algorithm: typeof INTEGRITY_ALGORITHM;
  /** Digest of each part: datanet, baseModel, fineTuning, evaluation, attribution, rewards (and sections). */
  parts: Record<string, HexString>;
  /** Digest of the whole record except `integrity` and `chain` (the chain section is written after publishing). */
  digest: HexString;
  /** Digest of the `chain` section (re-sealed by `attachChainSection` when the section is replaced). */
  chainDigest?: HexString;
}

export interface AuditQuery {
  id: string;
  input: string;
  prediction: { label: string; probability: number };
  topProponents: { rowId: string; contributor: string; score: number }[];
  topOpponents: { rowId: string; contributor: string; score: number }[];
  contributorShares: Record<string, number>;
}

export interface AuditChainPublished {
  status: 'published';
  chainId: number;
  registry: HexString;
  transactions: { kind: string; txHash: HexString; gasUsed: string }[];
  attributionBatch: {
    batchId: HexString;
    root: HexString;
    leafEncoding: string[];
    leaf: unknown[];
    proof: HexString[];
    verifiedOnChain: boolean;
    verifiedOffChain: boolean;
  };
}

export interface AuditRecord {
  schema: typeof AUDIT_SCHEMA_ID;
  createdAt: string;
  generator: { name: string; version: string };
  environment: { node: string; platform: string; backend: string; tfjsVersion: string; [key: string]: unknown };
  seed: number;
  datanet: {
    name: string;
    version: number;
    root: HexString;
    leafEncoding: string[];
    rows: number;
    duplicatesRemoved: number;
    rejections: number;
    contributors: AuditContributor[];
    splits: { train: number; validation: number; test: number; [key: string]: unknown };
    proofExample: { rowId: string; rowHash: HexString; proof: HexString[]; verified: boolean };
  };
  baseModel: { name: string; hash: HexString; config: Record<string, unknown>; heldOutPerplexity?: number };
  fineTuning: {
    adapterName: string;
    adapterHash: HexString;
    task: string;
    parameters: AuditParameter[];
    log: { steps: number; finalLoss: number; lossCurve: { step: number; loss: number; lr: number }[] };
  };
  evaluation: {
    tasks: AuditEvalTask[];
    drift?: { kl: number; js: number; probe: string };
    gate: { pass: boolean; checks: AuditGateCheck[] };
    learningVsForgetting?: { label: string; domainGain: number; forgetting: number; pareto: boolean }[];
  };
  attribution: {
    method: string;
    parameters: AuditParameter[];
    /** Values computed during the run (fitted preconditioner, gradient count), not chosen. */
    derived?: AuditParameter[];
    quality?: Record<string, number | string>;
    contributorTotals: { contributor: string; score: number; share: number; flagged: boolean }[];
    queries: AuditQuery[];
    scoreDigest: HexString;
  };
  rewards: {
    feeWei: string;
    split: { contributor: string; amountWei: string }[];
    flagged: string[];
    /** The exact share weights the fee was split on (`splitReward(feeWei, shares)` reproduces `split`). */
    shares?: { contributor: string; weight: number }[];
  };
  chain: { status: 'skipped'; reason: string } | AuditChainPublished;
  timings: Record<string, number>;
  /** Further sections (e.g. generation attribution, chain planning), each a JSON object; covered by the digest. */
  sections?: Record<string, unknown>;
  integrity?: AuditIntegrity;
}

function invalid(violations: SchemaViolation[], when: string): ProvenantError {
  return new ProvenantError('AUDIT_RECORD_INVALID', `Audit record is invalid (${when}): ${violations.length} problem(s).`, {
    metaMessages: violations.slice(0, 20).map((v) => `${v.path}: ${v.message}`),
    data: { violations },
  });
}

/**
 * Returns the schema violations of a value (empty when it is a valid audit record).
 *
 * @example
 * ```ts
 * import { auditRecordViolations } from 'provenant/audit';
 * auditRecordViolations({ schema: 'provenant.audit/1' }).length > 0; // true: required sections are missing
 * ```
 */
export function auditRecordViolations(value: unknown): SchemaViolation[] {
  return validateJsonSchema(AUDIT_RECORD_SCHEMA, value);
}

/**
 * Serialises a record after validating it; throws AUDIT_RECORD_INVALID listing the problems.
 *
 * @example
 * ```ts
 * import { writeAuditRecord, type AuditRecord } from 'provenant/audit';
 * import { writeFileSync } from 'node:fs';
 * declare const record: AuditRecord;
 * writeFileSync('out/audit.json', writeAuditRecord(record));
 * ```
 */
export function writeAuditRecord(record: AuditRecord): string {
  const plain = JSON.parse(JSON.stringify(record)) as unknown;
  const violations = auditRecordViolations(plain);
  if (violations.length) throw invalid(violations, 'when written');
  return `${JSON.stringify(plain, null, 2)}\n`;
}

/**
 * Parses and validates a record; throws AUDIT_RECORD_INVALID listing the problems.
 *
 * @example
 * ```ts
 * import { readAuditRecord, verifyAuditRecord } from 'provenant/audit';
 * import { readFileSync } from 'node:fs';
 * const record = readAuditRecord(readFileSync('out/audit.json', 'utf8'));
 * (await verifyAuditRecord(record)).ok; // recompute every claim
 * ```
 */
export function readAuditRecord(text: string): AuditRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ProvenantError('AUDIT_RECORD_INVALID', 'Audit record is not valid JSON.', { cause });
  }
  // JSON.parse keeps the last of two equal keys: a record with a field twice is ambiguous, so it is refused (issue 13).
  const duplicate = findDuplicateJsonKey(text);
  if (duplicate) throw new ProvenantError('AUDIT_RECORD_INVALID', `Audit record has the key "${duplicate.key}" twice in ${duplicate.path}.`, { data: duplicate });
  const violations = auditRecordViolations(value);
  if (violations.length) throw invalid(violations, 'when read');
  return value as AuditRecord;
}

/**
 * The record without its volatile fields (timestamps, timings, transaction hashes): equal across identical runs.
 *
 * @example
 * ```ts
 * import { stableAuditView, type AuditRecord } from 'provenant/audit';
 * import { isDeepStrictEqual } from 'node:util';
 * declare const first: AuditRecord, second: AuditRecord; // two runs, same seed and data
 * isDeepStrictEqual(stableAuditView(second), stableAuditView(first)); // true
 * ```
 */
export function stableAuditView(record: AuditRecord): unknown {
  const copy = JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
  delete copy.createdAt;
  delete copy.timings;
  // Digests cover the timestamps and timings, so they differ between identical runs too.
  delete copy.integrity;
  const chain = copy.chain as { status: string; transactions?: { txHash?: string }[] };
  if (chain.status === 'published') for (const tx of chain.transactions ?? []) delete tx.txHash;
  return copy;
}

/**
 * Writes a validated record to `path` atomically (temporary file, fsync, rename): a crash leaves the previous record or
 * the new one. Throws `AUDIT_RECORD_INVALID` (nothing written) or `FILE_WRITE_FAILED`.
 *
 * @example
 * ```ts
 * import { saveAuditRecord, type AuditRecord } from 'provenant/audit';
 * declare const record: AuditRecord;
 * await saveAuditRecord('out/audit.json', record);
 * ```
 */
export async function saveAuditRecord(path: string, record: AuditRecord): Promise<void> {
  await writeFileAtomic(path, writeAuditRecord(record));
}

/**
 * Reads and validates a record file. A missing file is `FILE_NOT_FOUND`; an invalid record `AUDIT_RECORD_INVALID`.
 *
 * @example
 * ```ts
 * import { loadAuditRecord } from 'provenant/audit';
 * const record = await loadAuditRecord('out/audit.json');
 * ```
 */
export async function loadAuditRecord(path: string): Promise<AuditRecord> {
  return readAuditRecord(await readTextFileChecked(path, { what: 'audit record' }));
}
