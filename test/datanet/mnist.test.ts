import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromMnist, type MnistDatanet } from './helpers.js';

// The package read directly, to check the builder's pixels and labels independently.
const mnist = createRequire(import.meta.url)('mnist') as { raw: number[]; length: number }[];
const pixelsAt = (source: string): number[] => {
  const [digit, position] = source.split('/').map(Number) as [number, number];
  return mnist[digit]!.raw.slice(position * 784, position * 784 + 784);
};

let built: MnistDatanet;
beforeAll(async () => {
  built = await fromMnist({ train: 300, test: 60, contributors: 4, flipFraction: 0.1, seed: 11 });
});

describe('fromMnist', () => {
  it('the package holds 10,000 digits of 784 grey levels in [0, 1]', () => {
    expect(mnist.reduce((a, d) => a + d.length, 0)).toBe(10_000);
    for (const d of mnist) {
      expect(d.raw.length).toBe(d.length * 784);
      expect(d.raw.every((v) => v >= 0 && v <= 1)).toBe(true);
    }
  });

  it('rows are the package digits, with their true labels except the flipped ones', () => {
    const snapshot = built.datanet.snapshot();
    expect(snapshot.size).toBe(300);
    expect(snapshot.schema).toMatchObject({ input: 'vector', vectorLength: 784 });
    const flipped = new Set(built.groundTruth.flippedRowIds);
    expect(flipped.size).toBe(30);
    for (const row of snapshot.rows) {
      const source = (row.metadata as { source: string }).source;
      expect(row.input).toEqual(pixelsAt(source));
      const digit = Number(source.split('/')[0]);
      if (flipped.has(row.id)) {
        expect(built.groundTruth.trueLabels[row.id]).toBe(digit);
        expect(row.label).not.toBe(digit);
      } else expect(row.label).toBe(digit);
    }
  });

  it('test digits are held out: disjoint from the training rows, with true labels', () => {
    expect(built.test).toHaveLength(60);
    const trainSources = new Set(built.datanet.snapshot().rows.map((r) => (r.metadata as { source: string }).source));
    for (const example of built.test) {
      expect(trainSources.has(example.source)).toBe(false);
      expect(example.input).toEqual(pixelsAt(example.source));
      expect(example.label).toBe(Number(example.source.split('/')[0]));
    }
  });

  it('partitions rows among contributors: equal iid shares, or contiguous digit ranges when by label', async () => {
    expect(built.datanet.snapshot().contributors.map((c) => c.rows)).toEqual([75, 75, 75, 75]);
    const byLabel = await fromMnist({ train: 200, contributors: 10, partition: 'by-label', seed: 1, as: 'image', contributorWeights: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1] });
    const snapshot = byLabel.datanet.snapshot();
    expect(snapshot.rows[0]!.input).toMatchObject({ width: 28, height: 28, channels: 1 });
    // Shares are consecutive runs of the digit-sorted rows: each holds a contiguous digit range, the ranges ascend.
    const ranges = snapshot.contributors.map((c) => Object.keys(c.labels).map(Number).sort((a, b) => a - b));
    for (const r of ranges) expect(r).toEqual(Array.from({ length: r.length }, (_, k) => r[0]! + k));
    for (let k = 1; k < ranges.length; k++) expect(ranges[k - 1]!.at(-1)!).toBeLessThanOrEqual(ranges[k]![0]!);
    expect(ranges.reduce((a, r) => a + r.length, 0)).toBeLessThanOrEqual(10 + 9);
    const weighted = await fromMnist({ train: 100, contributors: ['a', 'b'], contributorWeights: [3, 1], seed: 2 });
    expect(weighted.datanet.snapshot().contributors.map((c) => [c.contributor, c.rows])).toEqual([['a', 75], ['b', 25]]);
  });

  it('is deterministic in its seed and checks its options', async () => {
    const again = await fromMnist({ train: 300, test: 60, contributors: 4, flipFraction: 0.1, seed: 11 });
    expect(again.datanet.snapshot().root).toBe(built.datanet.snapshot().root);
    await expect(fromMnist({ train: 9990, test: 20 })).rejects.toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await expect(fromMnist({ flipFraction: 2 })).rejects.toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
