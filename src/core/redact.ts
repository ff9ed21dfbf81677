/**
 * Key material never reaches an error message, a log line or a stored record. An EVM private key is 32 bytes — 64 hex
 * digits — and the usual way one leaks is a user passing it where an address belongs: the error then echoes "the bad
 * value" in full. Everything Provenant echoes back from user input goes through `describeValue`, which redacts here.
 *
 * What is redacted:
 * - any run of 64 or more hex digits (with or without `0x`, any case) in an echoed value: a 32-byte value echoed as
 *   *invalid* is never a legitimate hash in its right place (that would have been valid), so nothing useful is lost;
 * - fields whose name says they hold a secret (`privateKey`, `mnemonic`, `secret`, `seed phrase`, `password`, …);
 * - viem account objects (anything that can sign), rendered as `<account>` without their fields.
 * Transaction hashes and Merkle roots printed *as what they are* (a receipt's hash, a decoded revert's arguments) do
 * not go through here and stay readable.
 */

const HEX_RUN = /(?:0x)?[0-9a-fA-F]{64,}/g;
const SECRET_FIELD = /private.?key|secret|mnemonic|seed.?phrase|passphrase|password|hd.?key/i;

/**
 * True for a string that has the shape of a private key: exactly 32 bytes of hex, `0x` optional.
 *
 * @example
 * ```ts
 * import { looksLikePrivateKey } from 'provenant';
 * looksLikePrivateKey('0x' + 'ab'.repeat(32)); // true
 * looksLikePrivateKey('0x' + 'ab'.repeat(20)); // false (an address)
 * ```
 */
export function looksLikePrivateKey(value: unknown): boolean {
  return typeof value === 'string' && /^(?:0x)?[0-9a-fA-F]{64}$/.test(value.trim());
}

/**
 * True for an object that can sign (a viem local, HD or smart account) or carries key material by name.
 *
 * @example
 * ```ts
 * import { isAccountLike, type Hex } from 'provenant';
 * import { privateKeyToAccount } from 'viem/accounts';
 * declare const key: Hex;
 * isAccountLike(privateKeyToAccount(key)); // true
 * isAccountLike({ privateKey: '…' });      // true
 * isAccountLike({ address: '0x…' });       // false
 * ```
 */
export function isAccountLike(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.signTransaction === 'function' ||
    typeof v.signMessage === 'function' ||
    typeof v.getHdKey === 'function' ||
    Object.keys(v).some((key) => SECRET_FIELD.test(key))
  );
}

/**
 * Replaces every run of ≥ 64 hex digits in `text` with `<redacted: N hex digits>`.
 *
 * @example
 * ```ts
 * import { redactHexSecrets } from 'provenant';
 * redactHexSecrets('bad address "0xac09…ff80"'); // 'bad address "<redacted: 64 hex digits>"'
 * ```
 */
export function redactHexSecrets(text: string): string {
  return text.replace(HEX_RUN, (run) => `<redacted: ${run.replace(/^0x/, '').length} hex digits>`);
}

/**
 * A JSON.stringify replacer that drops secret-named fields and account objects (bigints become `123n`). Used by
 * `describeValue`; pair it with `redactHexSecrets` on the resulting text.
 *
 * @example
 * ```ts
 * import { redactingReplacer } from 'provenant';
 * const rpcUrl = 'http://127.0.0.1:8545';
 * const privateKey = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
 * JSON.stringify({ rpcUrl, privateKey }, redactingReplacer); // '{"rpcUrl":"http://…","privateKey":"<redacted>"}'
 * ```
 */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (key !== '' && SECRET_FIELD.test(key)) return '<redacted>';
  if (isAccountLike(value)) return '<account>';
  if (typeof value === 'bigint') return `${value}n`;
  return value;
}
