import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TransferbenchError } from '../common/errors.js';
import { atomicWrite } from '../common/files.js';
import { readResults, resultFiles } from '../records/results.js';
import { readRubbish, rubbishFiles } from '../records/rubbish.js';
import { reportPage } from './html.js';
import { exampleGrids } from './grids.js';
import { leaderboardTables, type Table } from './leaderboards.js';
import { plotSpecs, renderSvg } from './plots.js';
import { queriesPlot, queryTables } from './queries.js';
import { queryResultFiles, readQueryResults } from '../records/queries.js';

/**
 * Writes `DIR/plots/*.svg`, `DIR/grids/*.png` and `DIR/index.html` from a merged results folder (run by `merge`
 * and by `transferbench report DIR`). The page shows `tables` (merge passes the ones it just wrote
 * as CSV); without them they are built again from the folder's records. Returns the files written.
 */
export async function writeReport(dir: string, tables?: Readonly<Record<string, Table>>): Promise<string[]> {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new TransferbenchError('BAD_OPTION', `${dir}: not merged (no manifest.json); run \`transferbench merge ${dir}\` first`);
  const results = resultFiles(dir).flatMap((f) => readResults(f)).sort((a, b) => a.index - b.index);
  const rubbish = rubbishFiles(dir).flatMap((f) => readRubbish(f));
  const queries = queryResultFiles(dir).flatMap((f) => readQueryResults(f)).sort((a, b) => a.index - b.index);
  const shown = tables ?? { ...leaderboardTables(results, rubbish.length > 0 ? rubbish : undefined), ...queryTables(results, queries) };
  mkdirSync(join(dir, 'plots'), { recursive: true });
  const written: string[] = [];
  const plots: { title: string; svg: string }[] = [];
  for (const plot of [...plotSpecs(results), ...(queries.length > 0 ? [queriesPlot(results, queries)] : [])]) {
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
  const manifest = readFileSync(manifestPath, 'utf8');
  const suite = (JSON.parse(manifest) as { suite?: string }).suite ?? dir;
  const figures = grids.map((g) => ({ src: `grids/${g.file}`, title: g.title, rows: g.rows }));
  atomicWrite(join(dir, 'index.html'), reportPage({ title: `transferbench: ${suite}`, tables: shown, plots, grids: figures, manifest }));
  written.push(join(dir, 'index.html'));
  return written;
}
