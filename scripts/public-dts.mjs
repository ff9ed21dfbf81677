// After `tsup`: points the published declarations at dist/public-tensor.d.ts (a copy of src/finetune/public-tensor.d.ts)
// instead of `@tensorflow/tfjs-core`, whose own .d.ts does not compile for a consumer with `skipLibCheck: false`.
// Fails when any published declaration still names a package whose declarations break such a consumer.
import { copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = resolve(root, process.argv[2] ?? 'dist');
const stub = join(root, 'src/finetune/public-tensor.d.ts');

function declarations(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return declarations(path);
    return /\.d\.c?ts$/.test(name) ? [path] : [];
  });
}

copyFileSync(stub, join(dist, 'public-tensor.d.ts'));
copyFileSync(stub, join(dist, 'public-tensor.d.cts'));
const leftovers = [];
for (const file of declarations(dist)) {
  if (/public-tensor\.d\.c?ts$/.test(file)) continue;
  const text = readFileSync(file, 'utf8');
  const ext = file.endsWith('.d.cts') ? '.cjs' : '.js';
  let target = relative(dirname(file), join(dist, `public-tensor${ext}`));
  if (!target.startsWith('.')) target = `./${target}`;
  // Type imports point at the stub; a bare `import '@tensorflow/tfjs-core';` (which the bundler leaves behind when a chunk's
  // types came from there) carries no types but would make the consumer's compiler load tfjs-core's broken .d.ts: dropped.
  const next = text.replace(/from '@tensorflow\/tfjs-core'/g, `from '${target}'`).replace(/^import '@tensorflow\/[^']*';\r?\n/gm, '');
  if (next !== text) writeFileSync(file, next);
  for (const match of next.matchAll(/(?:from|import\(|^import) *'(@tensorflow\/[^']*)'/gm)) leftovers.push(`${relative(root, file)}: ${match[1]}`);
}
if (leftovers.length > 0) {
  console.error(`public-dts: published declarations still import tfjs:\n${leftovers.join('\n')}`);
  process.exit(1);
}
console.log(`public-dts: ${relative(root, dist)} declarations use public-tensor.d.ts`);
