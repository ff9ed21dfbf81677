/**
 * attachSection: a convex influence run's solver route (route, reason, cost estimates) carried by a real audit record,
 * covered by its digest and shown in the report (issue 15: "recorded in the audit record with the reason").
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { convexInfluenceScores, fitConvexLogistic } from '../../src/attribution/convex/index.js';
import { attachSection, renderAuditReport, verifyAuditRecord, type AuditRecord } from '../../src/audit/index.js';
import { isProvenantError } from '../../src/core/index.js';
import { blobs } from '../attribution/convex/blobs.js';
import { realAuditRecord } from '../fixtures/audit/real-record.js';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('attachSection', () => {
  let record: AuditRecord;
  beforeAll(async () => {
    record = await realAuditRecord();
  }, 60_000);

  const solverOf = () => {
    const train = blobs(60, 4, 3, 1, 0.05);
    const test = blobs(12, 4, 3, 2, 0.05);
    return convexInfluenceScores(train, fitConvexLogistic(train).theta, test).solver;
  };

  it('carries the solver route as given, sealed: the record verifies, and an edited reason is caught', async () => {
    const solver = solverOf();
    const attached = attachSection(record, 'convexInfluence', solver);
    expect(attached.sections?.convexInfluence).toEqual(clone(solver));
    expect((attached.sections?.convexInfluence as { reason: string }).reason).toMatch(/quer/);
    expect(await verifyAuditRecord(attached)).toEqual({ ok: true, failures: [] });
    const edited = clone(attached);
    (edited.sections!.convexInfluence as { reason: string }).reason = 'forced by the auditor';
    const verdict = await verifyAuditRecord(edited);
    expect(verdict.ok).toBe(false);
    expect(verdict.failures.map((f) => f.field).join(' ')).toMatch(/sections/);
    expect(record.sections?.convexInfluence).toBeUndefined(); // the input record is not changed
  });

  it('shows the route, the reason and the estimates in the report', async () => {
    const solver = solverOf();
    const html = await renderAuditReport(attachSection(record, 'convexInfluence', { ...solver, reason: `${solver.reason} <script>` }));
    expect(html).toContain('<h2>Convex influence: solver route</h2>');
    expect(html).toContain(`Route <b>${solver.solver}</b>`);
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain(solver.estimatedCost.explicit.toExponential(2));
    expect(html).toContain('href="#convex-influence"');
  }, 60_000);

  it('never overwrites a section, refuses non-objects, and takes any name as data', async () => {
    const attached = attachSection(record, 'convexInfluence', solverOf());
    const refuse = (f: () => unknown, code: string) => {
      try {
        f();
      } catch (e) {
        expect(isProvenantError(e) && e.code).toBe(code);
        return;
      }
      throw new Error('expected a refusal');
    };
    refuse(() => attachSection(attached, 'convexInfluence', { solver: 'cg', reason: 'again' }), 'INVALID_ARGUMENT');
    refuse(() => attachSection(record, 'x', [1, 2]), 'INVALID_ARGUMENT');
    const proto = attachSection(record, '__proto__', { note: 'a user-chosen name' });
    expect(Object.prototype.hasOwnProperty.call(proto.sections, '__proto__')).toBe(true);
    expect(await verifyAuditRecord(proto)).toEqual({ ok: true, failures: [] });
    const broken = clone(attached);
    broken.rewards.feeWei = '1';
    refuse(() => attachSection(broken, 'other', {}), 'AUDIT_RECORD_INVALID');
  });
});
