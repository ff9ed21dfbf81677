/**
 * `verifyAuditRecord(record, { client? })`: recomputes everything a record claims that can be recomputed, and names
 * each field that does not hold.
 *
 * - integrity: the digest of every part and of the whole body (and of the chain section once attached);
 * - rewards: the split sums to the fee, equals `splitReward(fee, shares)`, pays flagged contributors nothing, and each
 *   contributor's recorded share is its weight over the total;
 * - evaluation: each task's verdict follows from its delta interval, each gate's verdict from its rule and numbers (and
 *   its numbers from the task table), the overall verdict from the gates;
 * - proofs: the Datanet row proof and the attribution-batch proof verify as claimed (a proof that does not verify off
 *   chain cannot have verified on chain);
 * - with a `client`: the on-chain copy — snapshot root, model hashes, parameter and evaluation hashes, batch root and the
 *   published record digest — matches the record.
 *
 * Why digests and recomputation together: digests catch any edit of a sealed record; the semantic checks still name the
 * field when someone edits a claim *and* recomputes the digests, and the on-chain copy defeats that last case.
 */
import { canonicalJson, keccak256, verifyMerkleProof, type Hex } from '../core/index.js';
import { splitRewardDetailed } from '../attribution/reward-split.js';
import { verifyDatanetRow } from '../datanet/snapshot.js';
import { auditRecordViolations, type AuditRecord } from './record.js';
import { AUDIT_RECORD_PARTS, auditDigest, auditRecordBody } from './digest.js';

/** One claim of the record that does not hold. */
export interface AuditFailure {
  /** Dotted path of the field (e.g. `rewards.split`, `evaluation.gate.checks[1].pass`). */
  field: string;
  message: string;
}

export interface VerifyAuditRecordResult {
  ok: boolean;
  failures: AuditFailure[];
}

/** What the chain holds for a record (read by `auditChainReader` in `provenant/chain`; null when absent). */
export interface AuditChainAnchors {
  snapshot: { root: Hex; rowCount: bigint | number } | null;
  model: { baseHash: Hex; adapterHash: Hex; snapshotRoot: Hex; configHash: Hex } | null;
  evaluation: { summaryHash: Hex; uri: string } | null;
  batch: { root: Hex } | null;
}

/** The one thing `verifyAuditRecord` needs from a chain client: read the anchors of a record (structural, no viem here). */
export interface AuditChainReader {
  readAuditAnchors(record: AuditRecord): Promise<AuditChainAnchors>;
}

/**
 * The evaluation URI under which `publishAuditRecord` anchors a record's body digest: `provenant-audit:<digest>`, the
 * digest lower-cased so that the on-chain string compares equal whatever the hex case of the record. `verifyAuditRecord`
 * compares the anchored URI with this one. Never throws.
 *
 * @example
 * ```ts
 * import { auditDigestUri, type AuditRecord } from 'provenant/audit';
 *
 * declare const record: AuditRecord;
 * const uri = auditDigestUri(record.integrity!.digest); // 'provenant-audit:0x3f…' (lower-case hex)
 * ```
 */
export const auditDigestUri = (digest: string): string => `provenant-audit:${digest.toLowerCase()}`;

const close = (a: number, b: number, rel = 2e-5): boolean => Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The offline checks of `verifyAuditRecord` (everything but the chain client), synchronous.
 *
 * @example
 * ```ts
 * import { verifyAuditRecordOffline, type AuditRecord } from 'provenant/audit';
 * declare const record: AuditRecord;
 * verifyAuditRecordOffline(record).failures; // [] for an untouched record
 * ```
 */
