import { describe, expect, it } from 'vitest';
import { contributorShares, formatSignedShares, SIGNED_SHARES_LABEL } from '../../src/attribution/index.js';

describe('formatSignedShares', () => {
  it('writes the sign of every share (an opponent is −, never a bare negative), largest first, and says the shares are signed', () => {
    // contributorShares: positives over the positive total (3 + 1 = 4), the opponent keeps its sign: −2/4.
    const shares = contributorShares({ c: -2, a: 3, b: 1, z: 0 });
    expect(formatSignedShares(shares)).toBe('a +75.0%, b +25.0%, z 0.0%, c \u221250.0%');
    expect(formatSignedShares(shares, { top: 2, digits: 0 })).toBe('a +75%, b +25%');
    expect(formatSignedShares(null)).toBe('none positive');
    expect(SIGNED_SHARES_LABEL).toMatch(/^signed shares .*negative = opposed/);
  });

  it('rounds like toFixed and signs by the value (a share that rounds to 0 is unsigned)', () => {
    const shares = { p: 0.6180339887, q: 0.3819660113, r: -0.0004, s: -1.25 };
    const byHand = ['p +61.8%', 'q +38.2%', 'r 0.0%', 's \u2212125.0%'].join(', ');
    expect(formatSignedShares(shares)).toBe(byHand);
  });
});
