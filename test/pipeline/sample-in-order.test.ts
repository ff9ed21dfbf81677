import { describe, expect, it } from 'vitest';
import { ProvenantError } from '../../src/core/index.js';
import { sampleInOrder } from '../../src/pipeline/generative.js';

const items = ['a', 'b', 'c', 'd', 'e'];

describe('sampleInOrder', () => {
  it.each([-1, -3, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses n = %s with INVALID_ARGUMENT naming the value', (n) => {
    let caught: unknown;
    try {
      sampleInOrder(items, n, 1);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ProvenantError);
    const err = caught as ProvenantError;
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain('"n"');
    expect(err.message).toContain(String(n));
  });

  it('still samples min(n, length) distinct items in their original order for valid n', () => {
    for (const n of [0, 2, 5, 9]) {
      const got = sampleInOrder(items, n, 7);
      expect(got).toHaveLength(Math.min(n, items.length));
      const positions = got.map((x) => items.indexOf(x));
      expect(positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1]!))).toBe(true);
    }
  });
});
