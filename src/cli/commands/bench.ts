import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { groupCosts, zooCostModel } from '../../runner/balance.js';
import { expandGrid, parseShard, type Shard } from '../../runner/grid.js';
import { mergeResults, type MergeOutcome } from '../../runner/merge.js';
import { writeReport } from '../../report/report.js';
import { GridCollector } from '../../report/grids.js';
import { outputDir, runSuite } from '../../runner/run.js';
import { loadSuite, replicateSeeds, retrainsTargets, type Suite } from '../../runner/suite.js';
import { expandQueryGrid } from '../../runner/query-grid.js';
import { targetDescriptorPath } from '../../runner/targets.js';
import { checkModelRelatedAttacks } from '../../runner/variant-check.js';
import { loadSplit, parseDatasetSpec, takeEvaluation } from '../../data/index.js';
import { checkDatasetFitsTarget, checkTargetAgainstModel } from '../../targets/check.js';
import { loadTarget } from '../../targets/descriptor.js';
import { badOption } from '../../common/errors.js';
import { ensureBackend, useBackend } from '../../compute/backend.js';
import { describeEngine, resolveEngine } from '../../compute/engine.js';
import type { Reporter } from '../reporter.js';
import { shippedZooFiles } from './suite-targets.js';

export interface RunCommandOptions {
  readonly shard?: string;
  /** round-robin (default) or cost: how whole groups are dealt to shards. */
  readonly shardBy?: string;
  readonly resume: boolean;
  readonly out?: string;
  readonly backend?: string;
  readonly targetsDir: string;
  readonly cacheDir: string;
  readonly useCache: boolean;
  readonly quiet: boolean;
  /** Groups run at once in worker processes (default: the machine's cores). */
  readonly parallel?: number;
}

/** A one-line progress display on a terminal, plain lines (every 10%) otherwise. */
function progressPrinter(reporter: Reporter, quiet: boolean) {
  const started = performance.now();
  const tty = process.stderr.isTTY === true && !quiet;
  let lastDecile = -1;
  return (event: { done: number; total: number; skipped: number; queries: number }) => {
    if (quiet) return;
    const ran = event.done - event.skipped;
    const elapsed = (performance.now() - started) / 1000;
    const eta = ran > 0 ? ((event.total - event.done) * elapsed) / ran : 0;
    const line = `cells ${event.done}/${event.total}  ETA ${Math.round(eta)} s  queries ${event.queries}`;
    if (tty) {
      process.stderr.write(`\r${line}   `);
      if (event.done === event.total) process.stderr.write('\n');
    } else {
      const decile = Math.floor((event.done / Math.max(1, event.total)) * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        reporter.info(line);
      }
    }
  };
}

/** The shard, with every group's predicted cost when groups are dealt by cost (--shard-by cost). */
function shardWithCosts(shard: Shard, shardBy: string | undefined, suite: Suite): Shard {
  if (shardBy === undefined || shardBy === 'round-robin') return shard;
  if (shardBy !== 'cost') throw badOption('--shard-by', shardBy, '"round-robin" (the default) or "cost"');
  return { ...shard, costs: groupCosts(suite, expandGrid(suite), zooCostModel(shippedZooFiles())) };
}

/** `transferbench run SUITE [--shard K/N] [--shard-by cost] [--resume] [--out DIR]`. */
export async function runCommand(reporter: Reporter, suitePath: string, options: RunCommandOptions): Promise<number> {
  const suite = loadSuite(suitePath);
  const out = outputDir(suite, options.out);
  const backend = await useBackend(options.backend);
  const shard = shardWithCosts(parseShard(options.shard), options.shardBy, suite);
  // Measured here when it is `auto`, once, before runSuite starts any worker.
  const engine = await resolveEngine();
  reporter.info(
    `suite ${suite.name}: ${expandGrid(suite).length} cells, shard ` +
      `${shard.k}/${shard.n}, backend ${backend.name}, training engine ` +
      `${describeEngine(engine)}, output ${out}`,
  );
  const result = await runSuite(suite, {
    shard,
    resume: options.resume,
    outDir: out,
    targetsDir: options.targetsDir,
    cacheDir: options.cacheDir,
    useCache: options.useCache,
    parallel: options.parallel ?? availableParallelism(),
    progress: progressPrinter(reporter, options.quiet),
  });
  for (const path of result.removed) reporter.warn(`note: removed ${path}, left by an interrupted merge or run`);
  reporter.info(`ran ${result.ran} cell(s), skipped ${result.skipped} already done -> ${result.file}`);
  if (shard.n === 1) {
    const grids = new GridCollector();
    const merged = mergeResults(out, { tables: false, grids });
    mergeNotes(reporter, out, merged);
    const report = await writeReport(out, { grids });
    reporter.info(`leaderboards: ${merged.files.join(', ')}`);
    reporter.info(`report: ${report[report.length - 1] ?? ''}`);
  } else {
    reporter.info(`when every shard has run: transferbench merge ${out}`);
  }
  return 0;
}

