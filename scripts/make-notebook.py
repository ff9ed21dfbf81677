#!/usr/bin/env python3
"""Writes a tslab notebook (.ipynb, nbformat 4) from a plain TypeScript/markdown source where cells are separated by
lines `// %% [markdown]` or `// %%`. Usage: python3 scripts/make-notebook.py examples/notebooks/src/X.ts examples/notebooks/X.ipynb
Keeping the source as .ts makes notebooks reviewable in diffs; the .ipynb is generated and committed."""
import json, sys
src, dst = sys.argv[1], sys.argv[2]
cells, kind, lines = [], 'code', []
def flush():
    text = '\n'.join(lines).strip('\n')
    if not text:
        return
    if kind == 'markdown':
        text = '\n'.join(l[3:] if l.startswith('// ') else l[2:] if l.startswith('//') else l for l in text.split('\n'))
        cells.append({'cell_type': 'markdown', 'metadata': {}, 'source': text.splitlines(True)})
    else:
        cells.append({'cell_type': 'code', 'metadata': {}, 'execution_count': None, 'outputs': [], 'source': text.splitlines(True)})
for line in open(src).read().split('\n'):
    if line.startswith('// %%'):
        flush(); lines = []
        kind = 'markdown' if '[markdown]' in line else 'code'
    else:
        lines.append(line)
flush()
nb = {'nbformat': 4, 'nbformat_minor': 5, 'metadata': {'kernelspec': {'name': 'tslab', 'display_name': 'TypeScript', 'language': 'typescript'},
      'language_info': {'name': 'typescript', 'file_extension': '.ts'}}, 'cells': cells}
for i, c in enumerate(nb['cells']):
    c['id'] = f'cell-{i}'
json.dump(nb, open(dst, 'w'), indent=1)
open(dst, 'a').write('\n')
