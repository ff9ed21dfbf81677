/**
 * Renders an audit record as one self-contained HTML file: charts are Vega-Lite specs compiled and rendered to SVG in Node
 * (vega + vega-lite, optional peer dependencies; no canvas), inlined with the tables, so the file opens offline anywhere.
 * Sections: Data, Decisions, Learning vs forgetting, Attribution, Rewards, On-chain proofs.
 */
import { importOptional } from './optional-import.js';
import type { AuditParameter, AuditRecord } from './record.js';
import { chainChartSpecs, type ChainChartData } from './report-chain.js';
import { renderGenerationReport, type GenerationAnswerRecord } from './report-generation.js';

type VegaLiteSpec = Record<string, unknown>;
interface VegaModule {
  View: new (runtime: unknown, options: { renderer: 'none' }) => { toSVG(): Promise<string>; finalize(): void };
  parse(spec: unknown): unknown;
}
interface VegaLiteModule {
  compile(spec: VegaLiteSpec): { spec: unknown };
}

const escapeHtml = (text: unknown): string =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const fmt = (x: number, digits = 3): string => (Number.isFinite(x) ? Number(x.toPrecision(digits)).toString() : String(x));
/** Long values (fitted λ per layer, patterns) are clipped in the table; the audit record keeps them whole. */
const clip = (text: string | undefined, max = 160): string => (text === undefined ? 'undefined' : text.length > max ? `${text.slice(0, max - 1)}…` : text);
const short = (hex: string): string => (hex.length > 18 ? `${hex.slice(0, 10)}…${hex.slice(-6)}` : hex);

function table(headers: string[], rows: unknown[][], className = ''): string {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table class="${className}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function parameterRows(parameters: AuditParameter[]): unknown[][] {
  return parameters.map((p) => {
    const isDefault = JSON.stringify(p.value) === JSON.stringify(p.default);
    return [
      `<code>${escapeHtml(p.name)}</code>`,
      `<code>${escapeHtml(clip(JSON.stringify(p.value)))}</code>${isDefault ? '' : ' <span class="changed">changed</span>'}`,
      `<code>${escapeHtml(clip(JSON.stringify(p.default)))}</code>`,
      escapeHtml(p.meaning),
    ];
  });
}

/**
 * The Vega-Lite specs of the report's charts, by id (exported so notebooks can render them interactively).
 *
 * @example
 * ```ts
 * import { auditChartSpecs, type AuditRecord } from 'provenant/audit';
 * declare const record: AuditRecord;
 * const specs = auditChartSpecs(record); // chart name → Vega-Lite spec (plain JSON)
 * Object.keys(specs); // e.g. ['contributors', 'lossCurve', …]
 * ```
 */
