/**
 * Executes every tslab notebook in examples/notebooks headless (jupyter nbconvert --execute), so a notebook that stops
 * working fails the suite: a throwing cell or a type error exits non-zero. Notebooks import 'provenant' (the package
 * self-reference), i.e. the CJS build and its declarations in dist/ (tslab type-checks cells), rebuilt here when missing or older than src/.
 * CI sets PROVENANT_REQUIRE_JUPYTER=1 so a missing Jupyter fails there instead of being skipped.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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
    // Run where a user would: a folder whose node_modules holds the package (tslab resolves imports the classic Node way).
    const work = mkdtempSync(join(tmpdir(), 'provenant-nb-'));
    mkdirSync(join(work, 'node_modules'));
    symlinkSync(ROOT, join(work, 'node_modules/provenant'), 'dir');
    copyFileSync(join(ROOT, 'examples/notebooks', notebook), join(work, notebook));
    const out = join(work, 'executed');
    try {
      execFileSync(
        JUPYTER,
        ['nbconvert', '--to', 'notebook', '--execute', '--allow-errors', '--ExecutePreprocessor.timeout=240', '--ExecutePreprocessor.kernel_name=tslab', '--output-dir', out, join(work, notebook)],
        { cwd: work, env: { ...process.env, JUPYTER_PATH: jupyterPath }, stdio: 'pipe', timeout: 300_000 },
      );
    } catch (error) {
      const e = error as { stderr?: Buffer; stdout?: Buffer };
      throw new Error(`notebook ${notebook} failed:\n${e.stderr?.toString().slice(-3000) ?? ''}${e.stdout?.toString().slice(-1000) ?? ''}`);
    }
    type Output = { output_type: string; name?: string; text?: string | string[]; ename?: string; evalue?: string };
    const executed = JSON.parse(readFileSync(join(out, notebook), 'utf8')) as { cells: { cell_type: string; source: string | string[]; outputs?: Output[] }[] };
    const codeCells = executed.cells.filter((c) => c.cell_type === 'code');
    expect(codeCells.length).toBeGreaterThan(0);
    // A failing cell (a thrown error, or a type error tslab prints on stderr) is reported with its source and output.
    const failures = codeCells
      .map((cell, i) => {
        const text = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join('') : (v ?? ''));
        // tfjs prints a banner on stderr; errors and tslab's type errors ("3:14 - …") are what count.
        const bad = (cell.outputs ?? []).filter(
          (o) => o.output_type === 'error' || (o.output_type === 'stream' && o.name === 'stderr' && /(^\d+:\d+ - |Error)/m.test(text(o.text))),
        );
        return bad.length ? `cell ${i}:\n${text(cell.source).slice(0, 300)}\n→ ${bad.map((o) => `${o.ename ?? ''} ${o.evalue ?? ''}${text(o.text)}`).join('\n')}` : null;
      })
      .filter((f): f is string => f !== null);
    expect(failures).toEqual([]);
  }, 320_000);
});
