/** Each room's entry re-exports the error class and its guard, so `provenant/datanet` users branch on `code` without the root. */
import { describe, expect, it } from 'vitest';
import * as core from '../../src/core/index.js';
import * as datanet from '../../src/datanet/index.js';
import * as finetune from '../../src/finetune/index.js';
import * as evaluation from '../../src/eval/index.js';
import * as attribution from '../../src/attribution/index.js';
import * as audit from '../../src/audit/index.js';
import * as chain from '../../src/chain/index.js';

describe('room entries export ProvenantError and isProvenantError', () => {
  it.each([['datanet', datanet], ['finetune', finetune], ['eval', evaluation], ['attribution', attribution], ['audit', audit], ['chain', chain]] as const)('%s', (_, room) => {
    expect(room.ProvenantError).toBe(core.ProvenantError);
    expect(room.isProvenantError).toBe(core.isProvenantError);
    // One class across the entries: an error thrown by the attribution room is recognised by every room's guard.
    let caught: unknown;
    try {
      attribution.chooseConvexSolver({ d: 3, numClasses: 2, trainingRows: 4, queries: 0 });
    } catch (e) {
      caught = e;
    }
    expect(room.isProvenantError(caught) && caught.code).toBe('ATTRIBUTION_INPUT_INVALID');
    expect(caught).toBeInstanceOf(room.ProvenantError);
  });
});