export function verifyAuditRecordOffline(record: AuditRecord): VerifyAuditRecordResult {
  const failures: AuditFailure[] = [];
  const fail = (field: string, message: string) => failures.push({ field, message });
  for (const v of auditRecordViolations(record)) fail(v.path.replace(/^\$\.?/, '') || '(record)', `schema: ${v.message}`);
  if (!isObject(record)) return { ok: false, failures };
  const guard = (field: string, check: () => void) => {
    try {
      check();
    } catch (error) {
      fail(field, `cannot be checked: ${(error as Error).message.split('\n')[0]}`);
    }
  };
  guard('integrity', () => checkIntegrity(record, fail));
  guard('rewards', () => checkRewards(record, fail));
  guard('evaluation', () => checkEvaluation(record, fail));
  guard('datanet.proofExample', () => checkProofs(record, fail));
  guard('fineTuning', () => checkFineTuning(record, fail));
  return { ok: failures.length === 0, failures };
}

/**
 * Recomputes every claim of an audit record and names each field that does not hold.
 *
 * @param options.client optional: reads the on-chain copy (`auditChainReader(publicClient, registry)` from
 *   `provenant/chain`, or any object with `readAuditAnchors`); used only when given
 * @returns `{ ok, failures }` — `failures` lists `{ field, message }` for every claim that does not hold (never throws
 *   for a bad record; a client that fails to read is reported as a failure of `chain`)
 * @example
 * ```ts
 * import { readAuditRecord, verifyAuditRecord } from 'provenant/audit';
 * declare const text: string;
 * const { ok, failures } = await verifyAuditRecord(readAuditRecord(text));
 * if (!ok) for (const f of failures) console.log(`${f.field}: ${f.message}`);
 * ```
 */
export async function verifyAuditRecord(record: AuditRecord, options: { client?: AuditChainReader } = {}): Promise<VerifyAuditRecordResult> {
  const { failures } = verifyAuditRecordOffline(record);
  if (options.client && isObject(record)) {
    try {
      const anchors = await options.client.readAuditAnchors(record);
      checkAnchors(record, anchors, (field, message) => failures.push({ field, message }));
    } catch (error) {
      failures.push({ field: 'chain', message: `the on-chain copy could not be read: ${(error as Error).message.split('\n')[0]}` });
    }
  }
  return { ok: failures.length === 0, failures };
}

type Fail = (field: string, message: string) => void;

function checkIntegrity(record: AuditRecord, fail: Fail): void {
  const integrity = record.integrity;
  if (!integrity) return fail('integrity', 'the record carries no digests (build it with buildAuditRecord)');
  const parts = isObject(integrity.parts) ? integrity.parts : {};
  for (const part of AUDIT_RECORD_PARTS) {
    const value = (record as unknown as Record<string, unknown>)[part];
    const recorded = parts[part];
    if (value === undefined && recorded === undefined) continue;
    if (recorded === undefined) fail(part, 'present but not covered by integrity.parts');
    else if (value === undefined) fail(part, 'missing, though integrity.parts has its digest');
    else if (auditDigest(value) !== recorded) fail(part, `differs from its digest integrity.parts.${part}`);
  }
  for (const key of Object.keys(parts)) if (!(AUDIT_RECORD_PARTS as readonly string[]).includes(key)) fail(`integrity.parts.${key}`, 'names no part of the record');
  for (const key of Object.keys(record)) {
    if (key !== 'integrity' && key !== 'chain' && !(AUDIT_RECORD_PARTS as readonly string[]).includes(key)) fail(key, 'is not covered by any digest');
  }
  if (auditDigest(auditRecordBody(record)) !== integrity.digest) fail('integrity.digest', 'differs from the digest of the record body');
  if (!integrity.chainDigest) fail('chain', 'not covered by integrity.chainDigest (attach a chain section with attachChainSection)');
  else if (auditDigest(record.chain) !== integrity.chainDigest) fail('chain', 'differs from its digest integrity.chainDigest');
}

