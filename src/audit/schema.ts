/**
 * The audit record's JSON Schema. Exported as plain JSON Schema (draft 2020-12 subset) so tools outside Provenant can validate
 * records too. Bump `AUDIT_SCHEMA_ID` on any incompatible change.
 */
import type { JsonSchema } from './json-schema.js';

export const AUDIT_SCHEMA_ID = 'provenant.audit/1' as const;

/** How the record's digests are computed: keccak256 of the canonical JSON (sorted keys, no whitespace) of each part. */
export const INTEGRITY_ALGORITHM = 'keccak256(canonical-json)' as const;

const hex = (bytes?: number): JsonSchema => ({ type: 'string', pattern: bytes ? `^0x[0-9a-fA-F]{${2 * bytes}}$` : '^0x[0-9a-fA-F]*$' });
const str: JsonSchema = { type: 'string' };
const num: JsonSchema = { type: 'number' };
const int: JsonSchema = { type: 'integer', minimum: 0 };
const bool: JsonSchema = { type: 'boolean' };
const weiString: JsonSchema = { type: 'string', pattern: '^[0-9]+$' };
const obj = (properties: Record<string, JsonSchema>, required = Object.keys(properties), additional = false): JsonSchema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: additional,
});
const list = (items: JsonSchema, minItems?: number): JsonSchema => ({ type: 'array', items, ...(minItems ? { minItems } : {}) });
const interval = obj({ value: num, low: num, high: num });
const parameter = obj({ name: str, value: {}, default: {}, meaning: { type: 'string', pattern: '\\S' } });
const scoredRow = obj({ rowId: str, contributor: str, score: num });
const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: 'null' }] });
/**
 * The generative stage's section (`sections.generative`, `runGenerativeStage`): the base model, what ran (`model`: kind,
 * architecture, model_type, folder, tokenizer hash) and the parameters are checked; `model` and `parameters` are optional
 * so records written before them stay valid; further fields stay open.
 */
const generativeSection = obj(
  {
    baseModelHash: hex(32),
    model: obj({
      kind: str,
      architecture: str,
      modelType: nullable(str),
      directory: nullable(str),
      tokenizer: obj({ source: { enum: ['model', 'caller'] }, files: list(str), hash: nullable(hex(32)) }),
    }),
    parameters: list(parameter),
    adapter: obj({ name: str, hash: hex(32), config: { type: 'object' } }),
    answers: list({ type: 'object' }),
  },
  ['baseModelHash', 'adapter', 'answers'],
  true,
);

export const AUDIT_RECORD_SCHEMA: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://provenant.dev/schema/audit-1.json',
  title: 'Provenant audit record',
  ...obj({
    schema: { const: AUDIT_SCHEMA_ID },
    createdAt: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T' },
    generator: obj({ name: str, version: str }),
    environment: obj({ node: str, platform: str, backend: str, tfjsVersion: str }, ['node', 'platform', 'backend', 'tfjsVersion'], true),
    seed: int,
    datanet: obj({
      name: str,
      version: int,
      root: hex(32),
      leafEncoding: list(str, 1),
      rows: int,
      duplicatesRemoved: int,
      rejections: int,
      contributors: list(
        obj(
          { id: str, rows: int, bytes: int, labels: { type: 'object', additionalProperties: int }, duplicates: int, rejections: int, licence: str, role: str },
          ['id', 'rows', 'bytes', 'labels', 'duplicates', 'rejections'],
        ),
        1,
      ),
      splits: obj({ train: int, validation: int, test: int }, ['train', 'validation', 'test'], true),
      proofExample: obj({ rowId: str, rowHash: hex(32), proof: list(hex(32)), verified: bool }),
    }),
    baseModel: obj({ name: str, hash: hex(32), config: { type: 'object' }, heldOutPerplexity: num }, ['name', 'hash', 'config']),
    fineTuning: obj({
      adapterName: str,
      adapterHash: hex(32),
      task: str,
      parameters: list(parameter, 1),
      log: obj({ steps: int, finalLoss: num, lossCurve: list(obj({ step: int, loss: num, lr: num })) }),
    }),
    evaluation: obj(
      {
        tasks: list(
          obj({
            name: str,
            kind: { enum: ['domain', 'retained'] },
            metric: str,
            higherIsBetter: bool,
            base: interval,
            tuned: interval,
            delta: obj({ value: num, low: num, high: num, pValue: num }),
            verdict: { enum: ['improved', 'no significant change', 'regressed'] },
          }),
          1,
        ),
        drift: obj({ kl: num, js: num, probe: str }),
        gate: obj({
          pass: bool,
          checks: list(
            obj(
              {
                name: str,
                pass: bool,
                reason: str,
                // The rule and the numbers it was decided on, so a reader (and verifyAuditRecord) can re-decide it.
                rule: obj(
                  { task: str, quantity: { enum: ['base', 'tuned', 'delta', 'relativeDelta', 'kl', 'js'] }, atLeast: num, atMost: num, on: { enum: ['point', 'interval'] }, verdict: { enum: ['improved', 'not-regressed'] } },
                  ['task'],
                ),
                observed: { type: ['number', 'null'] },
                low: num,
                high: num,
              },
              ['name', 'pass', 'reason'],
            ),
          ),
        }),
        learningVsForgetting: list(obj({ label: str, domainGain: num, forgetting: num, pareto: bool })),
      },
      ['tasks', 'gate'],
    ),
    attribution: obj(
      {
        method: str,
        parameters: list(parameter, 1),
        derived: list(parameter),
        quality: { type: 'object', additionalProperties: { type: ['number', 'string'] } },
        contributorTotals: list(obj({ contributor: str, score: num, share: num, flagged: bool }), 1),
        queries: list(
          obj({
            id: str,
            input: str,
            prediction: obj({ label: str, probability: num }),
            topProponents: list(scoredRow),
            topOpponents: list(scoredRow),
            contributorShares: { type: 'object', additionalProperties: num },
          }),
        ),
        scoreDigest: hex(32),
      },
      ['method', 'parameters', 'contributorTotals', 'queries', 'scoreDigest'],
    ),
    rewards: obj(
      { feeWei: weiString, split: list(obj({ contributor: str, amountWei: weiString })), flagged: list(str), shares: list(obj({ contributor: str, weight: num })) },
      ['feeWei', 'split', 'flagged'],
    ),
    chain: {
      anyOf: [
        obj({ status: { const: 'skipped' }, reason: str }),
        obj({
          status: { const: 'published' },
          chainId: int,
          registry: hex(20),
          transactions: list(obj({ kind: str, txHash: hex(32), gasUsed: weiString })),
          attributionBatch: obj({
            batchId: hex(32),
            root: hex(32),
            leafEncoding: list(str, 1),
            leaf: { type: 'array' },
            proof: list(hex(32)),
            verifiedOnChain: bool,
            verifiedOffChain: bool,
          }),
        }),
      ],
    },
    timings: { type: 'object', additionalProperties: num },
    // Further sections from other stages (generation attribution, chain planning), covered by the record digest.
    sections: obj({ generative: generativeSection }, [], true),
    integrity: obj(
      {
        algorithm: { const: INTEGRITY_ALGORITHM },
        parts: { type: 'object', additionalProperties: hex(32) },
        digest: hex(32),
        chainDigest: hex(32),
      },
      ['algorithm', 'parts', 'digest'],
    ),
  }, ['schema', 'createdAt', 'generator', 'environment', 'seed', 'datanet', 'baseModel', 'fineTuning', 'evaluation', 'attribution', 'rewards', 'chain', 'timings']),
};
