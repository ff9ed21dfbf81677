/**
 * The base-model hash covers the frozen base only — not a classification head, which is new or probe-trained per task
 * and travels in the adapter — and a mismatch names the tensors that differ (issue 10, item 6).
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { bytesToHex, canonicalJson, isProvenantError, ProvenantError } from '../../../src/core/index.js';
import {
  addClassificationHead,
  attachAdapter,
  baseModelHash,
  classificationHeadModules,
  createMlp,
  createTransformer,
  decodeSafetensors,
  encodeSafetensors,
  loadAdapter,
  saveAdapter,
  tf,
  type PeftAdapterFiles,
  type TransformerModel,
} from '../../../src/finetune/index.js';

const transformer = (): TransformerModel => createTransformer({ vocabSize: 20, dModel: 8, nHeads: 2, nLayers: 1, maxSeqLen: 8, seed: 1 });
const ids = () => tf.tensor2d([[1, 2, 3, 4, 5, 6, 0, 0], [7, 8, 9, 10, 11, 12, 13, 14]], [2, 8], 'int32');

function classLogits(model: TransformerModel): Float32Array {
  const x = ids();
  const out = tf.tidy(() => model.forward(x));
  const values = Float32Array.from(out.dataSync() as Float32Array);
  out.dispose();
  x.dispose();
  return values;
}

function caught(fn: () => unknown): ProvenantError {
  try {
    fn();
  } catch (error) {
    if (isProvenantError(error)) return error;
    throw error;
  }
  throw new Error('expected a ProvenantError');
}

/** Moves every value of a variable (a probe-trained head, a fine-tuned weight). */
function perturb(model: { weights: ReadonlyMap<string, tf.Variable> }, name: string, by: number): void {
  const v = model.weights.get(name)!;
  tf.tidy(() => v.assign(v.add(by)));
}

/** A tuned classifier: LoRA on q/v with random A and B, and (optionally) the head in modules_to_save, trained. */
function tunedClassifier(headInAdapter: boolean): TransformerModel {
  const model = transformer();
  addClassificationHead(model, 3, { seed: 2 });
  perturb(model, 'classifier.weight', 0.05); // a probe-trained head, not the fresh initialisation
  attachAdapter(model, 'cls', { r: 2, targetModules: ['q_proj', 'v_proj'], modulesToSave: headInAdapter ? ['classifier'] : [], initLoraWeights: false }, { seed: 4 });
  if (headInAdapter) {
    const head = model.linears.get('classifier')!;
    tf.tidy(() => head.kernel.assign(head.kernel.mul(-1.5)));
  }
  return model;
}

