import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAYERS, layerOf } from './layers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

/** Relative imports of a file, as paths under the repository (`.js` read as the `.ts` it compiles from). */
export function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) =>
    normalize(join(dirname(file), (m[1] ?? m[2]) as string)).replace(/\.js$/, '.ts'),
  );
}

const rank = new Map(LAYERS.flatMap((row, i) => row.map((layer) => [layer, i] as const)));
const files = sourceFiles('src');
const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => t.startsWith('src/'))]));

describe('layers of src/', () => {
  it('every file belongs to a listed layer', () => {
    const unknown = files.filter((f) => !rank.has(layerOf(f)));
    assert.deepEqual(unknown, [], `add their folders to test/house/layers.ts`);
  });

  it('every import runs to the same layer or a lower one', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        const from = layerOf(file);
        const to = layerOf(target);
        if (from !== to && (rank.get(to) ?? -1) >= (rank.get(from) ?? -1)) upward.push(`${file} -> ${target}`);
      }
    }
    assert.deepEqual(upward, []);
  });

  it('no import circle, between files of one layer either', () => {
    const state = new Map<string, 'open' | 'done'>();
    const circles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open') circles.push([...path.slice(path.indexOf(next)), next].join(' -> '));
        else if (!state.has(next)) visit(next, [...path, next]);
      }
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file, [file]);
    assert.deepEqual(circles, []);
  });

  it('library code never writes process.env (only the command line sets the environment)', () => {
    const writes = files
      .filter((f) => !f.startsWith('src/cli/'))
      .filter((f) =>
        /process\.env(\.\w+|\[[^\]]+\])\s*(=[^=]|\?\?=|\|\|=)|delete\s+process\.env/.test(
          readFileSync(join(ROOT, f), 'utf8'),
        ),
      );
    assert.deepEqual(writes, []);
  });

  it('reads the imports it checks (a file that imports upward is caught)', () => {
    const sample = importsOf('src/cli/main.ts');
    assert.ok(sample.length > 0 && sample.every((t) => relative(ROOT, join(ROOT, t)) === t));
  });
});
