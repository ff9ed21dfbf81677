/**
 * Executes every tslab notebook in examples/notebooks headless (jupyter nbconvert --execute), so a notebook that stops
 * working fails the suite: a throwing cell or a type error exits non-zero. Notebooks import 'provenant' (the package
 * self-reference), i.e. the CJS build and its declarations in dist/ (tslab type-checks cells), rebuilt here when missing or older than src/.
 * CI sets PROVENANT_REQUIRE_JUPYTER=1 so a missing Jupyter fails there instead of being skipped.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const JUPYTER = '/usr/bin/jupyter';
const available = existsSync(JUPYTER);
if (!available && process.env.PROVENANT_REQUIRE_JUPYTER) throw new Error('Jupyter not found: run scripts/install-system-deps.sh');
if (!available) console.warn('[notebooks] /usr/bin/jupyter not found; run scripts/install-system-deps.sh to execute the notebooks.');

const notebooks = readdirSync(join(ROOT, 'examples/notebooks')).filter((f) => f.endsWith('.ipynb')).sort();

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function ensureBuild(): void {
  const built = join(ROOT, 'dist/index.cjs');
  if (existsSync(built) && statSync(built).mtimeMs >= newestMtime(join(ROOT, 'src'))) return;
  execFileSync('npx', ['tsup'], { cwd: ROOT, stdio: 'pipe', timeout: 240_000 });
}

function kernelDir(): string {
  // A hand-written kernelspec: `tslab install` would pull IPython and may pick the wrong python.
  const dir = mkdtempSync(join(tmpdir(), 'provenant-jupyter-'));
  mkdirSync(join(dir, 'kernels/tslab'), { recursive: true });
  writeFileSync(
    join(dir, 'kernels/tslab/kernel.json'),
    JSON.stringify({ argv: [join(ROOT, 'node_modules/.bin/tslab'), 'kernel', '--config-path', '{connection_file}'], display_name: 'TypeScript', language: 'typescript' }),
  );
  return dir;
}

describe.runIf(available)('tslab notebooks', () => {
  it('there is at least one notebook, generated from its reviewed source', () => {
    expect(notebooks.length).toBeGreaterThan(0);
    for (const nb of notebooks) expect(existsSync(join(ROOT, 'examples/notebooks/src', nb.replace(/\.ipynb$/, '.ts')))).toBe(true);
  });

  it.each(notebooks)('%s runs every cell without an error', (notebook) => {
    ensureBuild();
    const jupyterPath = kernelDir();
    const out = mkdtempSync(join(tmpdir(), 'provenant-nb-'));
    try {
      execFileSync(
        JUPYTER,
        ['nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.timeout=240', '--ExecutePreprocessor.kernel_name=tslab', '--output-dir', out, join(ROOT, 'examples/notebooks', notebook)],
        { cwd: join(ROOT, 'examples/notebooks'), env: { ...process.env, JUPYTER_PATH: jupyterPath }, stdio: 'pipe', timeout: 300_000 },
      );
    } catch (error) {
      const e = error as { stderr?: Buffer; stdout?: Buffer };
      throw new Error(`notebook ${notebook} failed:\n${e.stderr?.toString().slice(-3000) ?? ''}${e.stdout?.toString().slice(-1000) ?? ''}`);
    }
    const executed = JSON.parse(String(execFileSync('cat', [join(out, notebook)]))) as { cells: { cell_type: string; outputs?: { output_type: string }[] }[] };
    const codeCells = executed.cells.filter((c) => c.cell_type === 'code');
    expect(codeCells.length).toBeGreaterThan(0);
    for (const cell of codeCells) expect(cell.outputs?.some((o) => o.output_type === 'error') ?? false).toBe(false);
  }, 320_000);
});
