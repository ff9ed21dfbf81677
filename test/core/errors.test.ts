import { describe, expect, it, vi } from 'vitest';
import { ProvenantError, assertArgument, describeValue, isProvenantError } from '../../src/core/index.js';

describe('ProvenantError', () => {
  it('carries a stable code, a short message, details and the offending values', () => {
    const cause = new Error('disk full');
    const error = new ProvenantError('DATANET_ROW_INVALID', 'Row 3 is invalid.', {
      details: 'Labels must be one of the schema labels.',
      metaMessages: ['row 3: label "spamm"'],
      data: { index: 3 },
      cause,
    });
    expect(error.code).toBe('DATANET_ROW_INVALID');
    expect(error.shortMessage).toBe('Row 3 is invalid.');
    expect(error.message).toContain('row 3: label "spamm"');
    expect(error.message).toContain('Details: Labels must be one of the schema labels.');
    expect(error.message).toContain('Code: DATANET_ROW_INVALID');
    expect(error.data).toEqual({ index: 3 });
    expect(error.walk()).toBe(cause);
    expect(error.walk((e) => e === cause)).toBe(cause);
    expect(error.walk((e) => e === 'nothing')).toBeNull();
    expect(isProvenantError(error, 'DATANET_ROW_INVALID')).toBe(true);
    expect(isProvenantError(error, 'CHAIN_REVERTED')).toBe(false);
    expect(isProvenantError(cause)).toBe(false);
  });

  it('assertArgument throws INVALID_ARGUMENT naming the argument', () => {
    expect(() => assertArgument(false, 'rank', 'must be positive', -1)).toThrow(/Invalid argument "rank": must be positive/);
    expect(() => assertArgument(true, 'rank', 'never')).not.toThrow();
  });

  it('describeValue renders any value briefly without throwing', () => {
    expect(describeValue(12n)).toBe('12n');
    expect(describeValue(NaN)).toBe('NaN');
    expect(describeValue(new Float32Array(3))).toBe('Float32Array(3)');
    expect(describeValue('x'.repeat(500)).length).toBeLessThanOrEqual(120);
    const cyclic: Record<string, unknown> = {};
    cyclic.me = cyclic;
    expect(describeValue(cyclic)).toBe('[object Object]');
  });
});

describe('ProvenantError identity across bundles', () => {
  it('is recognised by brand, so an error from a second copy of the class (another bundle) still matches', async () => {
    vi.resetModules();
    const { ProvenantError: Other } = await import('../../src/core/errors.js');
    expect(Other).not.toBe(ProvenantError);
    const foreign = new Other('CHAIN_REVERTED', 'reverted');
    expect(foreign instanceof ProvenantError).toBe(true);
    expect(isProvenantError(foreign, 'CHAIN_REVERTED')).toBe(true);
    expect(new Error('plain') instanceof ProvenantError).toBe(false);
    expect((null as unknown) instanceof ProvenantError).toBe(false);
  });
});
