export { AUDIT_RECORD_SCHEMA, AUDIT_SCHEMA_ID } from './schema.js';
export { auditRecordViolations, readAuditRecord, writeAuditRecord, stableAuditView } from './record.js';
export type {
  AuditRecord,
  AuditParameter,
  AuditContributor,
  AuditEvalTask,
  AuditGateCheck,
  AuditQuery,
  AuditChainPublished,
  Interval,
  HexString,
} from './record.js';
export { renderAuditReport, auditChartSpecs } from './report.js';
export { validateJsonSchema } from './json-schema.js';
export type { JsonSchema, SchemaViolation } from './json-schema.js';
export { chainChartSpecs } from './report-chain.js';
export type { ChainChartData } from './report-chain.js';
export { renderGenerationReport, highlightSpans } from './report-generation.js';
export type { GenerationAnswerRecord, GenerationSpanRecord, GenerationRowRecord } from './report-generation.js';
export { saveAuditRecord, loadAuditRecord } from './record.js';
export { buildAuditRecord, auditEvaluation, attachChainSection, attachSection } from './build-record.js';
export type { AuditRecordParts, ComparisonLike, GateReportLike } from './build-record.js';
export { AUDIT_RECORD_PARTS, auditDigest, auditRecordBody, sealAuditRecord } from './digest.js';
export { verifyAuditRecord, verifyAuditRecordOffline, auditDigestUri } from './verify-record.js';
export type { AuditFailure, VerifyAuditRecordResult, AuditChainAnchors, AuditChainReader } from './verify-record.js';
export { INTEGRITY_ALGORITHM } from './schema.js';
export type { AuditIntegrity, AuditGateRule } from './record.js';

// The error class and its guard, so a user of this entry alone can branch on `code` without importing the root (which loads tfjs).
export { ProvenantError, isProvenantError, type ProvenantErrorCode } from '../core/index.js';
