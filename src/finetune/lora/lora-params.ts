/**
 * `LORA_CONFIG_FIELDS` (the LoRA table, owned by config.ts) as a `ParamTable` for the one parameter mechanism, so LoRA
 * options resolve, describe and take workflow defaults (`withDefaults`) like every other table. A thin adapter: the
 * fields, defaults and meanings are read from `LORA_CONFIG_FIELDS`; validation is `validateLoraConfig`'s.
 */
import { ProvenantError, type ParamTable } from '../../core/index.js';
import { LORA_CONFIG_FIELDS, validateLoraConfig } from './config.js';

export const LORA_PARAMS: ParamTable = Object.freeze({
  name: 'lora',
  code: 'LORA_CONFIG_INVALID',
  docsPath: '#lora-parameters',
  fields: LORA_CONFIG_FIELDS.map((f) => ({ name: f.field, default: f.default, meaning: f.meaning, ...(f.peftName ? { aliases: [f.peftName] } : {}) })),
  crossChecks: (used: Readonly<Record<string, unknown>>) => {
    try {
      validateLoraConfig({ ...used });
      return [];
    } catch (error) {
      if (!(error instanceof ProvenantError)) throw error;
      return error.metaMessages.map((line): [string, string] => {
        const at = line.indexOf(': ');
        return [line.slice(0, at), line.slice(at + 2)];
      });
    }
  },
});
