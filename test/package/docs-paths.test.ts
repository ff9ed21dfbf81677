/**
 * Errors and parameter tables carry `docsPath` (viem's idea: where the docs explain the error). Every `docsPath` written
 * in src/ that points into the README (`#anchor`) must name a heading the README has, by GitHub's anchor rules; one that
 * points elsewhere must be an https URL.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens; repeats get `-1`, `-2`, … */
export function readmeAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) inFence = !inFence;
    const heading = !inFence && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = heading[1].replace(/`/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

describe('docsPath', () => {
  it('GitHub anchors follow its rules (a known heading, punctuation, repeats)', () => {
    const anchors = readmeAnchors('# Provenant\n## Install (as a package)\n```sh\n# not a heading\n```\n### `loadPretrained` options\n## Notes\n## Notes\n');
    expect([...anchors]).toEqual(['provenant', 'install-as-a-package', 'loadpretrained-options', 'notes', 'notes-1']);
  });

  it('every docsPath in src/ names a README heading that exists (or an https URL)', () => {
    const anchors = readmeAnchors(readFileSync(join(root, 'README.md'), 'utf8'));
    const found: string[] = [];
    const broken: string[] = [];
    for (const file of sourceFiles(join(root, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/docsPath:\s*(['"`])(.*?)\1/g)) {
        const path = match[2];
        const where = `${file.replace(`${root}/`, '')}: ${path}`;
        found.push(where);
        const ok = path.startsWith('#') ? anchors.has(path.slice(1)) : path.startsWith('https://');
        if (!ok) broken.push(where);
      }
    }
    console.log(`docsPath: ${found.length} in src/, ${broken.length} broken${broken.length ? `:\n${broken.join('\n')}` : ''}`);
    expect(found.length).toBeGreaterThan(10);
    expect(broken).toEqual([]);
  });
});
