import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { adapterHash, decodeCheckpoint, initBackend, train } from '../../../src/finetune/index.js';
import { makeResumeModel, resumeOptions } from './fixtures/resume-setup.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('resume after a killed process', () => {
  it('a run SIGKILLed mid-way and resumed from its checkpoint file ends with the uninterrupted adapter hash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provenant-resume-'));
    const file = join(dir, 'checkpoint.safetensors');
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/resume-child.ts'), file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let lastStep = 0;
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += String(d)));
      const killedAt = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          const steps = [...String(d).matchAll(/step (\d+)/g)].map((m) => Number(m[1]));
          if (steps.length) lastStep = steps.at(-1)!;
          if (lastStep >= 7 && child.exitCode === null) {
            child.kill('SIGKILL');
            resolve(lastStep);
          }
        });
        child.on('exit', (code, signal) => (signal === 'SIGKILL' ? undefined : reject(new Error(`child exited early (${code}): ${stderr}`))));
      });
      await new Promise((r) => child.once('close', r));
      const checkpoint = decodeCheckpoint(new Uint8Array(readFileSync(file)));
      expect(checkpoint.step).toBeGreaterThanOrEqual(6);
      expect(checkpoint.step).toBeLessThanOrEqual(killedAt);

      const resumed = makeResumeModel();
      const resumedResult = await train(resumed, { ...resumeOptions(), resumeFrom: checkpoint });
      const uninterrupted = makeResumeModel();
      const fullResult = await train(uninterrupted, resumeOptions());
      expect(resumedResult.steps).toBe(18);
      expect(adapterHash(resumed, 'default')).toBe(adapterHash(uninterrupted, 'default'));
      expect(resumedResult.log.map((e) => e.loss)).toEqual(fullResult.log.map((e) => e.loss));
      resumed.dispose();
      uninterrupted.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
