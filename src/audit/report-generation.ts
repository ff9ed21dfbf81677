/**
 * The generated-text part of the audit report: per answer, the generated text with every traced verbatim span
 * highlighted (hover: the rows and contributors holding it), the top proponent and opponent rows, the contributor and
 * Datanet shares, and the fee split. An HTML fragment from plain data (the generative stage's record section), so the
 * report can be rebuilt from a saved record alone; every user string is escaped.
 */

/** A traced span of an answer: completion characters/tokens [start, start + length). */
export interface GenerationSpanRecord {
  start: number;
  length: number;
  text: string;
  count: number;
  rows: { rowId: string; contributor: string; datanet: string }[];
}

export interface GenerationRowRecord {
  rowId: string;
  contributor: string;
  datanet: string;
  score: number;
  text: string;
}

/** One answer as the audit record holds it (bigints as decimal strings). */
export interface GenerationAnswerRecord {
  prompt: string;
  completion: string;
  logLikelihood: number;
  proponents: GenerationRowRecord[];
  opponents: GenerationRowRecord[];
  contributorShares: Record<string, number> | null;
  datanetShares: Record<string, number> | null;
  spans: GenerationSpanRecord[];
  fee: {
    feeWei: string;
    platformWei: string;
    ownerWei: string;
    stakersWei: string;
    contributorsWei: string;
    unallocatedWei: string;
    contributorAmounts: Record<string, string>;
    paid: boolean;
    reason: string | null;
    flagged: string[];
  };
  attributionMs: number;
}

const escapeHtml = (text: unknown): string =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The completion with spans wrapped in `<mark>`; overlapping spans merge into one highlighted run whose title lists every
 * span's rows. Offsets are in tokens; `tokenText(i)` gives token i's text (characters for the character tokenizer, the
 * default). Every user string (completion text, row ids, contributors) is HTML-escaped. Returns an HTML fragment; never
 * throws.
 *
 * @example
 * ```ts
 * import { highlightSpans } from 'provenant/audit';
 *
 * const html = highlightSpans('The capital is Paris.', [
 *   { start: 15, length: 5, text: 'Paris', count: 2, rows: [{ rowId: 'r7', contributor: 'alice', datanet: 'geo' }] },
 * ]);
 * // 'The capital is <mark title="×2: r7 (alice)">Paris</mark>.'
 * ```
 */
export function highlightSpans(completion: string, spans: readonly GenerationSpanRecord[], tokenText: (i: number) => string = (i) => completion[i] ?? ''): string {
  const n = completion.length === 0 ? 0 : Math.max(completion.length, ...spans.map((s) => s.start + s.length));
  const tokens = Array.from({ length: n }, (_, i) => tokenText(i));
  const titleAt: string[][] = tokens.map(() => []);
  for (const s of spans) {
    const who = s.rows.slice(0, 5).map((r) => `${r.rowId} (${r.contributor})`).join(', ');
    for (let i = s.start; i < s.start + s.length && i < n; i++) titleAt[i]!.push(`×${s.count}: ${who}${s.rows.length > 5 ? ', …' : ''}`);
  }
  let html = '';
  for (let i = 0; i < n; ) {
    if (titleAt[i]!.length === 0) {
      html += escapeHtml(tokens[i]);
      i++;
      continue;
    }
    let j = i;
    const titles = new Set<string>();
    while (j < n && titleAt[j]!.length > 0) {
      for (const t of titleAt[j]!) titles.add(t);
      j++;
    }
    html += `<mark title="${escapeHtml([...titles].join(' | '))}">${escapeHtml(tokens.slice(i, j).join(''))}</mark>`;
    i = j;
  }
  return html;
}

