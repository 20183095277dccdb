import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TransferbenchError } from '../common/errors.js';
import { atomicWrite } from '../compute/persist.js';
import { readResults, resultFiles } from '../bench/results.js';
import { reportPage } from './html.js';
import { plotSpecs, renderSvg } from './plots.js';

const TABLES = ['leaderboard-attacks.csv', 'leaderboard-substitutes.csv', 'leaderboard-targets.csv', 'transfer-matrix.csv', 'results.csv'];

/**
 * Writes `DIR/plots/*.svg` and `DIR/index.html` from a merged results folder (run by `merge`
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
  const manifestPath = join(dir, 'manifest.json');
  const manifest = existsSync(manifestPath) ? readFileSync(manifestPath, 'utf8') : '{}';
  const suite = (JSON.parse(manifest) as { suite?: string }).suite ?? dir;
  const tables = Object.fromEntries(TABLES.map((t) => [t, readFileSync(join(dir, t), 'utf8')]));
  atomicWrite(join(dir, 'index.html'), reportPage({ title: `transferbench: ${suite}`, tables, plots, manifest }));
  written.push(join(dir, 'index.html'));
  return written;
}
