/**
 * One stand-in address per contributor name: the chain's payout placeholder (`contributorAddress`) is the Datanet
 * builders' `syntheticAddress`, so a Datanet built with `identities: 'address'` and an audit record keyed by group
 * names pay the same account. Checked against keccak256 computed here by viem, not by the code under test.
 */
import fc from 'fast-check';
import { keccak256, toHex } from 'viem';
import { describe, expect, it } from 'vitest';
import { contributorAddress } from '../../src/chain/index.js';
import { isProvenantError } from '../../src/core/index.js';
import { syntheticAddress } from '../../src/datanet/index.js';

/** The last 20 bytes of keccak256(utf8("provenant:contributor:" + name)), written out independently. */
const byHand = (name: string) => `0x${keccak256(toHex(`provenant:contributor:${name}`)).slice(-40)}`;

describe('contributor stand-in addresses', () => {
  it('contributorAddress (chain) and syntheticAddress (datanet) agree, and equal the formula written out by hand', () => {
    for (const name of ['easy-ham-1', 'spam-1', 'noisy', 'toString', '__proto__', 'é-contributor']) {
      expect(contributorAddress(name)).toBe(byHand(name));
      expect(syntheticAddress(name)).toBe(byHand(name));
    }
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (name) => {
        expect(contributorAddress(name)).toBe(syntheticAddress(name));
      }),
      { numRuns: 200 },
    );
  });

  it('both refuse an empty or non-string name, naming the argument', () => {
    for (const f of [contributorAddress, syntheticAddress]) {
      for (const bad of ['', 7 as unknown as string]) {
        let error: unknown;
        try {
          f(bad);
        } catch (e) {
          error = e;
        }
        expect(isProvenantError(error, 'INVALID_ARGUMENT')).toBe(true);
        expect((error as Error).message).toMatch(/"(id|name)"/);
      }
    }
  });
});
