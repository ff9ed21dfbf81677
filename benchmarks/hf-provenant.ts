/**
 * Provenant's side of `bench:hf` (the PyTorch side and the table live in benchmarks/hf.ts): Hugging Face-architecture
 * workloads on tfjs-wasm, measured and printed as one JSON object on the last line of stdout, so the driver can run this
 * file as a child process (a fresh process per memory figure) and put our numbers beside PyTorch's.
 *
 *   npx tsx benchmarks/hf-provenant.ts llama  [--steps N] [--vocab V] [--intermediate I]   forward, LoRA step, KV-cache generation
 *   npx tsx benchmarks/hf-provenant.ts write-smollm DIR                                      a random BF16 checkpoint of SmolLM-135M's shape
 *   npx tsx benchmarks/hf-provenant.ts load DIR [--step]                                     peak memory of loadPretrained (+ one LoRA step)
 *
 * Timing: wall time per call, minimum and median over the timed repetitions (on a shared machine the minimum is the run
 * that went undisturbed); the LoRA step is `train()`'s own step (batch building, forward, loss, backward, clipping,
 * AdamW), timed between its `onStep` events. Memory: the process's peak resident set (getrusage maxrss, which includes
 * Node's and tfjs-wasm's baseline) and the same figure less the resident set measured just before loading.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  attachAdapter,
  createPretrainedFromConfig,
  encodeSafetensors,
  float32ToBfloat16Bits,
  generateTokens,
  initBackend,
  loadPretrained,
  tf,
  train,
  type PretrainedModel,
  type SafetensorsTensor,
  type TrainingExample,
} from '../src/finetune/index.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const stats = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return { minMs: sorted[0]!, medianMs: sorted[Math.floor(sorted.length / 2)]!, runs: ms.length };
};

/** The Llama-shaped workload of issue 10 §7: hidden 256, 4 layers, 4 heads, 2 key-value heads, sequence 128, batch 8. */
export function llamaShapedConfig(options: { vocab?: number; intermediate?: number } = {}): Record<string, unknown> {
  return {
    model_type: 'llama',
    architectures: ['LlamaForCausalLM'],
    hidden_size: 256,
    intermediate_size: options.intermediate ?? 688,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    vocab_size: options.vocab ?? 4096,
    max_position_embeddings: 512,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    tie_word_embeddings: false,
    initializer_range: 0.02,
  };
}

/** SmolLM-135M's shape (HuggingFaceTB/SmolLM-135M config.json): tied head, 30 layers, 9 heads / 3 key-value heads. */
export const SMOLLM_135M_SHAPE: Record<string, unknown> = {
  model_type: 'llama',
  architectures: ['LlamaForCausalLM'],
  hidden_size: 576,
  intermediate_size: 1536,
  num_hidden_layers: 30,
  num_attention_heads: 9,
  num_key_value_heads: 3,
  vocab_size: 49152,
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: true,
  initializer_range: 0.02,
  bos_token_id: 0,
  eos_token_id: 0,
  torch_dtype: 'bfloat16',
};

function examplesOf(B: number, T: number, vocab: number, seed: number): TrainingExample[] {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % vocab);
  return Array.from({ length: B }, () => ({ input: Array.from({ length: T + 1 }, next) }));
}

/** Wall times of `train()` steps, from the gaps between its onStep events (the first `warmup` dropped). */
async function trainStepTimes(model: PretrainedModel, examples: TrainingExample[], steps: number, warmup: number): Promise<number[]> {
  const times: number[] = [];
  let last = performance.now();
  await train(model, {
    task: 'causal-lm',
    train: examples,
    seed: 1,
    batchSize: examples.length,
    maxSteps: steps + warmup,
    epochs: steps + warmup,
    learningRate: 1e-4,
    onStep: () => {
      const now = performance.now();
      times.push(now - last);
      last = now;
    },
  });
  return times.slice(warmup);
}

