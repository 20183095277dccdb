import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { forEachJsonLine } from '../../src/records/merge-stream.js';
import { toBytes } from '../../src/records/examples.js';
import type { CellResult } from '../../src/records/results.js';
import { GridCollector, MAX_GRIDS } from '../../src/report/grids.js';
import { reportPage } from '../../src/report/html.js';
import { tempDir } from '../fixtures/files.js';

/** A record with what the grids read: group `g` (its eps), 2x2 images whose grey level is the cell index. */
function record(index: number, g: number): Partial<CellResult> {
  const pixels = new Float32Array(4).fill(index / 255);
  return {
    index,
    attack: 'fgsm',
    eps: g / 1000,
    labelSource: 'true',
    target: `t${index}`,
    reference: false,
    strategy: 's',
    architecture: 'a',
    budget: 0,
    examples: {
      imageShape: [2, 2, 1],
      indices: [0],
      trueLabels: [1],
      targetClean: [1],
      targetAdversarial: [2],
      clean: toBytes(pixels),
      adversarial: toBytes(pixels),
    },
  };
}

describe('example grids (GridCollector)', () => {
  it(
    'keep the 12 lowest cells of the first MAX_GRIDS groups from ' +
      'records in any order, reading images back one grid at a time',
    () => {
      const dir = tempDir('transferbench-grids-');
      // Group 0: cells 0..14 (15 cells); groups 1..MAX_GRIDS: one cell each, indices after; two shard files, reverse
      // order.
      const records = [
        ...Array.from({ length: 15 }, (_, i) => record(i, 0)),
        ...Array.from({ length: MAX_GRIDS }, (_, g) => record(15 + g, g + 1)),
      ];
      const files = [join(dir, 'results-1-of-2.jsonl'), join(dir, 'results-2-of-2.jsonl')];
      writeFileSync(
        files[0] as string,
        records
          .filter((r) => (r.index as number) % 2 === 0)
          .reverse()
          .map((r) => `${JSON.stringify(r)}\n`)
          .join(''),
      );
      writeFileSync(
        files[1] as string,
        records
          .filter((r) => (r.index as number) % 2 === 1)
          .reverse()
          .map((r) => `${JSON.stringify(r)}\n`)
          .join(''),
      );
      const collector = new GridCollector();
      for (const file of files.reverse()) forEachJsonLine(file, (r, _line, at) => collector.offer(r as CellResult, at));
      // A record without images makes no grid.
      collector.offer({ ...record(999, 5000), examples: undefined } as unknown as CellResult, {
        file: files[0] as string,
        offset: 0,
        length: 1,
      });
      assert.equal(collector.total, MAX_GRIDS + 1);
      const grids = [...collector.grids()];
      assert.equal(grids.length, MAX_GRIDS, 'the last group (highest first cell) is not drawn');
      assert.deepEqual(grids.map((g) => g.file).slice(0, 2), ['fgsm-eps0-true.png', 'fgsm-eps0.001-true.png']);
      assert.equal(grids.at(-1)?.file, `fgsm-eps${(MAX_GRIDS - 1) / 1000}-true.png`);
      const [first] = grids;
      assert.equal(first?.title, 'fgsm eps 0, true labels (first 12 of 15 cells)');
      assert.deepEqual(
        first?.rows.slice(1).map((r) => /target (t\d+)/.exec(r)?.[1]),
        Array.from({ length: 12 }, (_, i) => `t${i}`),
      );
      // Row k + 1 shows cell k's images: grey level k, read back from the shard files at the recorded offsets.
      const png = PNG.sync.read(first?.png as Buffer);
      const rowHeight = (png.height - 4) / 13;
      const grey = (row: number) => png.data[((4 + row * rowHeight + 1) * png.width + 20 + 4 + 1) * 4];
      assert.deepEqual(
        Array.from({ length: 13 }, (_, row) => grey(row)),
        [0, ...Array.from({ length: 12 }, (_, i) => i)],
      );
      const page = reportPage({
        title: 't',
        tables: {},
        plots: [],
        grids: grids.map((g) => ({ src: g.file, title: g.title, rows: g.rows })),
        gridsTotal: collector.total,
        manifest: '{}',
      });
      assert.match(
        page,
        new RegExp(`The first ${MAX_GRIDS} of ${MAX_GRIDS + 1} \\(attack, eps, label source\\) grids are drawn\\.`),
      );
    },
  );
});