function sharesTable(title: string, shares: Record<string, number> | null, amounts?: Record<string, string>): string {
  if (!shares) return `<p>${escapeHtml(title)}: no positive influence.</p>`;
  const rows = Object.entries(shares)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => {
      const width = Math.max(0, Math.min(100, v * 100));
      const paid = amounts ? `<td>${escapeHtml(amounts[k] ?? '0')}</td>` : '';
      return `<tr><td>${escapeHtml(k)}</td><td>${(v * 100).toFixed(1)} %</td><td><span style="display:inline-block;height:0.7em;width:${width.toFixed(1)}px;background:#4a7"></span></td>${paid}</tr>`;
    })
    .join('');
  // Signed, as the field keeps them (see attribution/format-shares.ts): an opponent shows a negative share and is not paid.
  return `<table><thead><tr><th>${escapeHtml(title)}</th><th title="share of positive influence; negative = opposed, not paid">signed share</th><th></th>${amounts ? '<th>paid (wei)</th>' : ''}</tr></thead><tbody>${rows}</tbody></table>`;
}

function rowsTable(title: string, rows: readonly GenerationRowRecord[]): string {
  if (rows.length === 0) return '';
  const body = rows
    .map((r) => `<tr><td><code>${escapeHtml(r.rowId)}</code></td><td>${escapeHtml(r.contributor)}</td><td>${escapeHtml(r.datanet)}</td><td>${r.score.toPrecision(3)}</td><td>${escapeHtml(r.text)}</td></tr>`)
    .join('');
  return `<table><thead><tr><th colspan="5">${escapeHtml(title)}</th></tr><tr><th>row</th><th>contributor</th><th>Datanet</th><th>τ</th><th>text</th></tr></thead><tbody>${body}</tbody></table>`;
}

/**
 * Renders the answers of a generative stage as an HTML `<section>`.
 *
 * @example
 * ```ts
 * import { renderGenerationReport, type GenerationAnswerRecord } from 'provenant/audit';
 * declare const answers: readonly GenerationAnswerRecord[];
 * const html = renderGenerationReport(answers, { title: 'Generated answers' }); // an HTML fragment for the audit report
 * ```
 */
export function renderGenerationReport(answers: readonly GenerationAnswerRecord[], options: { title?: string; tokenText?: (answer: GenerationAnswerRecord, i: number) => string } = {}): string {
  const parts = answers.map((a, k) => {
    const fee = a.fee;
    const feeLine = fee.paid
      ? `Fee ${escapeHtml(fee.feeWei)} wei: platform ${escapeHtml(fee.platformWei)}, owner ${escapeHtml(fee.ownerWei)}, stakers ${escapeHtml(fee.stakersWei)}, contributors ${escapeHtml(fee.contributorsWei)}.`
      : `Fee ${escapeHtml(fee.feeWei)} wei; contributors unpaid (${escapeHtml(fee.reason ?? 'unknown')}): ${escapeHtml(fee.unallocatedWei)} wei unallocated.`;
    const flagged = fee.flagged.length ? ` Net negative influence (paid nothing): ${fee.flagged.map(escapeHtml).join(', ')}.` : '';
    return `<article class="generation-answer">
<h3>Answer ${k + 1}</h3>
<p><span class="prompt" style="color:#777">${escapeHtml(a.prompt)}</span>${highlightSpans(a.completion, a.spans, options.tokenText ? (i) => options.tokenText!(a, i) : undefined)}</p>
<p>${a.spans.length} verbatim span${a.spans.length === 1 ? '' : 's'} traced (highlighted; hover for rows); log-likelihood ${a.logLikelihood.toFixed(2)}; attributed in ${a.attributionMs.toFixed(0)} ms.</p>
${rowsTable('Top proponent rows', a.proponents)}
${rowsTable('Top opponent rows', a.opponents)}
${sharesTable('Contributor', a.contributorShares, fee.paid ? fee.contributorAmounts : undefined)}
${sharesTable('Datanet', a.datanetShares)}
<p>${feeLine}${flagged}</p>
</article>`;
  });
  return `<section class="generation"><h2>${escapeHtml(options.title ?? 'Generated answers and their sources')}</h2>\n${parts.join('\n')}\n</section>`;
}