/** What a merge found and did on its own: leftovers of an interrupted one, a folder without the oracle's ledger. */
function mergeNotes(reporter: Reporter, dir: string, merged: MergeOutcome): void {
  for (const path of merged.removed) reporter.warn(`note: removed ${path}, left by an interrupted merge or run`);
  if (!merged.ledgerChecked)
    reporter.warn(`note: ${dir} has no oracle ledger (ledger-K-of-N.jsonl): its records' queries were not checked`);
}

/** `transferbench merge DIR`: the CSVs and manifest, then the report. */
export async function mergeCommand(
  reporter: Reporter,
  dir: string,
  options: { report: boolean } = { report: true },
): Promise<number> {
  // Nothing is kept per cell, report or not: the report reads the CSVs merge writes, and the
  // grids keep a few cells' images, so a run of any size merges in bounded memory.
  const grids = options.report ? new GridCollector() : undefined;
  const merged = mergeResults(dir, { tables: false, grids });
  mergeNotes(reporter, dir, merged);
  reporter.info(`merged ${merged.cells} cells -> ${merged.files.join(', ')}`);
  if (grids === undefined) return 0;
  const written = await writeReport(dir, { grids });
  reporter.info(`report: ${written.join(', ')}`);
  return 0;
}

/** `transferbench report DIR`: SVG plots and index.html from merged results. */
export async function reportCommand(reporter: Reporter, dir: string): Promise<number> {
  const written = await writeReport(dir);
  reporter.info(`report: ${written.join(', ')}`);
  return 0;
}

/** `transferbench validate FILE`. */
/**
 * Every check that needs no training: the suite's schema and keys, the data set against
 * `evaluationSize`, and each built target's descriptor against its model and the data set. A
 * target not built yet is named; `run` checks it once it is.
 */
export async function validateCommand(reporter: Reporter, file: string, targetsDir: string): Promise<number> {
  const suite = loadSuite(file);
  const split = loadSplit(parseDatasetSpec(suite.dataset), suite.seed);
  takeEvaluation(split.test, suite.evaluationSize, `${file}: evaluationSize`);
  // The check builds the substitutes' networks untrained, some of them through tfjs.
  await ensureBackend();
  checkModelRelatedAttacks(suite, { imageShape: split.test.imageShape, classes: split.test.classNames.length }, file);
  const unbuilt: string[] = [];
  for (const name of suite.targets) {
    const path = targetDescriptorPath(name, targetsDir);
    if (!existsSync(path)) {
      unbuilt.push(name);
      continue;
    }
    const target = loadTarget(path);
    await checkTargetAgainstModel(target);
    checkDatasetFitsTarget(target, split.test);
    checkDatasetFitsTarget(target, split.train);
  }
  const cells = expandGrid(suite).length;
  const queryCells = expandQueryGrid(suite).length;
  const replicates = replicateSeeds(suite).length;
  reporter.info(
    `${file}: valid suite "${suite.name}", ${cells + queryCells} cells (${cells} transfer, ${queryCells} query)` +
      (replicates > 1 ? ` in ${replicates} replicates${retrainsTargets(suite) ? ' retraining the targets' : ''}` : '') +
      (unbuilt.length > 0
        ? `; not built in ${targetsDir}, so not checked against their models: ${unbuilt.join(', ')}`
        : ''),
  );
  return 0;
}
