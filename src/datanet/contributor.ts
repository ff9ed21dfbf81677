/**
 * Contributor identities: an EVM address (so rewards can be paid on chain) or an opaque id (an e-mail group, a
 * username). Addresses are stored lower-case so one account is one contributor however it was typed; a mixed-case
 * address must carry a valid EIP-55 checksum, which catches a mistyped digit before rows are credited to nobody.
 */
import { ProvenantError, assertArgument, keccak256, type Hex } from '../core/index.js';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const PRINTABLE = /^[^\u0000-\u001f\u007f]+$/;

/**
 * True when `value` looks like an EVM address: `0x` followed by 40 hex digits, any case. The EIP-55 checksum is not
 * checked here ({@link normalizeContributor} does that).
 *
 * @example
 * ```ts
 * import { isAddressLike } from 'provenant/datanet';
 *
 * isAddressLike('0x52908400098527886E0F7030069857D2E4169EE7'); // true
 * isAddressLike('easy-ham-1');                                // false
 * ```
 */
export function isAddressLike(value: string): boolean {
  return ADDRESS.test(value);
}

/**
 * The EIP-55 mixed-case checksum form of an address (Buterin & Van de Sande, 2016, EIP-55): hex digit i is upper-cased
 * when nibble i of keccak256(lower-case hex) is ≥ 8.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` when `address` is not `0x` followed by 40 hex digits.
 * @example
 * ```ts
 * import { checksumAddress } from 'provenant/datanet';
 *
 * checksumAddress('0x52908400098527886e0f7030069857d2e4169ee7'); // '0x52908400098527886E0F7030069857D2E4169EE7'
 * ```
 */
export function checksumAddress(address: string): Hex {
  if (!ADDRESS.test(address)) {
    throw new ProvenantError('INVALID_ARGUMENT', 'Not an EVM address (0x followed by 40 hex digits).', { metaMessages: [`value: ${address}`] });
  }
  const lower = address.slice(2).toLowerCase();
  const hash = keccak256(lower).slice(2);
  let out = '0x';
  for (let i = 0; i < 40; i++) out += parseInt(hash[i]!, 16) >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  return out as Hex;
}

/**
 * Checks and normalises a contributor identity; throws `DATANET_CONTRIBUTION_INVALID` with the reason.
 *
 * @example
 * ```ts
 * import { normalizeContributor } from 'provenant/datanet';
 * normalizeContributor('0x52908400098527886E0F7030069857D2E4169EE7'); // '0x52908400098527886e0f7030069857d2e4169ee7'
 * normalizeContributor('easy-ham-1'); // 'easy-ham-1'
 * ```
 */
export function normalizeContributor(contributor: unknown): string {
  if (typeof contributor !== 'string' || contributor.length === 0 || contributor.length > 256 || !PRINTABLE.test(contributor)) {
    throw new ProvenantError('DATANET_CONTRIBUTION_INVALID', 'A contributor must be an EVM address or an id of 1–256 printable characters.', {
      metaMessages: [`contributor: ${JSON.stringify(contributor)}`],
    });
  }
  if (contributor.startsWith('0x') || contributor.startsWith('0X')) {
    if (!ADDRESS.test(contributor)) {
      throw new ProvenantError('DATANET_CONTRIBUTION_INVALID', 'A contributor starting with 0x must be a 20-byte EVM address.', {
        metaMessages: [`contributor: ${contributor}`],
      });
    }
    const body = contributor.slice(2);
    const mixedCase = body !== body.toLowerCase() && body !== body.toUpperCase();
    if (mixedCase && checksumAddress(contributor) !== contributor) {
      throw new ProvenantError('DATANET_CONTRIBUTION_INVALID', 'The contributor address has an invalid EIP-55 checksum (a mistyped digit?).', {
        metaMessages: [`contributor: ${contributor}`, `checksummed: ${checksumAddress(contributor)}`],
      });
    }
    return `0x${body.toLowerCase()}`;
  }
  return contributor;
}

/**
 * A deterministic stand-in EVM address for a named contributor: the last 20 bytes of
 * keccak256("provenant:contributor:" + name), lower-case. Builders use it when asked for address identities, and the
 * chain's payout placeholder (`contributorAddress` in `provenant/chain`) is this same function, so a contributor gets one
 * stand-in address whichever way it travels; nobody holds the key to such an address.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` when `name` is not a non-empty string.
 * @example
 * ```ts
 * import { syntheticAddress } from 'provenant/datanet';
 *
 * const alice = syntheticAddress('easy-ham-1'); // '0x…' (40 lower-case hex digits), the same on every call
 * ```
 */
export function syntheticAddress(name: string): Hex {
  assertArgument(typeof name === 'string' && name.length > 0, 'name', 'must be a non-empty string', name);
  return `0x${keccak256(`provenant:contributor:${name}`).slice(-40)}` as Hex;
}
