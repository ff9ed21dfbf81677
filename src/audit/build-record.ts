/**
 * `buildAuditRecord(parts)`: the audit record from any flow — the pipeline's stages, or a user's own. It fills the
 * envelope (schema, time, generator, environment), converts an evaluation table and gate report to the record's shape
 * (`auditEvaluation`), seals the record with digests of its canonical form and of each part, then checks it with
 * `verifyAuditRecord` and refuses to return a record that does not hold (rewards not summing to the fee, a gate verdict
 * that does not follow from its numbers, a proof that does not verify).
 */
import { ProvenantError } from '../core/index.js';
import { sealAuditRecord } from './digest.js';
import { auditRecordViolations, type AuditChainPublished, type AuditEvalTask, type AuditGateCheck, type AuditRecord } from './record.js';
import { AUDIT_SCHEMA_ID } from './schema.js';
import { verifyAuditRecordOffline } from './verify-record.js';

/** What a flow hands to `buildAuditRecord`: the record's sections as plain data. */
export interface AuditRecordParts {
  seed: number;
  datanet: AuditRecord['datanet'];
  baseModel: AuditRecord['baseModel'];
  fineTuning: AuditRecord['fineTuning'];
  evaluation: AuditRecord['evaluation'];
  attribution: AuditRecord['attribution'];
  rewards: AuditRecord['rewards'];
  /** Compute backend facts (`initBackend()`'s result); node and platform are added. */
  environment?: { backend: string; tfjsVersion: string; [key: string]: unknown };
  /** Default: now. */
  createdAt?: string;
  generator?: { name: string; version: string };
  timings?: Record<string, number>;
  /** Further sections from other stages (JSON objects), covered by the digest. */
  sections?: Record<string, unknown>;
}

/**
 * Attaches a chain section (what `publishAuditRecord` returned, or a `skipped` section with its reason) and seals it
 * (`integrity.chainDigest`); the body digest — the one published on chain — is unchanged.
 *
 * @throws ProvenantError `AUDIT_RECORD_INVALID` when the record's own digests do not hold before attaching
 * @example
 * ```ts
 * import { attachChainSection, type AuditRecord } from 'provenant/audit';
 * import { publishAuditRecord, type PublishAuditRecordClients } from 'provenant/chain';
 * declare const clients: PublishAuditRecordClients;
 * declare const record: AuditRecord;
 * const { chain } = await publishAuditRecord(clients, record);
 * const published = attachChainSection(record, chain);
 * ```
 */
export function attachChainSection(record: AuditRecord, chain: AuditChainPublished | { status: 'skipped'; reason: string }): AuditRecord {
  const before = verifyAuditRecordOffline(record).failures.filter((f) => !f.field.startsWith('chain'));
  if (before.length > 0) throw invalidRecord(before);
  const next: AuditRecord = { ...record, chain: JSON.parse(JSON.stringify(chain)) as AuditRecord['chain'] };
  return { ...next, integrity: sealAuditRecord(next) };
}

/**
 * Adds one further section to a sealed record (e.g. `convexInfluence`: the `solver` of `convexInfluenceScores`, the route
 * taken and why) and re-seals it, so the section is covered by the digest like every other part. The data is copied as
 * JSON. `name` is any string (a user's choice is data, never a property path).
 *
 * @throws ProvenantError `AUDIT_RECORD_INVALID` when the record's own digests do not hold before attaching;
 *   `INVALID_ARGUMENT` when the record already has a section of that name (nothing is overwritten) or the data is not
 *   a JSON object
 * @example
 * ```ts
 * import { attachSection, type AuditRecord } from 'provenant/audit';
 * import type { ConvexInfluenceScores } from 'provenant/attribution';
 * declare const record: AuditRecord;
 * declare const scores: ConvexInfluenceScores;
 * const withSolver = attachSection(record, 'convexInfluence', scores.solver);
 * ```
 */
