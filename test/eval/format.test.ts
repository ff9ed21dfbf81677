import { describe, expect, it } from 'vitest';
import { compareModels, formatComparisonTable, formatNumber, formatTable } from '../../src/eval/index.js';

describe('text tables', () => {
  it('aligns columns: numbers right, text left', () => {
    const text = formatTable(['task', 'value'], [['spam', '0.91'], ['english', '12.3']]);
    expect(text).toBe(['task     value', '-------  -----', 'spam      0.91', 'english   12.3'].join('\n'));
    expect(formatTable(['a'], [])).toBe('a\n-');
  });

  it('formats numbers to significant digits', () => {
    expect(formatNumber(0.123456)).toBe('0.1235');
    expect(formatNumber(12345.678)).toBe('12350');
    expect(formatNumber(1e-7)).toBe('1.000e-7');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(-2.5)).toBe('-2.5');
  });

  it('renders a comparison table with one line per task', async () => {
    const base = { name: 'base', predictProba: (xs: number[]) => xs.map(() => [0.5, 0.5]) };
    const tuned = { name: 'tuned', predictProba: (xs: number[]) => xs.map((x) => (x > 0 ? [0.1, 0.9] : [0.9, 0.1])) };
    const inputs = Array.from({ length: 40 }, (_, i) => (i % 2 ? 1 : -1));
    const table = await compareModels(base, tuned, [
      { name: 'sign', kind: 'domain', metric: 'accuracy', dataset: { inputs, labels: inputs.map((x) => (x > 0 ? 1 : 0)) } },
    ], { resamples: 100 });
    const text = formatComparisonTable(table);
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^task\s+kind\s+metric\s+base\s+tuned\s+delta\s+95% CI of delta\s+p\s+verdict\s+KL/);
    expect(lines[2]).toMatch(/^sign\s+domain\s+accuracy ↑\s+0\.5\s+1\s+\+0\.5 \(\+100 %\)\s+\[0\.\d+, 0\.\d+\]\s+0\.0\d+\s+improved/);
  });
});
