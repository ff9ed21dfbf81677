/** Plain-text tables for the demo and logs: monospace columns, no colours, no dependencies. */
import { resolve, type ParamTable } from '../core/index.js';
import type { ComparisonTable } from './compare-models.js';
import type { ForgettingMeasures } from './forgetting.js';
import type { GateReport } from './gates.js';

/** Options of {@link formatTable}. */
export interface FormatTableOptions {
  /** Alignment per column. Default: right for cells that look numeric in every row, left otherwise. */
  align?: readonly ('left' | 'right')[];
}

const numeric = /^[-+−]?[\d.,]+(e[-+]?\d+)?\s*%?$|^[[(][^\]]*[\])]$/i;

/** The options of {@link formatTable}. */
const FORMAT_TABLE_PARAMS: ParamTable = Object.freeze({
  name: 'formatTable',
  fields: [{ name: 'align', default: null, meaning: "Alignment per column ('left' | 'right'); null: right for numeric columns, left otherwise.", aliases: ['alignment', 'colalign'] }],
});

/**
 * Renders rows under a header as aligned monospace columns with a rule under the header.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name (with the nearest one, e.g. `alignment` → `align`).
 * @example
 * ```ts
 * import { formatTable } from 'provenant/eval';
 * formatTable(['task', 'value'], [['spam', '0.91'], ['english', '12.3']]);
 * // task     value
 * // -------  -----
 * // spam      0.91
 * // english   12.3
 * ```
 */
export function formatTable(header: readonly string[], rows: readonly (readonly (string | number)[])[], options: FormatTableOptions = {}): string {
  resolve(FORMAT_TABLE_PARAMS, options);
  const cells = rows.map((r) => header.map((_, c) => String(r[c] ?? '')));
  const width = header.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c]!.length)));
  const align = header.map(
    (_, c) => options.align?.[c] ?? (cells.length > 0 && cells.every((r) => r[c] === '' || numeric.test(r[c]!)) ? 'right' : 'left'),
  );
  const line = (r: readonly string[]): string =>
    r.map((v, c) => (align[c] === 'right' ? v.padStart(width[c]!) : v.padEnd(width[c]!))).join('  ').trimEnd();
  return [line(header), width.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/**
 * A number to `digits` significant digits (default 4), without exponent for magnitudes in [1e-4, 1e6) and trailing zeros
 * dropped; exponent notation outside that range; `'NaN'`/`'Infinity'` as themselves.
 *
 * @example
 * ```ts
 * import { formatNumber } from 'provenant/eval';
 *
 * formatNumber(0.123456); // '0.1235'
 * formatNumber(1234567); // '1.235e+6'
 * formatNumber(2 / 3, 3); // '0.667'
 * ```
 */
export function formatNumber(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-4 && a < 1e6) return Number(x.toPrecision(digits)).toString();
  return x.toExponential(digits - 1);
}

const signed = (x: number, digits: number): string => (x > 0 ? '+' : '') + formatNumber(x, digits);

/**
 * The base-versus-tuned table as text: task, kind, metric (↑ higher is better, ↓ lower), base, tuned, delta (and the
 * relative delta in %), the (1 − alpha) interval of the delta, p-value, verdict and KL(base‖tuned) drift in nats (— when
 * not computed). Numbers to `digits` significant digits.
 *
 * @example
 * ```ts
 * import { formatComparisonTable, type ComparisonTable } from 'provenant/eval';
 *
 * declare const table: ComparisonTable; // from compareModels(base, tuned, tasks)
 * console.log(formatComparisonTable(table, 3));
 * // task  kind    metric      base   tuned  delta              95% CI of delta  p      verdict   KL(base||tuned)
 * // spam  domain  macro-f1 ↑  0.612  0.934  +0.322 (+52.6 %)  [0.291, 0.353]  0.002  improved  0.41   (e.g.)
 * ```
 */
export function formatComparisonTable(table: ComparisonTable, digits = 4): string {
  const level = Math.round((1 - table.settings.alpha) * 100);
  const header = ['task', 'kind', 'metric', table.base, table.tuned, 'delta', `${level}% CI of delta`, 'p', 'verdict', 'KL(base||tuned)'];
  const rows = table.rows.map((r) => [
    r.task,
    r.kind,
    `${r.metric} ${r.higherIsBetter ? '↑' : '↓'}`,
    formatNumber(r.base.value, digits),
    formatNumber(r.tuned.value, digits),
    signed(r.delta.value, digits) + (r.relativeDelta ? ` (${signed(r.relativeDelta.value * 100, 3)} %)` : ''),
    `[${formatNumber(r.delta.ci.lower, digits)}, ${formatNumber(r.delta.ci.upper, digits)}]`,
    formatNumber(r.pValue, 3),
    r.verdict,
    r.drift ? formatNumber(r.drift.kl.value, 3) : '—',
  ]);
  const align = ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'left', 'right'] as const;
  return formatTable(header, rows, { align });
}

/**
 * The gate report as text: one `[pass]`/`[FAIL]` line per gate with its reason, then the overall verdict.
 *
 * @example
 * ```ts
 * import { evaluateGates, formatGateReport, type ComparisonTable } from 'provenant/eval';
 *
 * declare const table: ComparisonTable;
 * const report = evaluateGates(table, [{ task: 'spam', quantity: 'tuned', atLeast: 0.9 }]);
 * console.log(formatGateReport(report));
 * // [pass] tuned macro-f1 ≥ 0.9: …
 * // All gates passed.
 * ```
 */
export function formatGateReport(report: GateReport): string {
  const lines = report.results.map((r) => `${r.passed ? '[pass]' : '[FAIL]'} ${r.name}: ${r.reason.replace(/^(pass|FAIL): /, '')}`);
  lines.push(report.passed ? 'All gates passed.' : `${report.failures.length} of ${report.results.length} gates failed.`);
  return lines.join('\n');
}

/**
 * The forgetting measures as a small labelled table: ACC, BWT, FWT (Lopez-Paz & Ranzato 2017, §2), forgetting as
 * max − final (Chaudhry et al. 2018, "Riemannian Walk", the averaged forgetting measure) and first − last (Avalanche);
 * — where a measure is undefined (one task, no baseline). Values in the metric's units, to `digits` significant digits.
 *
 * @example
 * ```ts
 * import { forgettingMeasures, formatForgettingMeasures } from 'provenant/eval';
 *
 * console.log(formatForgettingMeasures(forgettingMeasures([[0.9, 0.2], [0.7, 0.8]])));
 * // measure                    definition                value
 * // ACC                        Lopez-Paz & Ranzato 2017   0.75
 * // BWT                        Lopez-Paz & Ranzato 2017   -0.2
 * // …
 * ```
 */
export function formatForgettingMeasures(m: ForgettingMeasures, digits = 4): string {
  const show = (x: number | null): string => (x === null ? '—' : formatNumber(x, digits));
  return formatTable(
    ['measure', 'definition', 'value'],
    [
      ['ACC', 'Lopez-Paz & Ranzato 2017', show(m.lopezPazRanzato2017.acc)],
      ['BWT', 'Lopez-Paz & Ranzato 2017', show(m.lopezPazRanzato2017.bwt)],
      ['FWT', 'Lopez-Paz & Ranzato 2017', show(m.lopezPazRanzato2017.fwt)],
      ['forgetting (max − final)', 'Chaudhry et al. 2018', show(m.chaudhry2018.forgetting)],
      ['forgetting (first − last)', 'Avalanche', show(m.firstMinusLast.forgetting)],
    ],
    { align: ['left', 'left', 'right'] },
  );
}