export function auditChartSpecs(record: AuditRecord): Record<string, VegaLiteSpec> {
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 520, height: 220, config: { font: 'sans-serif' } };
  const contributorLabels = record.datanet.contributors.flatMap((c) =>
    Object.entries(c.labels).map(([label, count]) => ({ contributor: c.id, label, rows: count })),
  );
  const specs: Record<string, VegaLiteSpec> = {
    contributors: {
      ...base,
      title: 'Rows per contributor, by label',
      data: { values: contributorLabels },
      mark: 'bar',
      encoding: {
        y: { field: 'contributor', type: 'nominal', sort: '-x', title: null },
        x: { field: 'rows', type: 'quantitative', aggregate: 'sum', title: 'rows kept' },
        color: { field: 'label', type: 'nominal' },
      },
    },
    lossCurve: {
      ...base,
      title: 'Training loss',
      data: { values: record.fineTuning.log.lossCurve },
      mark: { type: 'line', point: false },
      encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative', scale: { zero: false } } },
    },
    evaluationDeltas: {
      ...base,
      // Tasks have different units (F1, perplexity), so changes are shown relative to the base value, signed so that
      // positive is better; the interval is the delta's interval on the same scale.
      title: 'Tuned vs base: change in % of the base value, 95% interval (positive = better)',
      data: {
        values: record.evaluation.tasks.map((t) => {
          const sign = t.higherIsBetter ? 1 : -1;
          const scale = 100 / (Math.abs(t.base.value) || 1);
          const ends = [sign * t.delta.low * scale, sign * t.delta.high * scale];
          return { task: `${t.name} (${t.metric})`, gain: sign * t.delta.value * scale, low: Math.min(...ends), high: Math.max(...ends), verdict: t.verdict };
        }),
      },
      layer: [
        { mark: 'rule', encoding: { y: { field: 'task', type: 'nominal', title: null, axis: { labelLimit: 260 } }, x: { field: 'low', type: 'quantitative', title: 'improvement (% of base)' }, x2: { field: 'high' } } },
        { mark: { type: 'point', filled: true, size: 80 }, encoding: { y: { field: 'task', type: 'nominal' }, x: { field: 'gain', type: 'quantitative' }, color: { field: 'verdict', type: 'nominal' } } },
        { mark: { type: 'rule', strokeDash: [4, 4] }, encoding: { x: { datum: 0 } } },
      ],
    },
    contributorAttribution: {
      ...base,
      title: 'Attribution share by contributor',
      data: { values: record.attribution.contributorTotals },
      mark: 'bar',
      encoding: {
        y: { field: 'contributor', type: 'nominal', sort: '-x', title: null },
        x: { field: 'share', type: 'quantitative', title: 'share of positive influence', axis: { format: '%' } },
        color: { field: 'flagged', type: 'nominal', scale: { domain: [false, true], range: ['#4c78a8', '#e45756'] }, title: 'flagged' },
      },
    },
    rewards: {
      ...base,
      title: `Reward split of ${record.rewards.feeWei} wei`,
      data: { values: record.rewards.split.map((s) => ({ contributor: s.contributor, wei: Number(s.amountWei) })) },
      mark: 'bar',
      encoding: { y: { field: 'contributor', type: 'nominal', sort: '-x', title: null }, x: { field: 'wei', type: 'quantitative' } },
    },
  };
  if (record.evaluation.learningVsForgetting?.length) {
    specs.learningVsForgetting = {
      ...base,
      title: 'Learning vs forgetting (sweep; Pareto front highlighted)',
      data: { values: record.evaluation.learningVsForgetting },
      mark: { type: 'point', filled: true, size: 70 },
      encoding: {
        // symlog: forgetting spans 0.1 % to thousands of % in a typical sweep.
        x: { field: 'forgetting', type: 'quantitative', title: 'forgetting (general perplexity increase, %, symlog scale)', scale: { type: 'symlog' } },
        y: { field: 'domainGain', type: 'quantitative', title: 'domain gain' },
        color: { field: 'pareto', type: 'nominal' },
        tooltip: [{ field: 'label' }],
      },
    };
  }
  return specs;
}

