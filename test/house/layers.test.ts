import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { circles, importsIn, isLayer, layerOf, upwardImports } from './layers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = `${dir}/${name}`;
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const files = sourceFiles('src');
const text = (f: string) => readFileSync(join(ROOT, f), 'utf8');
const graph = new Map(files.map((f) => [f, importsIn(text(f), f).filter((t) => t.startsWith('src/'))]));

describe('layers of src/', () => {
  it('every file belongs to a listed layer', () => {
    assert.deepEqual(
      files.filter((f) => !isLayer(layerOf(f))),
      [],
      'add their folders to test/house/layers.ts',
    );
  });

  it('every import runs to the same layer or a lower one', () => {
    assert.deepEqual(upwardImports(graph), []);
  });

  it('no import circle, between files of one layer either', () => {
    assert.deepEqual(circles(graph), []);
  });

  it('library code never writes process.env (only the command line sets the environment)', () => {
    const write = /process\.env(\.\w+|\[[^\]]+\])\s*(=[^=]|\?\?=|\|\|=)|delete\s+process\.env/;
    assert.deepEqual(
      files.filter((f) => !f.startsWith('src/cli/') && write.test(text(f))),
      [],
    );
  });

  it('catches an upward import, a sideways one and a circle in a made-up tree', () => {
    const made = new Map([
      ['src/oracle/pool.ts', importsIn("import { run } from '../runner/run.js';\n", 'src/oracle/pool.ts')],
      ['src/cli/main.ts', importsIn("export { x } from '../index.js';\n", 'src/cli/main.ts')],
      ['src/common/a.ts', importsIn("import type { B } from './b.js';\n", 'src/common/a.ts')],
      ['src/common/b.ts', importsIn("import { a } from './a.js';\n", 'src/common/b.ts')],
    ]);
    assert.deepEqual(upwardImports(made), [
      'src/oracle/pool.ts -> src/runner/run.ts',
      'src/cli/main.ts -> src/index.ts',
    ]);
    assert.deepEqual(circles(made), ['src/common/a.ts -> src/common/b.ts -> src/common/a.ts']);
  });
});
