import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TransferbenchError } from '../common/errors.js';
import { atomicWrite } from '../compute/persist.js';
import { readResults, resultFiles } from '../bench/results.js';
import { reportPage } from './html.js';
import { exampleGrids } from './grids.js';
import { plotSpecs, renderSvg } from './plots.js';

const TABLES = ['leaderboard-attacks.csv', 'leaderboard-substitutes.csv', 'leaderboard-targets.csv', 'transfer-matrix.csv', 'results.csv'];
/** Written by merge only when the suite asks for them. */
const OPTIONAL_TABLES = ['rubbish.csv'];

/**
 * Writes `DIR/plots/*.svg`, `DIR/grids/*.png` and `DIR/index.html` from a merged results folder (run by `merge`
 * and by `transferbench report DIR`). Returns the files written.
 */
export async function writeReport(dir: string): Promise<string[]> {
  const missing = TABLES.filter((t) => !existsSync(join(dir, t)));
  if (missing.length > 0) throw new TransferbenchError('BAD_OPTION', `${dir}: ${missing.join(', ')} missing; run \`transferbench merge ${dir}\` first`);
  const results = resultFiles(dir).flatMap((f) => readResults(f)).sort((a, b) => a.index - b.index);
  mkdirSync(join(dir, 'plots'), { recursive: true });
  const written: string[] = [];
  const plots: { title: string; svg: string }[] = [];
  for (const plot of plotSpecs(results)) {
    const svg = await renderSvg(plot.spec);
    atomicWrite(join(dir, 'plots', plot.file), svg);
    written.push(join(dir, 'plots', plot.file));
    plots.push({ title: plot.title, svg });
  }
  const grids = exampleGrids(results);
  if (grids.length > 0) mkdirSync(join(dir, 'grids'), { recursive: true });
  for (const grid of grids) {
    atomicWrite(join(dir, 'grids', grid.file), grid.png);
    written.push(join(dir, 'grids', grid.file));
  }
  const manifestPath = join(dir, 'manifest.json');
  const manifest = existsSync(manifestPath) ? readFileSync(manifestPath, 'utf8') : '{}';
  const suite = (JSON.parse(manifest) as { suite?: string }).suite ?? dir;
  const present = [...OPTIONAL_TABLES.filter((t) => existsSync(join(dir, t))), ...TABLES];
  const tables = Object.fromEntries(present.map((t) => [t, readFileSync(join(dir, t), 'utf8')]));
  const figures = grids.map((g) => ({ src: `grids/${g.file}`, title: g.title, rows: g.rows }));
  atomicWrite(join(dir, 'index.html'), reportPage({ title: `transferbench: ${suite}`, tables, plots, grids: figures, manifest }));
  written.push(join(dir, 'index.html'));
  return written;
}
