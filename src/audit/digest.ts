/**
 * The record's digests: keccak256 of the canonical JSON of each top-level part, of the whole body (everything but
 * `integrity` and `chain`, since the chain section is written after the body is published), and of the chain section.
 */
import { canonicalJson, keccak256 } from '../core/index.js';
import type { AuditIntegrity, AuditRecord, HexString } from './record.js';
import { INTEGRITY_ALGORITHM } from './schema.js';

/** The parts digested one by one: every top-level field of the record except `integrity` and `chain`. */
export const AUDIT_RECORD_PARTS = [
  'schema', 'createdAt', 'generator', 'environment', 'seed', 'datanet', 'baseModel', 'fineTuning', 'evaluation', 'attribution', 'rewards', 'timings', 'sections',
] as const;

/**
 * keccak256 of the canonical JSON of a value (JSON-safe copy first: bigint → decimal string).
 *
 * @example
 * ```ts
 * import { auditDigest } from 'provenant/audit';
 * auditDigest({ b: 1, a: 2 }) === auditDigest({ a: 2, b: 1 }); // true: key order does not matter
 * ```
 */
export function auditDigest(value: unknown): HexString {
  return keccak256(canonicalJson(JSON.parse(JSON.stringify(value ?? null, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))))) as HexString;
}

/**
 * The record without `integrity` and `chain`: what `integrity.digest` covers.
 *
 * @example
 * ```ts
 * import { auditDigest, auditRecordBody, type AuditRecord } from 'provenant/audit';
 * declare const record: AuditRecord;
 * auditDigest(auditRecordBody(record)) === record.integrity?.digest; // true for an untouched record
 * ```
 */
export function auditRecordBody(record: AuditRecord): Record<string, unknown> {
  const { integrity: _integrity, chain: _chain, ...body } = record;
  return body;
}

/**
 * The integrity block of a record: a digest per part, of the body, and of the chain section.
 *
 * @example
 * ```ts
 * import { sealAuditRecord, type AuditRecord } from 'provenant/audit';
 * declare const record: AuditRecord;
 * sealAuditRecord(record).digest; // '0x…' (32 bytes)
 * ```
 */
export function sealAuditRecord(record: AuditRecord): AuditIntegrity {
  const parts: Record<string, HexString> = {};
  for (const part of AUDIT_RECORD_PARTS) if (record[part] !== undefined) parts[part] = auditDigest(record[part]);
  return {
    algorithm: INTEGRITY_ALGORITHM,
    parts,
    digest: auditDigest(auditRecordBody(record)),
    chainDigest: auditDigest(record.chain),
  };
}

