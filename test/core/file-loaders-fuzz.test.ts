/**
 * Issue 13 kind 5: every file-loading entry point answers a missing, empty, wrong-kind or garbage path with a typed
 * ProvenantError (or a successful load), never a raw ENOENT/EISDIR or a TypeError. fast-check builds a random little
 * file tree per run and points each loader into it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readFeatureStore } from '../../src/attribution/index.js';
import { loadAuditRecord } from '../../src/audit/index.js';
import { ProvenantError, committedFolder, readFileChecked } from '../../src/core/index.js';
import { importJsonlStream } from '../../src/datanet/index.js';
import { createMlp, loadAdapterFromDir, loadBaseModel, loadCheckpoint, readBaseModelConfig } from '../../src/finetune/index.js';

type Node = { kind: 'missing' } | { kind: 'dir' } | { kind: 'file'; bytes: Uint8Array };
const NAMES = ['adapter_config.json', 'adapter_model.safetensors', 'manifest.json', 'shard-00000.f32', 'config.json', 'model.safetensors', '.provenant-pending'];
const node: fc.Arbitrary<Node> = fc.oneof(
  fc.constant({ kind: 'missing' as const }),
  fc.constant({ kind: 'dir' as const }),
  fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.constantFrom('{}', '[]', 'null', '{"format":"provenant-feature-store","shards":[{"file":"../x.f32","rowStart":0,"rows":1}],"rows":1,"dim":1}', '{"format":"provenant-base-model","version":1,"architecture":"transformer","weightsFile":"model.safetensors"}', '{"peft_type":"LORA","r":"x"}').map((t) => new Uint8Array(Buffer.from(t))),
  ).map((bytes) => ({ kind: 'file' as const, bytes })),
);

async function typed(name: string, run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof ProvenantError)) throw new Error(`${name}: untyped ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
  }
}

describe('file loaders never throw raw file-system errors', () => {
  it('fuzz: adapters, feature stores, checkpoints, base models, audit records, JSONL files', async () => {
    const root = mkdtempSync(join(tmpdir(), 'provenant-loaders-'));
    const model = createMlp({ inputSize: 4, hiddenSizes: [3], numClasses: 2, seed: 1 });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constant({ kind: 'missing' as const }), fc.constant({ kind: 'dir' as const }), node), fc.uniqueArray(fc.tuple(fc.constantFrom(...NAMES), node), { maxLength: 5, selector: ([name]) => name }), async (top, children) => {
        const dir = join(root, `case-${run++}`);
        if (top.kind === 'dir') {
          mkdirSync(dir);
          for (const [name, child] of children) {
            if (child.kind === 'dir') mkdirSync(join(dir, name), { recursive: true });
            else if (child.kind === 'file') writeFileSync(join(dir, name), child.bytes);
          }
        } else if (top.kind === 'file') writeFileSync(dir, top.bytes);
        await typed('loadAdapterFromDir', () => loadAdapterFromDir(model, `a${run}`, dir));
        await typed('readFeatureStore', () => readFeatureStore(dir));
        await typed('loadCheckpoint', () => loadCheckpoint(join(dir, 'model.safetensors')));
        await typed('loadCheckpoint(dir)', () => loadCheckpoint(dir));
        await typed('readBaseModelConfig', () => readBaseModelConfig(dir));
        await typed('loadBaseModel', () => loadBaseModel({ directory: dir }));
        await typed('loadAuditRecord', () => loadAuditRecord(join(dir, 'config.json')));
        await typed('importJsonlStream', () => importJsonlStream(join(dir, 'manifest.json')));
        await typed('committedFolder', () => committedFolder(dir));
        await typed('readFileChecked', () => readFileChecked(join(dir, 'adapter_config.json')));
      }),
      { seed: 13, numRuns: 150 },
    );
    model.dispose();
    rmSync(root, { recursive: true, force: true });
  });
});