describe('baseModelHash and the classification head', () => {
  it('does not see the head: adding one, re-initialising it or probe-training it leaves the hash as it was', () => {
    const model = transformer();
    const before = baseModelHash(model);
    addClassificationHead(model, 3, { seed: 2 });
    expect(classificationHeadModules(model)).toEqual(['classifier']);
    expect(baseModelHash(model)).toBe(before);
    perturb(model, 'classifier.weight', 0.3);
    perturb(model, 'classifier.bias', -1);
    expect(baseModelHash(model)).toBe(before);
    const other = transformer();
    addClassificationHead(other, 5, { seed: 9, pooling: 'last' });
    expect(baseModelHash(other)).toBe(before);
    // …but it still sees every base weight.
    perturb(other, 'ln_f.bias', 1e-3);
    expect(baseModelHash(other)).not.toBe(before);
    model.dispose();
    other.dispose();
  });

  it('keeps the output layer of a logistic regression or MLP in the base (there it is the model, not a head)', () => {
    const a = createMlp({ inputSize: 4, hiddenSizes: [3], numClasses: 2, seed: 1 });
    const b = createMlp({ inputSize: 4, hiddenSizes: [3], numClasses: 2, seed: 1 });
    expect(classificationHeadModules(a)).toEqual([]);
    perturb(b, 'fc2.bias', 1e-3);
    expect(baseModelHash(b)).not.toBe(baseModelHash(a));
    a.dispose();
    b.dispose();
  });

  it('a classifier adapter carrying its head loads onto a fresh base with a new random head, and computes what it did', () => {
    const tuned = tunedClassifier(true);
    const expected = classLogits(tuned);
    const files = saveAdapter(tuned, 'cls');
    const fresh = transformer();
    addClassificationHead(fresh, 3, { seed: 77 }); // a different random head: the adapter's copy replaces it
    loadAdapter(fresh, 'cls', files);
    const got = classLogits(fresh);
    expect(Array.from(got)).toEqual(Array.from(expected));
    tuned.dispose();
    fresh.dispose();
  });

  it('an adapter that relies on the base model\'s head refuses another head, naming the head tensors', () => {
    const tuned = tunedClassifier(false);
    const files = saveAdapter(tuned, 'cls');
    const otherHead = transformer();
    addClassificationHead(otherHead, 3, { seed: 77 });
    const error = caught(() => loadAdapter(otherHead, 'cls', files));
    expect(error.code).toBe('ADAPTER_BASE_MISMATCH');
    expect(error.message).toContain('classifier.weight');
    expect(error.message).toContain('modulesToSave');
    // The same head (same initialisation and probe training) is accepted, with the same outputs.
    const sameHead = transformer();
    addClassificationHead(sameHead, 3, { seed: 2 });
    perturb(sameHead, 'classifier.weight', 0.05);
    loadAdapter(sameHead, 'cls', files);
    expect(Array.from(classLogits(sameHead))).toEqual(Array.from(classLogits(tuned)));
    for (const m of [tuned, otherHead, sameHead]) m.dispose();
  });

  it('a different base is refused with the tensors that differ named, in the message and in data', () => {
    const tuned = tunedClassifier(true);
    const files = saveAdapter(tuned, 'cls');
    const changed = transformer();
    perturb(changed, 'blocks.0.attn.k_proj.weight', 1e-3);
    perturb(changed, 'embed_positions.weight', 1e-3);
    addClassificationHead(changed, 3, { seed: 5 });
    const error = caught(() => loadAdapter(changed, 'cls', files));
    expect(error.code).toBe('ADAPTER_BASE_MISMATCH');
    expect((error.data as { changed: string[] }).changed).toEqual(['blocks.0.attn.k_proj.weight', 'embed_positions.weight']);
    expect(error.message).toMatch(/tensors that differ \(2\):\s+blocks\.0\.attn\.k_proj\.weight\s+embed_positions\.weight/);
    // A base with another shape: tensors the adapter saw are missing or new.
    const wider = createTransformer({ vocabSize: 20, dModel: 8, nHeads: 2, nLayers: 2, maxSeqLen: 8, seed: 1 });
    addClassificationHead(wider, 3, { seed: 5 });
    const widerError = caught(() => loadAdapter(wider, 'cls', files));
    expect((widerError.data as { unexpected: string[] }).unexpected).toContain('blocks.1.attn.q_proj.weight');
    // An adapter written before per-tensor digests existed still fails, and says why it cannot name the tensors.
    const decoded = decodeSafetensors(files.safetensors);
    const metadata = Object.fromEntries(Object.entries(decoded.metadata).filter(([k]) => k !== 'provenant.base_tensor_digests'));
    const legacy: PeftAdapterFiles = { config: files.config, safetensors: encodeSafetensors(decoded.tensors, metadata) };
    const legacyError = caught(() => loadAdapter(changed, 'cls', legacy));
    expect(legacyError.code).toBe('ADAPTER_BASE_MISMATCH');
    expect(legacyError.message).toContain('cannot be named');
    loadAdapter(changed, 'cls', files, { verifyBaseModel: false });
    for (const m of [tuned, changed, wider]) m.dispose();
  });

  it('an adapter saved before v2 (a provenant.base-model.v1 hash, no per-tensor digests) still loads onto its own base only', () => {
    const mlp = (seed: number) => createMlp({ inputSize: 4, hiddenSizes: [3], numClasses: 2, seed });
    const model = mlp(1);
    attachAdapter(model, 'a', { r: 2, targetModules: ['fc1'], initLoraWeights: false }, { seed: 3 });
    // The v1 bytes, computed here from their documented layout: manifest JSON, newline, every tensor's bytes by name.
    const names = [...model.weights.keys()].sort();
    const values = names.map((n) => Float32Array.from(model.weights.get(n)!.dataSync() as Float32Array));
    const manifest = canonicalJson({
      format: 'provenant.base-model.v1',
      config: { kind: 'mlp', config: { inputSize: 4, hiddenSizes: [3], numClasses: 2 } },
      tensors: names.map((n) => [n, 'F32', [...model.weights.get(n)!.shape]]),
    });
    const v1 = bytesToHex(nobleSha256(Buffer.concat([Buffer.from(`${manifest}\n`), ...values.map((v) => Buffer.from(v.buffer))])));
    const files = saveAdapter(model, 'a');
    const decoded = decodeSafetensors(files.safetensors);
    const metadata = { format: 'pt', 'provenant.base_model_hash': v1 };
    const legacy: PeftAdapterFiles = { config: files.config, safetensors: encodeSafetensors(decoded.tensors, metadata) };
    const same = mlp(1);
    loadAdapter(same, 'a', legacy);
    const other = mlp(2);
    expect(caught(() => loadAdapter(other, 'a', legacy)).code).toBe('ADAPTER_BASE_MISMATCH');
    for (const m of [model, same, other]) m.dispose();
  });
});
