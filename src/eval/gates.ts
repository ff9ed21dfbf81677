/**
 * Deployment gates: user thresholds over a base-versus-tuned table → pass/fail with a reason per gate, as a plain
 * object for the audit record ("is this fit to deploy?").
 *
 * A gate reads one quantity of one task's row — `base`, `tuned`, `delta` (tuned − base), `relativeDelta`
 * ((tuned − base)/|base|, a fraction: 0.05 = 5 %), `kl` or `js` (drift, nats) — and bounds it with `atLeast` and/or
 * `atMost`. With `on: 'point'` (default) the point estimate must satisfy the bound; with `on: 'interval'` the whole
 * confidence interval must (the conservative reading: "we are confident it is within the bound"). A verdict gate
 * requires a task's verdict to be `improved`, or not `regressed`.
 */
import { ProvenantError, describeValue, nearestField } from '../core/index.js';
import type { ConfidenceInterval, Estimate } from './bootstrap.js';
import type { ComparisonTable, TaskComparison } from './compare-models.js';

/** What a threshold gate reads from a task's row. */
export type GateQuantity = 'base' | 'tuned' | 'delta' | 'relativeDelta' | 'kl' | 'js';

/** A threshold on one quantity of one task. */
export interface ThresholdGate {
  /** A label for the audit record. Default: generated from the rule. */
  name?: string;
  task: string;
  quantity: GateQuantity;
  atLeast?: number;
  atMost?: number;
  /** 'point' (default): the estimate must satisfy the bound; 'interval': its whole confidence interval must. */
  on?: 'point' | 'interval';
}

/** A requirement on a task's verdict. */
export interface VerdictGate {
  name?: string;
  task: string;
  verdict: 'improved' | 'not-regressed';
}

export type Gate = ThresholdGate | VerdictGate;

/** The outcome of one gate. */
export interface GateResult {
  name: string;
  task: string;
  passed: boolean;
  /** The rule in words, e.g. `tuned macro-f1 ≥ 0.9`. */
  rule: string;
  /** The value compared (the point estimate), or null for a verdict gate. */
  observed: number | null;
  /** The interval of the quantity, when it has one. */
  interval: ConfidenceInterval | null;
  /** Why it passed or failed, in one line. */
  reason: string;
}

/** All gates' outcomes; `passed` is true iff every gate passed. */
export interface GateReport {
  passed: boolean;
  results: GateResult[];
  /** The reasons of the failing gates. */
  failures: string[];
}

const fmt = (x: number): string => String(Number(x.toPrecision(4)));

function invalid(message: string, gate: unknown, index: number): never {
  throw new ProvenantError('EVAL_GATE_INVALID', `Gate ${index}: ${message}`, {
    metaMessages: [`gate: ${describeValue(gate, 300)}`],
    data: { index },
  });
}

function quantityOf(row: TaskComparison, q: GateQuantity): Estimate | null {
  switch (q) {
    case 'base':
      return row.base;
    case 'tuned':
      return row.tuned;
    case 'delta':
      return row.delta;
    case 'relativeDelta':
      return row.relativeDelta;
    case 'kl':
      return row.drift ? row.drift.kl : null;
    case 'js':
      return row.drift ? row.drift.js : null;
  }
}

/** The keys of each gate kind: a key of neither (a typo, `atleast`) or of the other kind is refused, never ignored. */
const THRESHOLD_GATE_KEYS = ['name', 'task', 'quantity', 'atLeast', 'atMost', 'on'] as const;
const VERDICT_GATE_KEYS = ['name', 'task', 'verdict'] as const;

function checkGateKeys(gate: object, index: number): void {
  const known: readonly string[] = 'verdict' in gate ? VERDICT_GATE_KEYS : THRESHOLD_GATE_KEYS;
  for (const [key, value] of Object.entries(gate)) {
    if (known.includes(key) || value === undefined) continue;
    const near = nearestField(key, known);
    invalid(`unknown key "${key}"${near ? ` (did you mean "${near}"?)` : ''}; a ${'verdict' in gate ? 'verdict' : 'threshold'} gate has ${known.join(', ')}`, gate, index);
  }
}

/**
 * Checks every gate against a comparison table.
 *
 * @throws ProvenantError `EVAL_GATE_INVALID` for a malformed gate: unknown task or quantity, bad bounds, or an unknown
 *   key (named with the nearest known one, e.g. `atleast` → `atLeast`).
 * @example
 * ```ts
 * import { evaluateGates, type ComparisonTable } from 'provenant/eval';
 * declare const table: ComparisonTable;
 * const report = evaluateGates(table, [
 *   { task: 'spam', quantity: 'tuned', atLeast: 0.9 },                 // domain F1 ≥ 0.9
 *   { task: 'english', quantity: 'relativeDelta', atMost: 0.05 },      // perplexity up at most 5 %
 *   { task: 'spam', quantity: 'kl', atMost: 0.2 },                     // KL(base‖tuned) ≤ 0.2 nats
 *   { task: 'english', verdict: 'not-regressed' },
 * ]);
 * if (!report.passed) console.log(report.failures.join('\n'));
 * ```
 */
