// The layers and which way their imports may point (README "Layout"). A file importing
// against the arrows fails here, with the file and the import named.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** For each layer, the layers its files may import (besides themselves and npm packages). */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  model: [],
  analysis: ['model'],
  migrations: [],
  store: ['model', 'migrations'],
  collector: ['model', 'store'],
  probe: ['model', 'collector'],
  reports: ['model', 'analysis', 'store'],
  api: ['model', 'analysis', 'store', 'reports'],
  cli: ['model', 'analysis', 'collector', 'store', 'api', 'reports', 'probe', 'migrations'],
};

function sourceFiles(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(sourceFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

const layers = Object.keys(ALLOWED).filter((layer) => {
  try {
    return statSync(join(ROOT, layer)).isDirectory();
  } catch {
    return false;
  }
});

/** `from '…'`, `import '…'` and `import('…')` specifiers that are relative paths. */
function relativeImports(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+)\1/g))
    found.push(m[2]!);
  return found;
}

test('the layers exist', () => {
  expect(layers).toEqual(expect.arrayContaining(['model', 'analysis', 'store', 'collector', 'api', 'cli']));
});

test.each(layers)('%s/ imports only what it may', (layer) => {
  const wrong: string[] = [];
  for (const file of sourceFiles(join(ROOT, layer))) {
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const target = relative(ROOT, resolve(dirname(file), spec)).split(sep)[0]!;
      if (target !== layer && !ALLOWED[layer]!.includes(target)) {
        wrong.push(`${relative(ROOT, file)} imports ${spec} (${target}/)`);
      }
    }
  }
  expect(wrong).toEqual([]);
});

test('the rule is checked: an import against the arrows is found', () => {
  expect(
    relativeImports("import type { X } from '../../store/open-store.js';\nconst y = import('./z.js');"),
  ).toEqual(['../../store/open-store.js', './z.js']);
});
