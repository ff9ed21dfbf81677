import { describe, expect, it } from 'vitest';
import { chainChartSpecs, type ChainChartData } from '../../src/audit/index.js';

const data: ChainChartData = {
  costByLoad: [
    { strategy: 'eas-per-event', eventsPerSecond: 1, costPerMillionEventsWei: '292000000000000000', holds: true },
    { strategy: 'eas-per-event', eventsPerSecond: 100, costPerMillionEventsWei: '17473659209312880001', holds: false },
    { strategy: 'per-block-root', eventsPerSecond: 1, costPerMillionEventsWei: '10700000000000000', holds: true },
    { strategy: 'per-block-root', eventsPerSecond: 10_000, costPerMillionEventsWei: null, holds: true },
  ],
  finality: [
    { strategy: 'per-block-root', stage: 'unsafe', p50Seconds: 3, p99Seconds: 4 },
    { strategy: 'per-block-root', stage: 'safe', p50Seconds: 45, p99Seconds: 74 },
    { strategy: 'per-block-root', stage: 'finalized', p50Seconds: 813, p99Seconds: 842 },
  ],
  baseFee: [
    { strategy: 'per-event', timeSeconds: 2, baseFeeWei: '1000000' },
    { strategy: 'per-event', timeSeconds: 600, baseFeeWei: '1800000' },
  ],
};

describe('chain charts', () => {
  it('compile with vega-lite and render to SVG with vega, from plain data', async () => {
    const vegaLite = (await import('vega-lite')) as unknown as { compile(spec: unknown): { spec: unknown } };
    const vega = (await import('vega')) as unknown as {
      View: new (runtime: unknown, options: { renderer: 'none' }) => { toSVG(): Promise<string>; finalize(): void };
      parse(spec: unknown): unknown;
    };
    const specs = chainChartSpecs(data);
    expect(Object.keys(specs).sort()).toEqual(['chainBaseFee', 'chainCost', 'chainFinality']);
    for (const spec of Object.values(specs)) {
      const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
      const svg = await view.toSVG();
      view.finalize();
      expect(svg.startsWith('<svg')).toBe(true);
    }
    // Costs are shown in ETH per million attributions: 2.92e17 wei → 0.292 ETH.
    const values = (specs.chainCost as { data: { values: { costPerMillionEth: number; held: string; costPerMillionEventsWei: string | null }[] } }).data.values;
    expect(values[0]!.costPerMillionEth).toBeCloseTo(0.292, 12);
    expect(values[1]!.held).toBe('does not hold');
    expect(values[1]!.costPerMillionEth).toBeCloseTo(17.47365920931288, 12);
    // The wei amounts themselves stay exact strings in the data the record carries.
    expect(values[1]!.costPerMillionEventsWei).toBe('17473659209312880001');
    const fees = (specs.chainBaseFee as { data: { values: { baseFeeGwei: number }[] } }).data.values;
    expect(fees.map((f) => f.baseFeeGwei)).toEqual([0.001, 0.0018]);
  });
});
