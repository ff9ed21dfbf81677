import { describe, expect, it } from 'vitest';
import {
  auditRecordViolations,
  isProvenantError,
  readAuditRecord,
  renderAuditReport,
  stableAuditView,
  writeAuditRecord,
} from '../../src/index.js';
import { sampleAuditRecord } from '../fixtures/audit/sample-record.js';

describe('audit record schema', () => {
  it('accepts a valid record and round-trips through write/read', () => {
    const record = sampleAuditRecord();
    expect(auditRecordViolations(record)).toEqual([]);
    expect(readAuditRecord(writeAuditRecord(record))).toEqual(record);
  });

  it('names each problem by path when writing or reading an invalid record', () => {
    const bad = sampleAuditRecord();
    (bad.datanet as { root: string }).root = '0x1234';
    (bad.fineTuning.parameters[0] as { meaning: string }).meaning = '';
    (bad.rewards as { feeWei: string }).feeWei = '-5';
    (bad as unknown as Record<string, unknown>).extra = 1;
    const paths = auditRecordViolations(bad).map((v) => v.path);
    expect(paths).toEqual(expect.arrayContaining(['$.datanet.root', '$.fineTuning.parameters[0].meaning', '$.rewards.feeWei', '$.extra']));
    try {
      writeAuditRecord(bad);
      throw new Error('accepted an invalid record');
    } catch (e) {
      expect(isProvenantError(e, 'AUDIT_RECORD_INVALID')).toBe(true);
      expect((e as Error).message).toContain('$.datanet.root');
    }
    expect(() => readAuditRecord('{"schema":"provenant.audit/0"}')).toThrow(/AUDIT_RECORD_INVALID/);
    expect(() => readAuditRecord('not json')).toThrow(/not valid JSON/);
  });

  it('a published chain section is validated too', () => {
    const tx = `0x${'aa'.repeat(32)}` as const;
    const record = sampleAuditRecord({
      chain: {
        status: 'published',
        chainId: 31337,
        registry: `0x${'12'.repeat(20)}`,
        transactions: [{ kind: 'snapshot', txHash: tx, gasUsed: '46569' }],
        attributionBatch: { batchId: tx, root: tx, leafEncoding: ['bytes32'], leaf: [tx], proof: [], verifiedOnChain: true, verifiedOffChain: true },
      },
    });
    expect(auditRecordViolations(record)).toEqual([]);
    const broken = sampleAuditRecord({ chain: { status: 'published' } as never });
    expect(auditRecordViolations(broken).length).toBeGreaterThan(0);
  });

  it('stableAuditView drops only timestamps, timings and transaction hashes', () => {
    const a = sampleAuditRecord();
    const b = sampleAuditRecord({ createdAt: '2027-01-01T00:00:00.000Z', timings: { total: 99 } });
    expect(stableAuditView(a)).toEqual(stableAuditView(b));
    const c = sampleAuditRecord({ seed: 8 });
    expect(stableAuditView(a)).not.toEqual(stableAuditView(c));
  });
});

describe('HTML report', () => {
  it('names the product kernels the record carries, and says nothing of them when it carries none', async () => {
    const base = sampleAuditRecord();
    const html = await renderAuditReport({ ...base, environment: { ...base.environment, productKernels: { float32: 'relaxed-simd-fma', float64: 'simd' } } });
    expect(html).toContain('Node v20.20.2, product kernels float32 relaxed-simd-fma, float64 simd.</p>');
    expect(await renderAuditReport(base)).toContain('Node v20.20.2.</p>');
  });

  it('renders every section and chart as inline SVG, escaping user text', async () => {
    const html = await renderAuditReport(sampleAuditRecord());
    for (const id of ['data', 'decisions', 'learning-vs-forgetting', 'attribution', 'rewards', 'proofs']) {
      expect(html).toContain(`<section id="${id}">`);
    }
    const charts = [...html.matchAll(/<figure class="chart" data-chart="(\w+)"><svg/g)].map((m) => m[1]);
    expect(charts.sort()).toEqual(['contributorAttribution', 'contributors', 'evaluationDeltas', 'learningVsForgetting', 'lossCurve', 'rewards']);
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toMatch(/<script[\s>]/);
    expect(html).toContain('550000000000000000');
  });

  it('renders the generated-text and chain-load sections when the record carries them (issues 11 and 14)', async () => {
    const answer = {
      prompt: 'The capital of <Zorbania> is',
      completion: ' Quixville',
      logLikelihood: -3.5,
      proponents: [{ rowId: 'planted/0', contributor: 'planted', datanet: 'planted-facts', score: 2, text: 'The capital of Zorbania is Quixville.' }],
      opponents: [],
      contributorShares: { planted: 1 },
      datanetShares: { 'planted-facts': 1 },
      spans: [{ start: 0, length: 10, text: ' Quixville', count: 3, rows: [{ rowId: 'planted/0', contributor: 'planted', datanet: 'planted-facts' }] }],
      fee: { feeWei: '1000', platformWei: '50', ownerWei: '380', stakersWei: '95', contributorsWei: '475', unallocatedWei: '0', contributorAmounts: { planted: '475' }, paid: true, reason: null, flagged: [] },
      attributionMs: 12,
    };
    const chainLoad = {
      costByLoad: [{ strategy: 'per-block-root', eventsPerSecond: 10, costPerMillionEventsWei: 1e15, holds: true }, { strategy: 'per-block-root', eventsPerSecond: 1000, costPerMillionEventsWei: 1e13, holds: true }],
      finality: [{ strategy: 'per-block-root', stage: 'safe', p50Seconds: 45, p99Seconds: 74 }],
      baseFee: [{ strategy: 'per-event', timeSeconds: 2, baseFeeWei: 1e6 }, { strategy: 'per-event', timeSeconds: 4, baseFeeWei: 1.1e6 }],
      profileParameters: [{ name: 'opStack.gasLimit', value: 60_000_000, default: 30_000_000, unit: 'gas', source: 'OP Stack genesis' }],
    };
    const html = await renderAuditReport(sampleAuditRecord({ sections: { generative: { answers: [answer], feeModel: { platformFee: 0.05 } }, chainLoad } }));
    expect(html).toContain('<section id="generation">');
    expect(html).toContain('<section id="chain-load">');
    expect(html).toContain('<td>opStack.gasLimit</td><td>60000000</td><td>30000000</td>'); // every chain-profile value recorded
    expect(html).toContain('The capital of &lt;Zorbania&gt; is');
    expect(html).toMatch(/<mark[^>]*> Quixville<\/mark>/);
    const charts = [...html.matchAll(/<figure class="chart" data-chart="(\w+)"><svg/g)].map((m) => m[1]);
    expect(charts).toEqual(expect.arrayContaining(['chainCost', 'chainFinality', 'chainBaseFee']));
    // Without the sections, neither appears.
    const plain = await renderAuditReport(sampleAuditRecord());
    expect(plain).not.toContain('id="generation"');
    expect(plain).not.toContain('id="chain-load"');
  });
});
