import { describe, expect, it } from 'vitest';
import { highlightSpans, renderGenerationReport, type GenerationAnswerRecord } from '../../src/audit/index.js';

const answer: GenerationAnswerRecord = {
  prompt: 'The capital of Zorbania is',
  completion: ' Quixville, <b>as</b> records show.',
  logLikelihood: -12.5,
  proponents: [{ rowId: 'planted/0/1', contributor: 'planted', datanet: 'planted-facts', score: 3.2, text: 'The capital of Zorbania is Quixville, as records show.' }],
  opponents: [],
  contributorShares: { planted: 0.9, 'era-1790-1849': 0.1, 'era-1850-1899': -0.05 },
  datanetShares: { 'planted-facts': 0.9, sotu: 0.1 },
  spans: [
    { start: 0, length: 11, text: ' Quixville,', count: 4, rows: [{ rowId: 'planted/0/1', contributor: 'planted', datanet: 'planted-facts' }] },
    { start: 5, length: 8, text: 'ville, <', count: 1, rows: [{ rowId: 'x"y', contributor: 'c', datanet: 'd' }] },
  ],
  fee: { feeWei: '100', platformWei: '5', ownerWei: '38', stakersWei: '9', contributorsWei: '48', unallocatedWei: '0', contributorAmounts: { planted: '43', 'era-1790-1849': '5', 'era-1850-1899': '0' }, paid: true, reason: null, flagged: ['era-1850-1899'] },
  attributionMs: 42,
};

describe('generation report', () => {
  it('highlights overlapping spans as one escaped run whose title names every span\'s rows', () => {
    const html = highlightSpans(answer.completion, answer.spans);
    expect(html.match(/<mark/g)).toHaveLength(1);
    expect(html).toContain('<mark title="×4: planted/0/1 (planted) | ×1: x&quot;y (c)"> Quixville, &lt;</mark>b&gt;as&lt;/b&gt; records show.');
  });

  it('renders the text, top rows, shares, payments and flags, escaping user strings', () => {
    const html = renderGenerationReport([answer, { ...answer, spans: [], fee: { ...answer.fee, paid: false, reason: 'no-positive-influence', unallocatedWei: '48' }, contributorShares: null }]);
    expect(html).toContain('Top proponent rows');
    expect(html).toContain('<td>planted</td><td>90.0 %</td>');
    expect(html).toContain('signed share</th>'); // negative shares (opponents) are labelled as signed
    expect(html).toContain('<td>43</td>');
    expect(html).toContain('Net negative influence (paid nothing): era-1850-1899.');
    expect(html).toContain('contributors unpaid (no-positive-influence): 48 wei unallocated.');
    expect(html).toContain('Contributor: no positive influence.');
    expect(html).not.toContain('<b>as</b>');
  });
});