export function attachSection(record: AuditRecord, name: string, data: object): AuditRecord {
  const before = verifyAuditRecordOffline(record).failures;
  if (before.length > 0) throw invalidRecord(before);
  if (record.sections && Object.prototype.hasOwnProperty.call(record.sections, name)) {
    throw new ProvenantError('INVALID_ARGUMENT', `The audit record already has a section named ${JSON.stringify(name)}; sections are never overwritten.`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ProvenantError('INVALID_ARGUMENT', `Section ${JSON.stringify(name)} must be a JSON object.`);
  }
  // defineProperty, not assignment: a name such as "__proto__" becomes an own data property, never the prototype.
  const sections: Record<string, unknown> = { ...record.sections };
  Object.defineProperty(sections, name, { value: JSON.parse(JSON.stringify(data)) as unknown, enumerable: true, writable: true, configurable: true });
  const next: AuditRecord = { ...record, sections };
  return { ...next, integrity: sealAuditRecord(next) };
}

function invalidRecord(failures: ReadonlyArray<{ field: string; message: string }>): ProvenantError {
  return new ProvenantError('AUDIT_RECORD_INVALID', `The audit record does not hold: ${[...new Set(failures.map((f) => f.field))].join(', ')}.`, {
    metaMessages: failures.slice(0, 30).map((f) => `${f.field}: ${f.message}`),
    data: { fields: failures.map((f) => f.field) },
    docsPath: '#the-audit-record',
  });
}

/**
 * Builds, seals and checks an audit record.
 *
 * @param parts the sections (see {@link AuditRecordParts}); `rewards.feeWei` a decimal wei string, amounts likewise
 * @returns a schema-valid record whose `integrity` block holds the digest of its canonical form and of each part
 * @throws ProvenantError `AUDIT_RECORD_INVALID` naming every field that does not hold (schema violations, rewards that do
 *   not sum to the fee or differ from the split of `rewards.shares`, a gate verdict that does not follow from its
 *   numbers, a Merkle proof that does not verify)
 * @example
 * ```ts
 * import { auditEvaluation, buildAuditRecord, verifyAuditRecord, type AuditRecordParts } from 'provenant/audit';
 * import { evaluateGates, type ComparisonTable, type Gate } from 'provenant/eval';
 * declare const parts: Omit<AuditRecordParts, 'evaluation'>; // datanet, baseModel, fineTuning, attribution, rewards, seed
 * declare const table: ComparisonTable;
 * const gates: Gate[] = [{ task: 'spam', quantity: 'tuned', atLeast: 0.8 }];
 * const record = buildAuditRecord({ ...parts, evaluation: auditEvaluation(table, evaluateGates(table, gates), gates) });
 * await verifyAuditRecord(record); // { ok: true, failures: [] }
 * ```
 */
export function buildAuditRecord(parts: AuditRecordParts): AuditRecord {
  const record: AuditRecord = {
    schema: AUDIT_SCHEMA_ID,
    createdAt: parts.createdAt ?? new Date().toISOString(),
    generator: parts.generator ?? { name: 'provenant', version: '0.1.0' },
    environment: {
      node: globalThis.process?.version ?? 'unknown',
      platform: globalThis.process ? `${globalThis.process.platform}-${globalThis.process.arch}` : 'unknown',
      backend: 'unknown',
      tfjsVersion: 'unknown',
      ...(JSON.parse(JSON.stringify(parts.environment ?? {})) as Record<string, unknown>),
    } as AuditRecord['environment'],
    seed: parts.seed,
    datanet: parts.datanet,
    baseModel: parts.baseModel,
    fineTuning: parts.fineTuning,
    evaluation: parts.evaluation,
    attribution: parts.attribution,
    rewards: parts.rewards,
    chain: { status: 'skipped', reason: 'not published (run provenant/chain publishAuditRecord to publish)' },
    timings: parts.timings ?? {},
    ...(parts.sections ? { sections: parts.sections } : {}),
  };
  const plain = JSON.parse(JSON.stringify(record)) as AuditRecord;
  const violations = auditRecordViolations(plain);
  if (violations.length) throw invalidRecord(violations.map((v) => ({ field: v.path.replace(/^\$\.?/, ''), message: v.message })));
  const sealed: AuditRecord = { ...plain, integrity: sealAuditRecord(plain) };
  const { failures } = verifyAuditRecordOffline(sealed);
  if (failures.length) throw invalidRecord(failures);
  return sealed;
}

/** A base-versus-tuned table as `compareModels` returns it (structural: audit does not depend on eval). */
export interface ComparisonLike {
  rows: ReadonlyArray<{
    task: string;
    kind: 'domain' | 'retained';
    metric: string;
    higherIsBetter: boolean;
    base: EstimateLike;
    tuned: EstimateLike;
    delta: EstimateLike;
    relativeDelta: EstimateLike | null;
    pValue: number;
    verdict: AuditEvalTask['verdict'];
    drift: { kl: EstimateLike; js: EstimateLike } | null;
  }>;
}
interface EstimateLike {
  value: number;
  ci: { lower: number; upper: number };
}
/** A gate and its outcome, as `evaluateGates(table, gates)` returns them (same order as the gates). */
export interface GateReportLike {
  passed: boolean;
  results: ReadonlyArray<{ name: string; task: string; passed: boolean; reason: string; observed: number | null; interval: { lower: number; upper: number } | null }>;
}
type GateLike =
  | { task: string; quantity: NonNullable<AuditGateCheck['rule']>['quantity']; atLeast?: number; atMost?: number; on?: 'point' | 'interval'; name?: string }
  | { task: string; verdict: 'improved' | 'not-regressed'; name?: string };

const round = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(6)) : x);
const interval = (e: EstimateLike) => ({ value: round(e.value), low: round(e.ci.lower), high: round(e.ci.upper) });

