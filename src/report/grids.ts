import { PNG } from 'pngjs';
import { fromBytes, type CellExamples } from '../records/examples.js';
import { readJsonLineAt, type LineAt } from '../records/merge-stream.js';
import type { CellResult } from '../records/results.js';
import { drawDigits, GLYPH_HEIGHT, GLYPH_WIDTH } from './digits.js';

/** At most this many cells (rows) per grid: a grid is a glance, the CSVs hold the rest. */
const MAX_ROWS = 12;
const SCALE = 2;
const GAP = 4;
const LABEL = GLYPH_HEIGHT * SCALE + 4;
const INK = { truth: [40, 40, 40], kept: [0, 130, 0], fooled: [210, 0, 0], row: [120, 120, 170] } as const;
/** Left margin holding each row's number, the number of its line in the caption. */
const MARGIN = 2 * (GLYPH_WIDTH + 1) * SCALE + GAP;

export interface Grid {
  readonly file: string;
  readonly title: string;
  /** What each row shows, top to bottom. */
  readonly rows: readonly string[];
  readonly png: Buffer;
}

/** Grids a report draws at most (one per attack, eps and label source); the CSVs hold every cell. */
export const MAX_GRIDS = 100;

/**
 * The cells the example grids show, gathered from records in any order: per (attack, eps, label
 * source), where the MAX_ROWS lowest cell indices are in the shard files, and a count of the
 * rest. It keeps positions, not images: merge offers it every record as it streams them, and the
 * images of the few cells shown are read back one grid at a time, so memory grows with neither
 * the cells nor the grids' images.
 */
export class GridCollector {
  private readonly groups = new Map<string, { first: number; count: number; cells: { index: number; at: LineAt }[] }>();

  offer(r: CellResult, at: LineAt): void {
    if (r.examples === undefined) return;
    const key = `${r.attack}-eps${r.eps}-${r.labelSource}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { first: r.index, count: 0, cells: [] };
      this.groups.set(key, group);
    }
    group.first = Math.min(group.first, r.index);
    group.count++;
    const last = group.cells[group.cells.length - 1];
    if (group.cells.length === MAX_ROWS && last !== undefined && last.index < r.index) return;
    const position = group.cells.findIndex((c) => c.index > r.index);
    group.cells.splice(position === -1 ? group.cells.length : position, 0, { index: r.index, at });
    if (group.cells.length > MAX_ROWS) group.cells.pop();
  }

  /** How many grids the records make (the report draws the first MAX_GRIDS). */
  get total(): number {
    return this.groups.size;
  }

  /**
   * One PNG per (attack, eps, label source), in the order of their first cells, at most
   * MAX_GRIDS, drawn when asked for: the first row the clean images labelled with their true
   * class, then one row per cell (target x substitute, in suite order) of the adversarial images,
   * each labelled with the target's answer: green when still right, red when fooled.
   */
  *grids(): Generator<Grid> {
    const groups = [...this.groups.entries()].sort(([, a], [, b]) => a.first - b.first).slice(0, MAX_GRIDS);
    for (const [key, { count, cells }] of groups) {
      const shown = cells.map((c) => readJsonLineAt<CellResult>(c.at));
      const first = shown[0] as CellResult;
      const rows = [
        'clean images, true class',
        ...shown.map((c) => {
          const crafted = c.reference
            ? 'white-box on the target itself'
            : `on ${c.strategy}/${c.architecture}/${c.budget}`;
          return `adversarial on target ${c.target}, crafted ${crafted}: target's class`;
        }),
      ];
      const more = count - shown.length;
      yield {
        file: `${key.replace(/[^A-Za-z0-9.-]+/g, '_')}.png`,
        title:
          `${first.attack} eps ${first.eps}, ${first.labelSource} labels` +
          `${more > 0 ? ` (first ${shown.length} of ${count} cells)` : ''}`,
        rows,
        png: drawGrid(shown.map((c) => c.examples as CellExamples)),
      };
    }
  }
}

/**
 * Draws a numbered row of clean images (true classes) and, under it, one numbered row of adversarial images per cell.
 */
export function drawGrid(rows: readonly CellExamples[]): Buffer {
  const first = rows[0];
  if (first === undefined) throw new RangeError('drawGrid needs at least one row');
  const [h, w, c] = first.imageShape;
  const columns = first.indices.length;
  const cellW = w * SCALE + GAP;
  const cellH = h * SCALE + LABEL + GAP;
  const png = new PNG({ width: MARGIN + columns * cellW + GAP, height: (rows.length + 1) * cellH + GAP });
  png.data.fill(255);
  const put = (x: number, y: number, rgb: readonly number[]) => {
    if (x < 0 || y < 0 || x >= png.width || y >= png.height) return;
    const o = (y * png.width + x) * 4;
    png.data[o] = rgb[0] as number;
    png.data[o + 1] = rgb[1] as number;
    png.data[o + 2] = rgb[2] as number;
  };
  const drawRow = (
    row: number,
    pixels: Uint8Array,
    labels: readonly number[],
    ink: (i: number) => readonly number[],
  ) => {
    const top = GAP + row * cellH;
    drawDigits(String(row + 1), SCALE, (x, y) => put(GAP + x, top + y, INK.row));
    for (let i = 0; i < columns && i < labels.length; i++) {
      const left = MARGIN + GAP + i * cellW;
      for (let y = 0; y < h * SCALE; y++) {
        for (let x = 0; x < w * SCALE; x++) {
          const base = ((i * h + Math.floor(y / SCALE)) * w + Math.floor(x / SCALE)) * c;
          const rgb =
            c >= 3 ? [pixels[base], pixels[base + 1], pixels[base + 2]] : [pixels[base], pixels[base], pixels[base]];
          put(left + x, top + y, rgb as number[]);
        }
      }
      const colour = ink(i);
      drawDigits(String(labels[i]), SCALE, (x, y) => put(left + x, top + h * SCALE + 2 + y, colour));
    }
  };
  drawRow(0, fromBytes(first.clean), first.trueLabels, () => INK.truth);
  rows.forEach((r, k) =>
    drawRow(k + 1, fromBytes(r.adversarial), r.targetAdversarial, (i) =>
      r.targetAdversarial[i] === r.trueLabels[i] ? INK.kept : INK.fooled,
    ),
  );
  return PNG.sync.write(png);
}
