import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDatanet, toMatrix } from './helpers.js';

describe('toMatrix', () => {
  it('packs rows row-major with label indices, matching an element-by-element loop', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((d) => fc.array(fc.record({ input: fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), { minLength: d, maxLength: d }), label: fc.constantFrom(0, 1, 2) }), { minLength: 1, maxLength: 20 })),
        (rows) => {
          const datanet = createDatanet({ name: 'm', schema: { input: 'vector', labels: [0, 1, 2] } });
          datanet.addContribution({ contributor: 'a', licence: 'L', source: 's', rows });
          const snapshot = datanet.snapshot();
          const m = toMatrix(snapshot.rows, { classes: snapshot.classes, dtype: 'float64' });
          expect([m.rows, m.columns]).toEqual([snapshot.size, rows[0]!.input.length]);
          snapshot.rows.forEach((row, i) => {
            const input = row.input as readonly number[];
            for (let j = 0; j < m.columns; j++) expect(m.features[i * m.columns + j]).toBe(input[j]);
            expect(snapshot.classes[m.labels[i]!]).toBe(row.label);
          });
          expect(Array.from(toMatrix(snapshot.rows, { classes: snapshot.classes }).features)).toEqual(Array.from(m.features, Math.fround));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('flattens images and refuses text, ragged rows and unknown labels', () => {
    const image = { input: { width: 2, height: 1, channels: 2, data: [1, 2, 3, 4] }, label: 'x' };
    expect(Array.from(toMatrix([image], { classes: ['x'] }).features)).toEqual([1, 2, 3, 4]);
    expect(() => toMatrix([{ input: 'text' }], { classes: [] })).toThrow(/text/);
    expect(() => toMatrix([{ input: [1, 2] }, { input: [1] }], { classes: [] })).toThrow(/1 values/);
    expect(() => toMatrix([{ input: [1], label: 'y' }], { classes: ['x'] })).toThrow(/not in classes/);
    expect(toMatrix([{ input: [1] }], { classes: [] }).labels[0]).toBe(-1);
  });
});