/**
 * The record's evaluation section from a comparison table and a gate report: each task's intervals (6 significant
 * digits), and each gate with its rule and the exact numbers it was decided on.
 *
 * @param gates the gates given to `evaluateGates`, in the same order as `report.results`
 * @param drift the retained task's drift probe, in words (recorded when the table measured drift)
 * @throws ProvenantError `AUDIT_RECORD_INVALID` when gates and results differ in number
 * @example
 * ```ts
 * import { auditEvaluation } from 'provenant/audit';
 * import { evaluateGates, type ComparisonTable, type Gate } from 'provenant/eval';
 * declare const table: ComparisonTable;
 * const gates: Gate[] = [{ task: 'spam', quantity: 'tuned', atLeast: 0.8 }];
 * const evaluation = auditEvaluation(table, evaluateGates(table, gates), gates); // { tasks, gates: [{ name, passed, rule, … }], … }
 * ```
 */
export function auditEvaluation(table: ComparisonLike, report: GateReportLike, gates: readonly GateLike[], drift?: { probe: string }): AuditRecord['evaluation'] {
  if (gates.length !== report.results.length) {
    throw new ProvenantError('AUDIT_RECORD_INVALID', `auditEvaluation: ${gates.length} gates but ${report.results.length} results.`);
  }
  const retained = table.rows.find((r) => r.kind === 'retained' && r.drift);
  return {
    tasks: table.rows.map((r) => ({
      name: r.task,
      kind: r.kind,
      metric: r.metric,
      higherIsBetter: r.higherIsBetter,
      base: interval(r.base),
      tuned: interval(r.tuned),
      delta: { ...interval(r.delta), pValue: round(r.pValue) },
      verdict: r.verdict,
    })),
    ...(retained?.drift && drift ? { drift: { kl: round(retained.drift.kl.value), js: round(retained.drift.js.value), probe: drift.probe } } : {}),
    gate: {
      pass: report.passed,
      checks: report.results.map((result, i) => {
        const gate = gates[i]!;
        const rule: NonNullable<AuditGateCheck['rule']> =
          'verdict' in gate
            ? { task: gate.task, verdict: gate.verdict }
            : { task: gate.task, quantity: gate.quantity, on: gate.on ?? 'point', ...(gate.atLeast !== undefined ? { atLeast: gate.atLeast } : {}), ...(gate.atMost !== undefined ? { atMost: gate.atMost } : {}) };
        return {
          name: result.name,
          pass: result.passed,
          reason: result.reason,
          rule,
          observed: result.observed,
          ...(result.interval && !('verdict' in gate) ? { low: result.interval.lower, high: result.interval.upper } : {}),
        };
      }),
    },
  };
}
