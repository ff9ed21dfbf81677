/**
 * Charts of the chain-load study (bench:chain, `simulateAttributionLoad`) as Vega-Lite specs, built from plain data so
 * the audit room never imports the chain adapter: cost per million attributions by strategy against load; latency to
 * unsafe, safe and finalized; the base fee under sustained load.
 */

type VegaLiteSpec = Record<string, unknown>;

/**
 * Plain rows, as `bench:chain` writes them to benchmarks/results/chain.json (`chartData`). Wei amounts are decimal
 * strings, exact as everywhere in the audit record (a JS number is inexact above 2⁵³ wei); numbers written by older
 * runs are still read.
 */
export interface ChainChartData {
  /** One row per strategy and load: what a million attributions cost there (null: none included), and whether the strategy holds it. */
  costByLoad: { strategy: string; eventsPerSecond: number; costPerMillionEventsWei: string | null; holds: boolean }[];
  /** Latency from an event's arrival to each finality stage, at the strategy's sustainable load. */
  finality: { strategy: string; stage: 'unsafe' | 'safe' | 'finalized'; p50Seconds: number; p99Seconds: number }[];
  /** Base fee block by block while each strategy carries a load above what it sustains. */
  baseFee: { strategy: string; timeSeconds: number; baseFeeWei: string }[];
}

const WEI_PER_ETH = 1e18;

/** A wei amount for plotting only: a decimal string (or a number from an older record) → number; null stays NaN (not drawn). */
const weiToNumber = (wei: string | number | null): number => (wei === null ? Number.NaN : Number(wei));

/**
 * The three chain charts by id (`chainCost`, `chainFinality`, `chainBaseFee`).
 *
 * @param data plain rows (wei as exact decimal strings; the charts plot them as numbers, precise to 15 digits, which a chart needs).
 * @returns Vega-Lite v6 specs, compiled and rendered by the audit report like its other charts.
 * @example
 * ```ts
 * import { chainChartSpecs } from 'provenant/audit';
 * import { readFileSync } from 'node:fs';
 * const specs = chainChartSpecs(JSON.parse(readFileSync('benchmarks/results/chain.json', 'utf8')).chartData);
 * ```
 */
export function chainChartSpecs(data: ChainChartData): Record<string, VegaLiteSpec> {
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 520, height: 240, config: { font: 'sans-serif' } };
  return {
    chainCost: {
      ...base,
      title: 'Cost of one million attributions (L2 gas + L1 data fee) by strategy and load',
      data: { values: data.costByLoad.map((r) => ({ ...r, costPerMillionEth: weiToNumber(r.costPerMillionEventsWei) / WEI_PER_ETH, held: r.holds ? 'holds' : 'does not hold' })) },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'eventsPerSecond', type: 'quantitative', scale: { type: 'log' }, title: 'attribution events per second' },
        y: { field: 'costPerMillionEth', type: 'quantitative', scale: { type: 'log' }, title: 'ETH per million attributions' },
        color: { field: 'strategy', type: 'nominal' },
        shape: { field: 'held', type: 'nominal', title: null },
        tooltip: [{ field: 'strategy' }, { field: 'eventsPerSecond' }, { field: 'costPerMillionEth', format: '.3e' }, { field: 'held' }],
      },
    },
    chainFinality: {
      ...base,
      title: 'Latency from inference to unsafe, safe and finalized (p50 bar, p99 tick)',
      data: { values: data.finality },
      layer: [
        { mark: 'bar', encoding: { y: { field: 'strategy', type: 'nominal', title: null }, x: { field: 'p50Seconds', type: 'quantitative', scale: { type: 'symlog' }, title: 'seconds (symlog)' }, color: { field: 'stage', type: 'nominal', sort: ['unsafe', 'safe', 'finalized'] }, yOffset: { field: 'stage', sort: ['unsafe', 'safe', 'finalized'] } } },
        { mark: { type: 'tick', color: 'black' }, encoding: { y: { field: 'strategy', type: 'nominal' }, x: { field: 'p99Seconds', type: 'quantitative' }, yOffset: { field: 'stage', sort: ['unsafe', 'safe', 'finalized'] } } },
      ],
    },
    chainBaseFee: {
      ...base,
      title: 'L2 base fee under sustained load at 1.5× each strategy’s sustainable rate',
      data: { values: data.baseFee.map((r) => ({ ...r, baseFeeGwei: weiToNumber(r.baseFeeWei) / 1e9 })) },
      mark: 'line',
      encoding: {
        x: { field: 'timeSeconds', type: 'quantitative', title: 'seconds' },
        y: { field: 'baseFeeGwei', type: 'quantitative', scale: { type: 'log' }, title: 'base fee (gwei, log)' },
        color: { field: 'strategy', type: 'nominal' },
      },
    },
  };
}