function checkRewards(record: AuditRecord, fail: Fail): void {
  const { rewards, attribution } = record;
  const fee = BigInt(rewards.feeWei);
  const amounts = new Map<string, bigint>();
  for (const { contributor, amountWei } of rewards.split) {
    if (amounts.has(contributor)) fail('rewards.split', `pays "${contributor}" twice`);
    amounts.set(contributor, BigInt(amountWei));
  }
  const paid = [...amounts.values()].reduce((a, b) => a + b, 0n);
  if (paid !== fee) fail('rewards.split', `pays ${paid} wei in total, the fee is ${fee} wei`);
  const totals = new Map(attribution.contributorTotals.map((t) => [t.contributor, t]));
  for (const c of amounts.keys()) if (!totals.has(c)) fail('rewards.split', `pays "${c}", who has no attribution total`);
  const flagged = new Set(rewards.flagged);
  attribution.contributorTotals.forEach((t, i) => {
    if (t.flagged !== t.score < 0) fail(`attribution.contributorTotals[${i}].flagged`, `is ${t.flagged}, but the score ${t.score} is ${t.score < 0 ? 'negative' : 'not negative'}`);
    if (t.flagged && !flagged.has(t.contributor)) fail('rewards.flagged', `lacks "${t.contributor}", flagged in the attribution totals`);
    if (flagged.has(t.contributor) && (amounts.get(t.contributor) ?? 0n) !== 0n) fail('rewards.split', `pays flagged contributor "${t.contributor}"`);
  });
  if (!rewards.shares) return;
  const weights: Record<string, number> = Object.create(null);
  for (const { contributor, weight } of rewards.shares) weights[contributor] = weight;
  const expected = splitRewardDetailed(fee, weights);
  for (const [c, amount] of Object.entries(expected.amounts)) {
    if ((amounts.get(c) ?? 0n) !== amount) fail('rewards.split', `pays "${c}" ${amounts.get(c) ?? 0n} wei; splitting the fee by rewards.shares gives ${amount}`);
  }
  const positive = Object.values(weights).reduce((a, w) => a + Math.max(0, w), 0);
  attribution.contributorTotals.forEach((t, i) => {
    const weight = weights[t.contributor];
    if (weight === undefined) return fail('rewards.shares', `lacks "${t.contributor}"`);
    const share = positive > 0 ? Math.max(0, weight) / positive : 0;
    if (!close(share, t.share, 1e-5)) fail(`attribution.contributorTotals[${i}].share`, `is ${t.share}, but its weight over the total is ${share}`);
  });
}

/** Direction-aware verdict of a delta interval (as eval's `verdictOf`). */
const verdictOf = (low: number, high: number, higherIsBetter: boolean): string =>
  low > 0 ? (higherIsBetter ? 'improved' : 'regressed') : high < 0 ? (higherIsBetter ? 'regressed' : 'improved') : 'no significant change';