async function renderSvg(spec: VegaLiteSpec, vega: VegaModule, vegaLite: VegaLiteModule): Promise<string> {
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Renders the self-contained HTML report of an audit record.
 *
 * @example
 * ```ts
 * import { renderAuditReport, type AuditRecord } from 'provenant/audit';
 * import { writeFileSync } from 'node:fs';
 * declare const record: AuditRecord;
 * writeFileSync('out/report.html', await renderAuditReport(record));
 * ```
 */
export async function renderAuditReport(record: AuditRecord): Promise<string> {
  const vega = await importOptional<VegaModule>('vega', 'The HTML report');
  const vegaLite = await importOptional<VegaLiteModule>('vega-lite', 'The HTML report');
  const chainLoad = chainLoadOf(record);
  const specs = { ...auditChartSpecs(record), ...(chainLoad ? chainChartSpecs(chainLoad) : {}) };
  const charts: Record<string, string> = {};
  for (const [id, spec] of Object.entries(specs)) {
    charts[id] = `<figure class="chart" data-chart="${id}">${await renderSvg(spec, vega, vegaLite)}</figure>`;
  }
  const d = record.datanet;
  const ev = record.evaluation;
  const at = record.attribution;
  const chain = record.chain;
  const gateBadge = `<span class="badge ${ev.gate.pass ? 'pass' : 'fail'}">${ev.gate.pass ? 'PASS' : 'FAIL'}</span>`;
  const sections = [
    `<section id="data"><h2>Data</h2>
<p>Datanet <b>${escapeHtml(d.name)}</b> version ${d.version}: ${d.rows} rows kept, ${d.duplicatesRemoved} duplicates removed,
${d.rejections} rows rejected. Snapshot root <code>${escapeHtml(d.root)}</code> (leaves: <code>${escapeHtml(d.leafEncoding.join(', '))}</code>).
Splits: ${d.splits.train} train / ${d.splits.validation} validation / ${d.splits.test} test.</p>
${charts.contributors}
${(() => {
  const withRole = d.contributors.some((c) => c.role);
  return table(
    ['contributor', ...(withRole ? ['role'] : []), 'rows', 'bytes', 'labels', 'duplicates', 'rejections'],
    d.contributors.map((c) => [escapeHtml(c.id), ...(withRole ? [escapeHtml(c.role ?? '')] : []), c.rows, c.bytes, escapeHtml(Object.entries(c.labels).map(([k, v]) => `${k}: ${v}`).join(', ')), c.duplicates, c.rejections]),
  );
})()}
</section>`,
    `<section id="decisions"><h2>Decisions</h2>
<p>Base model <b>${escapeHtml(record.baseModel.name)}</b> <code>${escapeHtml(short(record.baseModel.hash))}</code>${record.baseModel.heldOutPerplexity ? `, held-out perplexity ${fmt(record.baseModel.heldOutPerplexity)}` : ''};
adapter <b>${escapeHtml(record.fineTuning.adapterName)}</b> <code>${escapeHtml(short(record.fineTuning.adapterHash))}</code>, task ${escapeHtml(record.fineTuning.task)},
${record.fineTuning.log.steps} steps, final loss ${fmt(record.fineTuning.log.finalLoss)}. Every parameter, with its default and meaning:</p>
${table(['parameter', 'value', 'default', 'meaning'], parameterRows(record.fineTuning.parameters), 'params')}
${charts.lossCurve}
</section>`,
    `<section id="learning-vs-forgetting"><h2>Learning vs forgetting</h2>
<p>Deploy gate: ${gateBadge}</p>
${table(['check', 'result', 'reason'], ev.gate.checks.map((c) => [escapeHtml(c.name), c.pass ? 'pass' : '<b>fail</b>', escapeHtml(c.reason)]))}
${table(['task', 'kind', 'metric', 'base', 'tuned', 'delta [95% CI]', 'p', 'verdict'], ev.tasks.map((t) => [escapeHtml(t.name), t.kind, escapeHtml(t.metric), `${fmt(t.base.value)} [${fmt(t.base.low)}, ${fmt(t.base.high)}]`, `${fmt(t.tuned.value)} [${fmt(t.tuned.low)}, ${fmt(t.tuned.high)}]`, `${fmt(t.delta.value)} [${fmt(t.delta.low)}, ${fmt(t.delta.high)}]`, fmt(t.delta.pValue, 2), escapeHtml(t.verdict)]))}
${ev.drift ? `<p>Drift on ${escapeHtml(ev.drift.probe)}: KL(base‖tuned) = ${fmt(ev.drift.kl)}, Jensen–Shannon = ${fmt(ev.drift.js)}.</p>` : ''}
${charts.evaluationDeltas}
${charts.learningVsForgetting ?? ''}
</section>`,
    `<section id="attribution"><h2>Attribution</h2>
<p>Method <b>${escapeHtml(at.method)}</b>; score digest <code>${escapeHtml(short(at.scoreDigest))}</code>.
${at.quality ? `Measured quality: ${Object.entries(at.quality).map(([k, v]) => `${escapeHtml(k)} = ${typeof v === 'number' ? fmt(v) : escapeHtml(v)}`).join(', ')}.` : ''}</p>
${table(['parameter', 'value', 'default', 'meaning'], parameterRows(at.parameters), 'params')}
${charts.contributorAttribution}
${at.queries
  .map(
    (q) => `<div class="query"><h3>Query ${escapeHtml(q.id)}: predicted <b>${escapeHtml(q.prediction.label)}</b> (${fmt(q.prediction.probability)})</h3>
<pre>${escapeHtml(q.input.slice(0, 400))}</pre>
${table(['top proponent row', 'contributor', 'score'], q.topProponents.map((r) => [`<code>${escapeHtml(short(r.rowId))}</code>`, escapeHtml(r.contributor), fmt(r.score)]))}
${table(['top opponent row', 'contributor', 'score'], q.topOpponents.map((r) => [`<code>${escapeHtml(short(r.rowId))}</code>`, escapeHtml(r.contributor), fmt(r.score)]))}
</div>`,
  )
  .join('\n')}
</section>`,
    `<section id="rewards"><h2>Rewards</h2>
<p>Fee ${escapeHtml(record.rewards.feeWei)} wei split by largest remainder (exact total). Flagged (net negative influence, paid nothing): ${record.rewards.flagged.length ? record.rewards.flagged.map(escapeHtml).join(', ') : 'none'}.</p>
${charts.rewards}
${table(['contributor', 'amount (wei)'], record.rewards.split.map((s) => [escapeHtml(s.contributor), escapeHtml(s.amountWei)]))}
</section>`,
    ...optionalSections(record, charts),
    `<section id="proofs"><h2>On-chain proofs</h2>
${
  chain.status === 'skipped'
    ? `<p>Not published: ${escapeHtml(chain.reason)}</p>`
    : `<p>Chain ${chain.chainId}, registry <code>${escapeHtml(chain.registry)}</code>.</p>
${table(['record', 'transaction', 'gas'], chain.transactions.map((t) => [escapeHtml(t.kind), `<code>${escapeHtml(t.txHash)}</code>`, escapeHtml(t.gasUsed)]))}
<p>Attribution batch <code>${escapeHtml(short(chain.attributionBatch.batchId))}</code>, root <code>${escapeHtml(chain.attributionBatch.root)}</code>:
one record's proof verified on chain: <b>${chain.attributionBatch.verifiedOnChain}</b>, off chain: <b>${chain.attributionBatch.verifiedOffChain}</b>.</p>
<pre>${escapeHtml(JSON.stringify({ leafEncoding: chain.attributionBatch.leafEncoding, leaf: chain.attributionBatch.leaf, proof: chain.attributionBatch.proof }, null, 2))}</pre>`
}
<p>Datanet proof example: row <code>${escapeHtml(short(d.proofExample.rowId))}</code> verified against the snapshot root: <b>${d.proofExample.verified}</b>.</p>
</section>`,
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Provenant audit report — ${escapeHtml(d.name)}</title>
<meta name="generator" content="${escapeHtml(`${record.generator.name} ${record.generator.version}`)}">
<style>
body{font-family:system-ui,sans-serif;max-width:1000px;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}
h1{margin-bottom:.2rem} h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:.88rem;max-width:100%}
table.params{table-layout:fixed;width:100%} table.params td:nth-child(1){width:22%} table.params td:nth-child(2),table.params td:nth-child(3){width:19%}
td{overflow-wrap:anywhere} th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4} code{font-size:.85em} pre{background:#f7f7f7;padding:.6rem;overflow:auto;font-size:.8rem;max-height:14rem}
.badge{padding:.1rem .5rem;border-radius:.3rem;color:#fff;font-weight:bold}.pass{background:#2e7d32}.fail{background:#c62828}
.changed{color:#b45309;font-size:.75rem} figure.chart{margin:1rem 0} nav a{margin-right:1rem}
</style></head><body>
<h1>Provenant audit report</h1>
<p>Record schema <code>${escapeHtml(record.schema)}</code>, created ${escapeHtml(record.createdAt)} by ${escapeHtml(record.generator.name)} ${escapeHtml(record.generator.version)};
seed ${record.seed}; backend ${escapeHtml(record.environment.backend)} (tfjs ${escapeHtml(record.environment.tfjsVersion)}), Node ${escapeHtml(record.environment.node)}${productKernelsOf(record)}.</p>
<nav><a href="#data">Data</a><a href="#decisions">Decisions</a><a href="#learning-vs-forgetting">Learning vs forgetting</a><a href="#attribution">Attribution</a><a href="#rewards">Rewards</a>${generationOf(record) ? '<a href="#generation">Generated text</a>' : ''}${convexInfluenceOf(record) ? '<a href="#convex-influence">Convex influence</a>' : ''}${chainLoadOf(record) ? '<a href="#chain-load">Chain load</a>' : ''}<a href="#proofs">On-chain proofs</a></nav>
${sections.join('\n')}
</body></html>
`;
}

/** The generative stage's answers, when the record carries them (`sections.generative`, issue 11). */
function generationOf(record: AuditRecord): { answers: GenerationAnswerRecord[]; method?: Record<string, unknown>; feeModel?: Record<string, unknown> } | null {
  const g = record.sections?.generative as { answers?: unknown } | undefined;
  return g && Array.isArray(g.answers) ? (g as { answers: GenerationAnswerRecord[] }) : null;
}

/** The convex influence solver route (`attachSection(record, 'convexInfluence', scores.solver)`, issue 15). */
interface ConvexInfluenceSection {
  solver: string;
  reason: string;
  estimatedCost?: { explicit: number; cg: number };
  parameters?: number;
  trainingRows?: number;
  queries?: number;
  cgIterations?: number;
  cgIterationsUsed?: number;
  kernelSpeedup?: number;
  explicitBytes?: number;
}
function convexInfluenceOf(record: AuditRecord): ConvexInfluenceSection | null {
  const c = record.sections?.convexInfluence as Partial<ConvexInfluenceSection> | undefined;
  return c && typeof c.solver === 'string' && typeof c.reason === 'string' ? (c as ConvexInfluenceSection) : null;
}
const fmtCount = (v: number | undefined): string => (typeof v === 'number' && Number.isFinite(v) ? escapeHtml(v.toLocaleString('en-US')) : '—');

/** The OP Stack load study, when the record carries it (`sections.chainLoad`, issue 14). */
function chainLoadOf(record: AuditRecord): ChainChartData | null {
  const c = record.sections?.chainLoad as Partial<ChainChartData> | undefined;
  return c && Array.isArray(c.costByLoad) && Array.isArray(c.finality) && Array.isArray(c.baseFee) ? (c as ChainChartData) : null;
}

/** Sections rendered only when the record carries their data: generated-text attribution, the convex influence solver route and the chain load study. */
function optionalSections(record: AuditRecord, charts: Record<string, string>): string[] {
  const out: string[] = [];
  const generation = generationOf(record);
  if (generation) {
    out.push(`<section id="generation"><h2>Generated text</h2>
<p>Each answer below was generated by the tuned model, attributed to training rows by influence (top proponents and opponents,
contributor and Datanet shares) and by verbatim span tracing (highlighted spans occur in the training rows), and paid under the
fee model (contributors by positive influence only).</p>
${table(['parameter', 'value'], Object.entries(generation.feeModel ?? {}).map(([k, v]) => [escapeHtml(k), escapeHtml(String(v))]))}
${renderGenerationReport(generation.answers)}
</section>`);
  }
  const convex = convexInfluenceOf(record);
  if (convex) {
    const cost = convex.estimatedCost;
    out.push(`<section id="convex-influence"><h2>Convex influence: solver route</h2>
<p>Route <b>${escapeHtml(convex.solver)}</b>: ${escapeHtml(convex.reason)}</p>
${table(['value', 'figure'], [
  ['parameters P', fmtCount(convex.parameters)],
  ['training rows', fmtCount(convex.trainingRows)],
  ['queries', fmtCount(convex.queries)],
  ['estimated cost, explicit factorisation (flop-equivalents)', cost ? escapeHtml(cost.explicit.toExponential(2)) : '—'],
  ['estimated cost, conjugate gradient (flop-equivalents)', cost ? escapeHtml(cost.cg.toExponential(2)) : '—'],
  ['CG iterations assumed per query', fmtCount(convex.cgIterations)],
  ...(convex.cgIterationsUsed !== undefined ? [['CG iterations used (largest)', fmtCount(convex.cgIterationsUsed)]] : []),
  ['dense-kernel speed-up assumed', fmtCount(convex.kernelSpeedup)],
  ['explicit Hessian bytes', fmtCount(convex.explicitBytes)],
])}
</section>`);
  }
  if (chainLoadOf(record)) {
    const profile = (record.sections?.chainLoad as { profileParameters?: { name: string; value: unknown; default: unknown; unit?: string; source?: string }[] }).profileParameters ?? [];
    out.push(`<section id="chain-load"><h2>Chain load</h2>
<p>What an OP Stack L2 carries under attribution load, by publishing strategy (L2 gas and L1 data fee per event, latency to
unsafe, safe and finalized, base fee under sustained load); from <code>npm run bench:chain</code>.</p>
${profile.length ? table(['chain profile value', 'value', 'default', 'unit', 'source'], profile.map((p) => [escapeHtml(p.name), escapeHtml(String(p.value)), escapeHtml(String(p.default)), escapeHtml(p.unit ?? ''), escapeHtml(p.source ?? '')])) : ''}
${charts.chainCost ?? ''}
${charts.chainFinality ?? ''}
${charts.chainBaseFee ?? ''}
</section>`);
  }
  return out;
}

/** ", product kernels float32 …, float64 …" when the record names them (runPipeline records both), else nothing. */
function productKernelsOf(record: AuditRecord): string {
  const k = record.environment.productKernels as { float32?: unknown; float64?: unknown } | undefined;
  if (!k || typeof k !== 'object') return '';
  return `, product kernels float32 ${escapeHtml(String(k.float32))}, float64 ${escapeHtml(String(k.float64))}`;
}
