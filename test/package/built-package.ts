/**
 * Builds the package's JavaScript (`tsup` with the repository's config, ESM and CommonJS, no declarations) into a
 * consumer folder inside the repository (`.package-build/`, git-ignored), so the externals (tfjs, viem, ml-matrix …)
 * resolve from the repository's node_modules as they would from a user's, and runs scripts there in fresh Node
 * processes that import or require `provenant/*` through the package's `exports`, as an installed package is loaded.
 * Works on a fresh clone (no dist/ needed).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '../..');

export interface BuiltPackage {
  /** The consumer folder (its own package.json, so `provenant` resolves through node_modules, not to the repository). */
  dir: string;
  /** Writes `name` (`.mjs` or `.cjs`) into the consumer folder, runs it with `node` and returns its stdout; throws with stderr on failure. */
  run(name: string, code: string, options?: { nodeArgs?: string[]; env?: Record<string, string> }): string;
  remove(): void;
}

export function buildPackageJs(): BuiltPackage {
  const parent = join(root, '.package-build');
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'consumer-'));
  const pkg = join(dir, 'node_modules/provenant');
  mkdirSync(pkg, { recursive: true });
  copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
  const tsup = join(root, 'node_modules/tsup/dist/cli-default.js');
  execFileSync(process.execPath, [tsup, '--no-dts', '--silent', '--out-dir', join(pkg, 'dist')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  return {
    dir,
    run(name, code, options = {}) {
      writeFileSync(join(dir, name), code);
      const r = spawnSync(process.execPath, [...(options.nodeArgs ?? []), name], { cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...options.env } });
      if (r.status !== 0) throw new Error(`${name} exited with ${r.status ?? r.signal}:\n${r.stderr}\n${r.stdout}`);
      return r.stdout;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The last stdout line starting with `RESULT `, parsed as JSON. */
export function resultOf(stdout: string): unknown {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no RESULT line in:\n${stdout}`);
  return JSON.parse(line.slice('RESULT '.length));
}