function checkEvaluation(record: AuditRecord, fail: Fail): void {
  const { tasks, gate, drift } = record.evaluation;
  const byName = new Map(tasks.map((t) => [t.name, t]));
  tasks.forEach((t, i) => {
    const expected = verdictOf(t.delta.low, t.delta.high, t.higherIsBetter);
    if (t.verdict !== expected) fail(`evaluation.tasks[${i}].verdict`, `is "${t.verdict}", but the delta interval [${t.delta.low}, ${t.delta.high}] gives "${expected}"`);
    if (!close(t.delta.value, t.tuned.value - t.base.value, 1e-4)) fail(`evaluation.tasks[${i}].delta.value`, `is ${t.delta.value}, but tuned − base = ${t.tuned.value - t.base.value}`);
    for (const key of ['base', 'tuned'] as const) if (!(t[key].low <= t[key].high)) fail(`evaluation.tasks[${i}].${key}`, 'its interval is inverted');
  });
  gate.checks.forEach((check, i) => {
    const at = `evaluation.gate.checks[${i}]`;
    if (/^(pass|FAIL)\b/.test(check.reason) && check.reason.startsWith('pass') !== check.pass) fail(`${at}.reason`, `says "${check.reason.split(':')[0]}" but pass is ${check.pass}`);
    const rule = check.rule;
    if (!rule) return;
    const task = byName.get(rule.task);
    if (!task) return fail(`${at}.rule.task`, `names "${rule.task}", which was not evaluated`);
    if (rule.verdict) {
      const pass = rule.verdict === 'improved' ? task.verdict === 'improved' : task.verdict !== 'regressed';
      if (pass !== check.pass) fail(`${at}.pass`, `is ${check.pass}, but "${rule.task}" is "${task.verdict}" (rule: ${rule.verdict})`);
      return;
    }
    const observed = check.observed;
    if (typeof observed !== 'number') return fail(`${at}.observed`, 'a threshold gate needs its observed value');
    const fromTable: Record<string, number | undefined> = {
      base: task.base.value,
      tuned: task.tuned.value,
      delta: task.delta.value,
      relativeDelta: task.base.value !== 0 ? (task.tuned.value - task.base.value) / Math.abs(task.base.value) : undefined,
      kl: task.kind === 'retained' ? drift?.kl : undefined,
      js: task.kind === 'retained' ? drift?.js : undefined,
    };
    const expected = rule.quantity ? fromTable[rule.quantity] : undefined;
    if (expected !== undefined && !close(observed, expected, 1e-4)) fail(`${at}.observed`, `is ${observed}, but the task table gives ${rule.quantity} = ${expected}`);
    const interval = rule.on === 'interval';
    if (interval && (typeof check.low !== 'number' || typeof check.high !== 'number')) return fail(`${at}.low`, 'an interval gate needs low and high');
    if (interval && !(check.low! <= check.high!)) fail(`${at}.low`, 'the interval is inverted');
    if (rule.quantity && ['base', 'tuned', 'delta'].includes(rule.quantity) && typeof check.low === 'number' && typeof check.high === 'number') {
      const row = task[rule.quantity as 'base' | 'tuned' | 'delta'];
      if (!close(check.low, row.low, 1e-4)) fail(`${at}.low`, `is ${check.low}, but the task table's interval starts at ${row.low}`);
      if (!close(check.high, row.high, 1e-4)) fail(`${at}.high`, `is ${check.high}, but the task table's interval ends at ${row.high}`);
    }
    const low = interval ? check.low! : observed;
    const high = interval ? check.high! : observed;
    const pass = (rule.atLeast === undefined || low >= rule.atLeast) && (rule.atMost === undefined || high <= rule.atMost);
    if (pass !== check.pass) {
      const bounds = [rule.atLeast !== undefined ? `≥ ${rule.atLeast}` : '', rule.atMost !== undefined ? `≤ ${rule.atMost}` : ''].filter(Boolean).join(' and ');
      fail(`${at}.pass`, `is ${check.pass}, but ${interval ? `[${low}, ${high}]` : observed} ${pass ? 'satisfies' : 'does not satisfy'} ${bounds}`);
    }
  });
  const all = gate.checks.every((c) => c.pass);
  if (gate.pass !== all) fail('evaluation.gate.pass', `is ${gate.pass}, but ${all ? 'every gate passed' : 'a gate failed'}`);
}

function leafValues(types: readonly string[], leaf: readonly unknown[]): unknown[] {
  return leaf.map((v, i) => (/^u?int\d*$/.test(types[i] ?? '') && typeof v === 'string' ? BigInt(v) : v));
}

function checkProofs(record: AuditRecord, fail: Fail): void {
  const example = record.datanet.proofExample;
  if (example.rowHash.toLowerCase() !== example.rowId.toLowerCase()) fail('datanet.proofExample.rowHash', 'differs from the row id (a row id is its content hash)');
  const verifies = verifyDatanetRow(record.datanet.root, example.rowId as Hex, example.proof);
  if (verifies !== example.verified) fail('datanet.proofExample.verified', `claims ${example.verified}, but the proof ${verifies ? 'verifies' : 'does not verify'} against datanet.root`);
  const chain = record.chain;
  if (chain.status !== 'published') return;
  const batch = chain.attributionBatch;
  let offChain = false;
  try {
    offChain = verifyMerkleProof(batch.root, batch.leafEncoding, leafValues(batch.leafEncoding, batch.leaf), batch.proof);
  } catch {
    offChain = false;
  }
  if (offChain !== batch.verifiedOffChain) fail('chain.attributionBatch.verifiedOffChain', `claims ${batch.verifiedOffChain}, but the proof ${offChain ? 'verifies' : 'does not verify'} against the batch root`);
  if (batch.verifiedOnChain && !offChain) fail('chain.attributionBatch.verifiedOnChain', 'claims true, but the proof does not verify against the batch root');
  if (batch.leafEncoding[0] === 'bytes32' && String(batch.leaf[0]).toLowerCase() !== record.attribution.scoreDigest.toLowerCase()) {
    fail('chain.attributionBatch.leaf', 'its query hash is not attribution.scoreDigest');
  }
}