export function evaluateGates(table: ComparisonTable, gates: readonly Gate[]): GateReport {
  if (!Array.isArray(gates)) invalid('gates must be an array', gates, -1);
  const byTask = new Map(table.rows.map((r) => [r.task, r]));
  const results: GateResult[] = gates.map((gate, index) => {
    if (!gate || typeof gate !== 'object') invalid('must be an object', gate, index);
    checkGateKeys(gate, index);
    const row = byTask.get(gate.task);
    if (!row) invalid(`unknown task "${gate.task}"; the table has ${[...byTask.keys()].join(', ')}`, gate, index);
    if ('verdict' in gate) {
      if (gate.verdict !== 'improved' && gate.verdict !== 'not-regressed') {
        invalid("verdict must be 'improved' or 'not-regressed'", gate, index);
      }
      const rule = `${gate.task} ${gate.verdict === 'improved' ? 'improved' : 'not regressed'}`;
      const passed = gate.verdict === 'improved' ? row.verdict === 'improved' : row.verdict !== 'regressed';
      const reason = `${passed ? 'pass' : 'FAIL'}: ${gate.task} ${row.metric} ${row.verdict} (Δ ${fmt(row.delta.value)}, ` +
        `${Math.round(row.delta.ci.level * 100)}% CI [${fmt(row.delta.ci.lower)}, ${fmt(row.delta.ci.upper)}], p ${fmt(row.pValue)})`;
      return { name: gate.name ?? rule, task: gate.task, passed, rule, observed: null, interval: row.delta.ci, reason };
    }
    const g = gate as ThresholdGate;
    const quantities: GateQuantity[] = ['base', 'tuned', 'delta', 'relativeDelta', 'kl', 'js'];
    if (!quantities.includes(g.quantity)) invalid(`quantity must be one of ${quantities.join(', ')}`, gate, index);
    if (g.atLeast === undefined && g.atMost === undefined) invalid('needs atLeast and/or atMost', gate, index);
    for (const key of ['atLeast', 'atMost'] as const) {
      if (g[key] !== undefined && !(typeof g[key] === 'number' && Number.isFinite(g[key]))) {
        invalid(`${key} must be a finite number`, gate, index);
      }
    }
    if (g.atLeast !== undefined && g.atMost !== undefined && g.atLeast > g.atMost) invalid('atLeast > atMost', gate, index);
    const on = g.on ?? 'point';
    if (on !== 'point' && on !== 'interval') invalid("on must be 'point' or 'interval'", gate, index);
    const est = quantityOf(row, g.quantity);
    if (!est) {
      invalid(
        g.quantity === 'relativeDelta'
          ? `task "${g.task}" has no relative delta (its base value is 0, or 0 on most resamples)`
          : `task "${g.task}" has no drift measurement (enable drift, or give both models nextTokenProba)`,
        gate,
        index,
      );
    }
    const label = `${g.quantity === 'kl' || g.quantity === 'js' ? '' : `${row.metric} `}${g.quantity}`;
    const parts: string[] = [];
    if (g.atLeast !== undefined) parts.push(`≥ ${fmt(g.atLeast)}`);
    if (g.atMost !== undefined) parts.push(`≤ ${fmt(g.atMost)}`);
    const rule = `${g.task} ${label} ${parts.join(' and ')}${on === 'interval' ? ' (whole interval)' : ''}`;
    const low = on === 'interval' ? est.ci.lower : est.value;
    const high = on === 'interval' ? est.ci.upper : est.value;
    const failures: string[] = [];
    if (g.atLeast !== undefined && !(low >= g.atLeast)) failures.push(`${on === 'interval' ? 'lower bound ' : ''}${fmt(low)} < ${fmt(g.atLeast)}`);
    if (g.atMost !== undefined && !(high <= g.atMost)) failures.push(`${on === 'interval' ? 'upper bound ' : ''}${fmt(high)} > ${fmt(g.atMost)}`);
    const passed = failures.length === 0;
    const shown = g.quantity === 'relativeDelta' ? ` (${(est.value * 100).toFixed(2)} %)` : '';
    const ci = `${Math.round(est.ci.level * 100)}% CI [${fmt(est.ci.lower)}, ${fmt(est.ci.upper)}]`;
    const reason = passed
      ? `pass: ${g.task} ${label} = ${fmt(est.value)}${shown}, ${ci}, satisfies ${parts.join(' and ')}`
      : `FAIL: ${g.task} ${label} = ${fmt(est.value)}${shown}, ${ci}: ${failures.join('; ')}`;
    return { name: g.name ?? rule, task: g.task, passed, rule, observed: est.value, interval: est.ci, reason };
  });
  return { passed: results.every((r) => r.passed), results, failures: results.filter((r) => !r.passed).map((r) => r.reason) };
}