export async function benchLlamaShaped(options: { steps?: number; vocab?: number; intermediate?: number } = {}) {
  const steps = options.steps ?? 5;
  const config = llamaShapedConfig(options);
  const B = 8;
  const T = 128;
  const model = await createPretrainedFromConfig(config, { seed: 1 });
  attachAdapter(model, 'default', { r: 8, alpha: 16, targetModules: ['q_proj', 'v_proj'] }, { seed: 1 });
  const examples = examplesOf(B, T, config.vocab_size as number, 7);
  const ids = tf.tensor2d(examples.flatMap((e) => Array.from(e.input).slice(0, T)), [B, T], 'int32');
  const forward: number[] = [];
  for (let i = 0; i < steps + 1; i++) {
    const t0 = performance.now();
    tf.tidy(() => {
      model.logits({ inputIds: ids }).dataSync();
    });
    if (i > 0) forward.push(performance.now() - t0);
  }
  ids.dispose();
  const loraStep = await trainStepTimes(model, examples, steps, 1);
  const prompt = Array.from(examples[0]!.input).slice(0, 16);
  const newTokens = 64;
  generateTokens(model, [prompt], { maxNewTokens: 4, stopTokens: [] });
  const g0 = performance.now();
  const { tokens } = generateTokens(model, [prompt], { maxNewTokens: newTokens, stopTokens: [] });
  const genMs = performance.now() - g0;
  model.dispose();
  return {
    workload: 'llama-shaped',
    config,
    batch: B,
    sequence: T,
    lora: { r: 8, alpha: 16, targetModules: ['q_proj', 'v_proj'] },
    forward: stats(forward),
    loraStep: stats(loraStep),
    generation: { promptTokens: prompt.length, newTokens: tokens[0]!.length, ms: genMs, tokensPerSecond: (tokens[0]!.length / genMs) * 1000 },
  };
}

/** Writes a random BF16 checkpoint of SmolLM-135M's shape (config.json + model.safetensors, HF names). */
export async function writeSmolLmShaped(dir: string): Promise<{ bytes: number; parameters: number }> {
  const model = await createPretrainedFromConfig(SMOLLM_135M_SHAPE, { seed: 3 });
  const tensors: Record<string, SafetensorsTensor> = {};
  let parameters = 0;
  for (const { name, variable, transpose } of model.fileTensors) {
    let data = variable.dataSync() as Float32Array;
    let shape = [...variable.shape];
    if (transpose) {
      const t = tf.tidy(() => tf.transpose(variable));
      data = t.dataSync() as Float32Array;
      t.dispose();
      shape = shape.reverse();
    }
    parameters += data.length;
    tensors[name] = { dtype: 'BF16', shape, data: float32ToBfloat16Bits(data) };
  }
  model.dispose();
  mkdirSync(dir, { recursive: true });
  const bytes = encodeSafetensors(tensors, { format: 'pt' });
  writeFileSync(join(dir, 'model.safetensors'), bytes);
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(SMOLLM_135M_SHAPE, null, 2)}\n`);
  return { bytes: bytes.length, parameters };
}

/** Peak memory of loading a checkpoint in this (fresh) process, and optionally one LoRA step at sequence 128, batch 1. */
export async function benchLoad(dir: string, withStep: boolean) {
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const t0 = performance.now();
  const model = await loadPretrained(dir);
  const loadMs = performance.now() - t0;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
  let parameters = 0;
  for (const v of new Set(model.weights.values())) parameters += v.size;
  const float32Bytes = parameters * 4;
  let step: { seconds: number[] } | null = null;
  if (withStep) {
    attachAdapter(model, 'default', { r: 8, alpha: 16, targetModules: ['q_proj', 'v_proj'] }, { seed: 1 });
    const times = await trainStepTimes(model, examplesOf(1, 128, model.config.vocabSize, 5), 2, 1);
    step = { seconds: times.map((t) => t / 1000) };
  }
  const afterStepPeak = process.resourceUsage().maxRSS * 1024;
  model.dispose();
  return {
    workload: 'load',
    dir,
    parameters,
    float32Bytes,
    loadMs,
    rssBeforeBytes: before,
    peakRssBytes: peak,
    peakAboveBaselineBytes: peak - before,
    ratioToFloat32: (peak - before) / float32Bytes,
    loraStep: step,
    peakRssWithStepBytes: withStep ? afterStepPeak : null,
  };
}

async function main(): Promise<void> {
  await initBackend({ backend: 'wasm' });
  const [command, dir] = process.argv.slice(2);
  let result: unknown;
  if (command === 'llama') result = await benchLlamaShaped({ steps: arg('steps', 5), vocab: arg('vocab', 4096), intermediate: arg('intermediate', 688) });
  else if (command === 'write-smollm' && dir) result = await writeSmolLmShaped(dir);
  else if (command === 'load' && dir) result = await benchLoad(dir, process.argv.includes('--step'));
  else throw new Error('usage: hf-provenant.ts llama | write-smollm DIR | load DIR [--step]');
  console.log(JSON.stringify({ backend: tf.getBackend(), ...(result as object) }));
}

if (process.argv[1] && /hf-provenant\.ts$/.test(process.argv[1])) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
