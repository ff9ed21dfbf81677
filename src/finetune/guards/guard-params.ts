/**
 * Every forgetting guard's options in one table each (see `core/params.ts`): default, meaning, validation. Each
 * `create…Guard` resolves its options here and keeps the resolved object as `guard.used`, which the audit record
 * describes — so the record shows the seed and sequence length the guard really used, not the table's defaults.
 * Strengths have no universal scale: they multiply a penalty whose size depends on the model, so sweep them.
 */
import { checks, type ParamCheck, type ParamTable } from '../../core/index.js';

const strength: ParamCheck = checks.number(0, Number.MAX_VALUE);
const moduleList: ParamCheck = checks.nullable((v) =>
  Array.isArray(v) && v.length > 0 && v.every((m) => typeof m === 'string' && m.length > 0) ? null : `must be a non-empty array of names or null, got ${JSON.stringify(v)}`,
);
const base = { code: 'TRAINING_CONFIG_INVALID', docsPath: '#forgetting-guards' } as const;

export const REPLAY_PARAMS: ParamTable = Object.freeze({
  ...base,
  name: 'replay',
  inputs: ['sequences'],
  fields: [
    { name: 'weight', default: 1, meaning: 'Multiplier of the replay LM loss added to the task loss; weight w gives the mix task + w·replay (a fraction f of the total is w = f/(1 − f)).', check: strength, aliases: ['strength'] },
    { name: 'batchSize', default: 8, meaning: 'General-text sequences per replay batch (one replay batch per micro-batch).', check: checks.int(1) },
    { name: 'seed', default: 0, meaning: 'Seed of the cycling replay batch plan (each pass over the general text is a fresh seeded permutation) and of its dropout masks.', check: checks.int(Number.MIN_SAFE_INTEGER) },
    { name: 'gradientAccumulationSteps', default: 1, meaning: "Set it to the training loop's value so each micro-batch of a step gets its own replay batch.", check: checks.int(1) },
    { name: 'sequenceLength', default: null, meaning: 'Truncate replay sequences to this many input positions; null = the model context.', check: checks.nullable(checks.int(1)) },
  ],
});

export const L2SP_PARAMS: ParamTable = Object.freeze({
  ...base,
  name: 'l2-sp',
  fields: [
    { name: 'strength', default: 1e-2, meaning: 'α of α/2·Σ_modules ‖s·A·B‖²_F: L2-SP (Li et al. 2018, eq. 3) with the base weights as the starting point, so the penalty is the squared size of the adapter update.', check: strength, aliases: ['alpha'] },
    { name: 'adapters', default: null, meaning: 'Adapters penalised; null = every active, unmerged adapter.', check: moduleList },
  ],
});

export const KL_TO_BASE_PARAMS: ParamTable = Object.freeze({
  ...base,
  name: 'kl-to-base',
  inputs: ['probe'],
  fields: [
    { name: 'strength', default: 1, meaning: 'Multiplier of the mean KL(p_base ‖ p_tuned) over the probe rows (next tokens or classes).', check: strength },
    { name: 'task', default: 'causal-lm', meaning: "Which outputs are compared: next-token distributions ('causal-lm', the general ability) or class distributions ('classification').", check: checks.oneOf(['causal-lm', 'classification']) },
    { name: 'batchSize', default: null, meaning: 'Probe examples per step; null = the whole probe set every step. Smaller batches cycle through the probe set by step.', check: checks.nullable(checks.int(1)) },
    { name: 'sequenceLength', default: null, meaning: 'Truncate probe sequences to this many input positions; null = the model context.', check: checks.nullable(checks.int(1)) },
  ],
});

export const FISHER_PARAMS: ParamTable = Object.freeze({
  ...base,
  name: 'fisher',
  fields: [
    { name: 'method', default: 'empirical', meaning: "'empirical': squared gradients of −log p(true label); 'sampled': labels (or next tokens) drawn from the base model's own predictions — the true Fisher's Monte-Carlo estimate with one draw per example.", check: checks.oneOf(['empirical', 'sampled']) },
    { name: 'maxExamples', default: 256, meaning: 'Examples of the base task the Fisher is averaged over (one backward pass each).', check: checks.int(1) },
    { name: 'modules', default: null, meaning: "Kernels whose Fisher is estimated; null = the modules of the model's active adapters.", check: moduleList },
    { name: 'seed', default: 0, meaning: "Seed of the 'sampled' labels.", check: checks.int(Number.MIN_SAFE_INTEGER) },
    { name: 'sequenceLength', default: null, meaning: 'Truncate sequences (transformer) to this many input positions; null = the model context.', check: checks.nullable(checks.int(1)) },
  ],
});

export const EWC_PARAMS: ParamTable = Object.freeze({
  ...base,
  name: 'ewc',
  fields: [
    { name: 'strength', default: 1, meaning: 'λ of λ/2·Σ F ⊙ (s·A·B)²: EWC (Kirkpatrick et al. 2017, eq. 3) on the effective LoRA update, with the Fisher of the base kernels.', check: strength, aliases: ['lambda'] },
    { name: 'adapters', default: null, meaning: 'Adapters penalised; null = every active, unmerged adapter.', check: moduleList },
  ],
});

/** The table of each guard kind. */
export const GUARD_PARAMS = Object.freeze({ replay: REPLAY_PARAMS, 'l2-sp': L2SP_PARAMS, 'kl-to-base': KL_TO_BASE_PARAMS, ewc: EWC_PARAMS });
