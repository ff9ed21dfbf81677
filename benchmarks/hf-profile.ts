/**
 * Per-kernel profile of the `bench:hf` Llama-256 workload (hidden 256, 4 layers, 4 heads, 2 key-value heads,
 * intermediate 768, vocab 2048, sequence 128, batch 8; LoRA r 8 on q_proj, v_proj): one forward pass (`computeLogits`)
 * and one LoRA training step (forward, loss, backward — the gradient part of `train()`'s step), each kernel's time summed
 * by kernel name and input shapes through `tf.profile`. Prints the top kernels and the totals; wall times are upper
 * bounds on a shared machine. The float32 WebAssembly products are not tfjs kernels (they run inside custom-gradient
 * scopes, and in the backward pass outside any kernel), so their own time is summed separately by wrapping the model's
 * product workspace: "float32 products" below, with the kernel that ran (simd or relaxed-simd-fma; run with
 * `node --experimental-wasm-relaxed-simd --import tsx` for the latter on Node 20).
 *
 *   npx tsx benchmarks/hf-profile.ts [--smol] [--top N] [--json FILE]
 *
 * `--smol`: SmolLM-135M's shape instead (hidden 576, 30 layers, 9 heads, 3 key-value heads, vocab 49152, tied head), batch 1.
 */
import { writeFileSync } from 'node:fs';
import { SMOLLM_135M_SHAPE, llamaShapedConfig } from './hf-provenant.js';
import { attachAdapter, computeLogits, createPretrainedFromConfig, initBackend, parameterGroups, taskLoss, tf, makeBatch, type GemmF32, type TrainingExample } from '../src/finetune/index.js';

const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

// The workloads of bench:hf (benchmarks/hf-provenant.ts), so the profile measures the same shapes.
const CONFIG = llamaShapedConfig({ vocab: 2048, intermediate: 768 }) as Record<string, unknown> & { vocab_size: number };
const SMOL = SMOLLM_135M_SHAPE as Record<string, unknown> & { vocab_size: number };
const smol = process.argv.includes('--smol');
const config = smol ? SMOL : CONFIG;
const B = smol ? 1 : 8;
const T = 128;

function ids(n: number, seed: number): number[] {
  let x = seed >>> 0;
  return Array.from({ length: n }, () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return 1 + (x % (config.vocab_size - 1));
  });
}

interface Row {
  key: string;
  ms: number;
  calls: number;
}

async function profileOf(run: () => void): Promise<{ wallMs: number; kernelMs: number; rows: Row[] }> {
  const t0 = performance.now();
  const info = await tf.profile(run);
  const wallMs = performance.now() - t0;
  const byKey = new Map<string, Row>();
  let kernelMs = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    kernelMs += ms;
    const key = `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join('·')}`;
    const row = byKey.get(key) ?? { key, ms: 0, calls: 0 };
    row.ms += ms;
    row.calls += 1;
    byKey.set(key, row);
  }
  return { wallMs, kernelMs, rows: [...byKey.values()].sort((a, b) => b.ms - a.ms) };
}

function byName(rows: Row[]): Row[] {
  const m = new Map<string, Row>();
  for (const r of rows) {
    const name = r.key.split(' ')[0]!;
    const row = m.get(name) ?? { key: name, ms: 0, calls: 0 };
    row.ms += r.ms;
    row.calls += r.calls;
    m.set(name, row);
  }
  return [...m.values()].sort((a, b) => b.ms - a.ms);
}

async function main(): Promise<void> {
  await initBackend({ backend: 'wasm' });
  const top = Number(argValue('top') ?? 25);
  const model = await createPretrainedFromConfig(config, { seed: 1 });
  attachAdapter(model, 'default', { r: 8, alpha: 16, dropout: 0, targetModules: ['q_proj', 'v_proj'] }, { seed: 1 });
  const rows = Array.from({ length: B }, (_, b) => ids(T, 100 + b));
  const examples: TrainingExample[] = Array.from({ length: B }, (_, b) => ({ input: ids(T + 1, 200 + b) }));
  const batch = makeBatch(model, 'causal-lm', examples, examples.map(() => 0));
  const trainable = parameterGroups(model).map((g) => g.variable);
  // Time spent inside the float32 product workspace (all linears share the model's one).
  const gemm = [...(model as unknown as { linears: Map<string, { gemm?: GemmF32 }> }).linears.values()][0]?.gemm;
  let gemmMs = 0;
  let gemmCalls = 0;
  if (gemm) {
    const product = gemm.product.bind(gemm);
    gemm.product = (a, b, bias, into) => {
      const t0 = performance.now();
      const c = product(a, b, bias, into);
      gemmMs += performance.now() - t0;
      gemmCalls += 1;
      return c;
    };
  }
  const step = () => {
    const { value, grads } = tf.variableGrads(() => taskLoss(model, 'causal-lm', batch, { training: true }), trainable);
    value.dataSync();
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
  };
  // Warm up both (kernel compilation, first-call allocations).
  computeLogits(model, { inputIds: rows });
  step();
  const report: Record<string, unknown> = { backend: tf.getBackend() };
  for (const [name, run] of [
    ['forward', () => void computeLogits(model, { inputIds: rows })],
    ['lora-step (forward+loss+backward)', step],
  ] as const) {
    const p = await profileOf(run);
    // A second, unprofiled wall time (profiling adds a sync per kernel), with the float32 products' own share.
    gemmMs = 0;
    gemmCalls = 0;
    const t0 = performance.now();
    run();
    const plainMs = performance.now() - t0;
    const products = { ms: gemmMs, calls: gemmCalls, kernel: gemm?.kernel ?? null };
    console.log(`\n${name}: wall ${plainMs.toFixed(0)} ms unprofiled, ${p.wallMs.toFixed(0)} ms profiled, kernels ${p.kernelMs.toFixed(0)} ms`);
    console.log(`  float32 products (${products.kernel}): ${products.ms.toFixed(0)} ms in ${products.calls} calls (unprofiled run; inside the tfjs kernel times above for the forward part)`);
    console.log('  by kernel:');
    for (const r of byName(p.rows).slice(0, 15)) console.log(`    ${r.ms.toFixed(1).padStart(8)} ms ${String(r.calls).padStart(5)}×  ${r.key}`);
    console.log(`  top ${top} kernel+shape:`);
    for (const r of p.rows.slice(0, top)) console.log(`    ${r.ms.toFixed(1).padStart(8)} ms ${String(r.calls).padStart(5)}×  ${r.key}`);
    report[name] = { plainMs, products, profiledMs: p.wallMs, kernelMs: p.kernelMs, byKernel: byName(p.rows), top: p.rows.slice(0, top), all: p.rows };
  }
  const before = tf.memory().numTensors;
  step();
  computeLogits(model, { inputIds: rows });
  report.tensorLeak = tf.memory().numTensors - before;
  console.log(`\ntensors left by one more step + forward: ${tf.memory().numTensors - before}`);
  const out = argValue('json');
  if (out) writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  model.dispose();
}

await main();
