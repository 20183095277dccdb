import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { forEachJsonLine } from '../records/merge-stream.js';
import { TransferbenchError } from '../common/errors.js';
import { atomicWrite } from '../common/files.js';
import { resultFiles, type CellResult } from '../records/results.js';
import { queryResultFiles, readQueryResults } from '../records/queries.js';
import { readCsvTable } from './csv-read.js';
import { reportPage, type PageTable } from './html.js';
import { GridCollector } from './grids.js';
import { PlotData, renderSvg } from './plots.js';
import { queriesPlot } from './queries.js';
import { forEachResultsRow, type ReportRecord } from './results-csv.js';

/** The merged CSVs the page shows, in its order (those present). */
const PAGE_TABLES = [
  'rubbish.csv',
  'leaderboard-attacks.csv',
  'leaderboard-substitutes.csv',
  'leaderboard-targets.csv',
  'transfer-matrix.csv',
  'comparisons.csv',
  'results.csv',
  'leaderboard-queries.csv',
  'crossover-queries.csv',
];
/** results.csv columns the page leaves out: hundreds of hex digits a cell. */
export const PAGE_HIDDEN = ['target_fooled', 'substitute_fooled'];
/** Rows of a table the page shows at most (results.csv has one per cell): the CSV holds them all. */
export const PAGE_ROWS = 2000;

export interface ReportOptions {
  /**
   * The example grids' cells, gathered by merge as it streamed the records; without it the report reads the shard files
   * once more.
   */
  readonly grids?: GridCollector;
}

/**
 * Writes `DIR/plots/*.svg`, `DIR/grids/*.png` and `DIR/index.html` from a merged results folder
 * (run by `merge` and by `transferbench report DIR`), in memory that does not grow with the cells:
 * tables and plot data are read from the merged CSVs a row at a time, and the grids' images are
 * read back from the shard files one grid at a time (at most MAX_GRIDS). Only suites with query cells keep the transfer
 * cells that share a target and eps
 * with one, for the success-vs-queries plot. Returns the files written.
 */
export async function writeReport(dir: string, options: ReportOptions = {}): Promise<string[]> {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath))
    throw new TransferbenchError(
      'BAD_OPTION',
      `${dir}: not merged (no manifest.json); run \`transferbench merge ${dir}\` first`,
    );
  const queries = queryResultFiles(dir)
    .flatMap((f) => readQueryResults(f))
    .sort((a, b) => a.index - b.index);
  const queried = new Set(queries.map((q) => `${q.target}\u0000${q.eps}`));
  const plotData = new PlotData();
  const transfer: ReportRecord[] = [];
  // The page's results table comes from the same pass over results.csv, its longest file.
  const resultRows: (readonly string[])[] = [];
  let cells = 0;
  const resultColumns = await forEachResultsRow(dir, (r, row) => {
    plotData.add(r);
    if (!r.reference && queried.has(`${r.target}\u0000${r.eps}`)) transfer.push(r);
    if (cells++ < PAGE_ROWS) resultRows.push(row);
  });
  mkdirSync(join(dir, 'plots'), { recursive: true });
  const written: string[] = [];
  const plots: { title: string; svg: string }[] = [];
  for (const plot of [...plotData.specs(), ...(queries.length > 0 ? [queriesPlot(transfer, queries)] : [])]) {
    const svg = await renderSvg(plot.spec);
    atomicWrite(join(dir, 'plots', plot.file), svg);
    written.push(join(dir, 'plots', plot.file));
    plots.push({ title: plot.title, svg });
  }
  const collector = options.grids ?? collectGrids(dir);
  const figures: { src: string; title: string; rows: readonly string[] }[] = [];
  // Drawn and written one at a time: a grid's images are in memory only while it is drawn.
  for (const grid of collector.grids()) {
    if (figures.length === 0) mkdirSync(join(dir, 'grids'), { recursive: true });
    atomicWrite(join(dir, 'grids', grid.file), grid.png);
    written.push(join(dir, 'grids', grid.file));
    figures.push({ src: `grids/${grid.file}`, title: grid.title, rows: grid.rows });
  }
  const tables: Record<string, PageTable> = {};
  for (const name of PAGE_TABLES.filter((n) => existsSync(join(dir, n)))) {
    if (name === 'results.csv') {
      // The per-image flags are for paired comparisons in code (comparisons.csv shows them), not for reading.
      const shown = resultColumns.map((c, i) => (PAGE_HIDDEN.includes(c) ? -1 : i)).filter((i) => i >= 0);
      tables[name] = {
        columns: shown.map((i) => resultColumns[i] as string),
        rows: resultRows.map((row) => shown.map((i) => row[i] ?? '')),
        total: cells,
      };
      continue;
    }
    const { table, total } = await readCsvTable(join(dir, name), PAGE_ROWS);
    tables[name] = { ...table, total };
  }
  const manifest = readFileSync(manifestPath, 'utf8');
  const suite = (JSON.parse(manifest) as { suite?: string }).suite ?? dir;
  atomicWrite(
    join(dir, 'index.html'),
    reportPage({
      title: `transferbench: ${suite}`,
      tables,
      plots,
      grids: figures,
      gridsTotal: collector.total,
      manifest,
    }),
  );
  written.push(join(dir, 'index.html'));
  return written;
}

/** The grids' cells from the shard files, a record at a time. */
function collectGrids(dir: string): GridCollector {
  const collector = new GridCollector();
  for (const file of resultFiles(dir))
    forEachJsonLine(file, (record, _line, at) => collector.offer(record as CellResult, at));
  return collector;
}