function checkFineTuning(record: AuditRecord, fail: Fail): void {
  const { parameters, log } = record.fineTuning;
  const seen = new Set<string>();
  parameters.forEach((p, i) => {
    if (seen.has(p.name)) fail(`fineTuning.parameters[${i}].name`, `"${p.name}" is recorded twice`);
    seen.add(p.name);
  });
  const last = log.lossCurve.at(-1);
  if (last && log.lossCurve.length === log.steps && !close(last.loss, log.finalLoss, 1e-6)) fail('fineTuning.log.finalLoss', `is ${log.finalLoss}, but the last step's loss is ${last.loss}`);
  if (log.lossCurve.length > 0 && log.lossCurve.length !== log.steps) fail('fineTuning.log.steps', `is ${log.steps}, but the loss curve has ${log.lossCurve.length} steps`);
}

function checkAnchors(record: AuditRecord, anchors: AuditChainAnchors, fail: Fail): void {
  const eq = (a: unknown, b: unknown) => String(a).toLowerCase() === String(b).toLowerCase();
  if (!anchors.snapshot) fail('datanet', 'no snapshot with this name and version is on chain');
  else {
    if (!eq(anchors.snapshot.root, record.datanet.root)) fail('datanet.root', `differs from the on-chain root ${anchors.snapshot.root}`);
    if (BigInt(anchors.snapshot.rowCount) !== BigInt(record.datanet.rows)) fail('datanet.rows', `differs from the on-chain row count ${anchors.snapshot.rowCount}`);
  }
  if (!anchors.model) fail('fineTuning.adapterHash', 'no model with these hashes is on chain');
  else {
    if (!eq(anchors.model.baseHash, record.baseModel.hash)) fail('baseModel.hash', 'differs from the on-chain model');
    if (!eq(anchors.model.adapterHash, record.fineTuning.adapterHash)) fail('fineTuning.adapterHash', 'differs from the on-chain model');
    if (!eq(anchors.model.snapshotRoot, record.datanet.root)) fail('datanet.root', "differs from the on-chain model's snapshot root");
    if (!eq(anchors.model.configHash, keccak256(canonicalJson(record.fineTuning.parameters)))) fail('fineTuning.parameters', 'their hash differs from the on-chain configHash');
  }
  if (!anchors.evaluation) fail('evaluation', 'no evaluation of this model with this summary is on chain');
  else {
    if (!eq(anchors.evaluation.summaryHash, keccak256(canonicalJson(record.evaluation)))) fail('evaluation', 'its hash differs from the on-chain summaryHash');
    if (anchors.evaluation.uri.startsWith('provenant-audit:') && record.integrity && anchors.evaluation.uri !== auditDigestUri(record.integrity.digest)) {
      fail('integrity.digest', `differs from the digest anchored on chain (${anchors.evaluation.uri})`);
    }
  }
  if (record.chain.status === 'published') {
    if (!anchors.batch) fail('chain.attributionBatch.batchId', 'no attribution batch with this id is on chain');
    else if (!eq(anchors.batch.root, record.chain.attributionBatch.root)) fail('chain.attributionBatch.root', `differs from the on-chain root ${anchors.batch.root}`);
  }
}
