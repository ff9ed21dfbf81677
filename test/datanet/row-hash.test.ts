import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, keccak256 } from '../../src/core/index.js';
import { resolveSchema, rowContentJson, rowId, validateRow, type StoredRow } from '../../src/datanet/index.js';
import { storedRowIdAndBytes } from '../../src/datanet/row-hash.js';
import { keccak256 as viemKeccak, stringToBytes } from 'viem';

const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const label = fc.oneof(fc.string({ minLength: 1 }), fc.nat());

const storedRow = fc.oneof(
  fc.record({ input: fc.string({ minLength: 1 }), label: fc.option(label, { nil: undefined }) }),
  fc.record({ input: fc.array(finite, { minLength: 1, maxLength: 20 }), label: fc.option(label, { nil: undefined }) }),
  fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
    .chain(([width, height, channels]) =>
      fc.record({
        input: fc.array(finite, { minLength: width * height * channels, maxLength: width * height * channels }).map((data) => ({ width, height, channels, data })),
        label: fc.option(label, { nil: undefined }),
      }),
    ),
).map((r) => (r.label === undefined ? { input: r.input } : r) as StoredRow);

describe('row content hash', () => {
  it('the hand-written content JSON equals canonicalJson of {input, label}', () => {
    fc.assert(
      fc.property(storedRow, (row) => {
        const content = row.label === undefined ? { input: row.input } : { input: row.input, label: row.label };
        expect(rowContentJson(row)).toBe(canonicalJson(content));
        const { id, bytes } = storedRowIdAndBytes(row);
        expect(id).toBe(keccak256(canonicalJson(content)));
        expect(bytes).toBe(Buffer.byteLength(canonicalJson(content), 'utf8'));
        expect(rowId(row)).toBe(id);
      }),
      { numRuns: 300 },
    );
  });

  it('writes -0 as 0, like canonicalJson', () => {
    expect(rowContentJson({ input: [-0, 1.5, -2e-300] })).toBe('{"input":[0,1.5,-2e-300]}');
  });

  it('ignores metadata but not the label', () => {
    const a = rowId({ input: 'Win a free cruise', label: 'spam' });
    expect(rowId({ input: 'Win a free cruise', label: 'spam', metadata: { from: 'x@y.z' } })).toBe(a);
    expect(rowId({ input: 'Win a free cruise', label: 'ham' })).not.toBe(a);
    expect(rowId({ input: 'Win a free cruise' })).not.toBe(a);
    // The integer 7 and the string "7" are different labels.
    expect(rowId({ input: [1], label: 7 })).not.toBe(rowId({ input: [1], label: '7' }));
  });

  it('hashes a float32 vector as the float64 values it widens to, so JSON round trips keep the id', () => {
    const f32 = Float32Array.from([0.1, -0.5, 3.25]);
    const widened = Array.from(f32);
    const schema = resolveSchema({ input: 'vector', vectorLength: 3 });
    const checked = validateRow({ input: f32 }, schema);
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    expect(storedRowIdAndBytes(checked.row).id).toBe(keccak256(`{"input":[${widened.map(String).join(',')}]}`));
    expect(rowId({ input: JSON.parse(JSON.stringify(widened)) as number[] })).toBe(rowId({ input: f32 }));
  });

  it('agrees with an independent keccak256 (viem) on the canonical content text', () => {
    fc.assert(
      fc.property(storedRow, (row) => {
        expect(rowId(row)).toBe(viemKeccak(stringToBytes(rowContentJson(row))));
      }),
      { numRuns: 100 },
    );
  });
});
