import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resultFiles } from '../src/records/results.js';
import { templateRecord, writeSyntheticRun } from './synthetic-run.js';

/** A real cell record (8 example images, as the default `examples` keeps) to build the runs from. */
const TEMPLATE = fileURLToPath(new URL('../../reports/repro-kurakin/results-1-of-1.jsonl', import.meta.url));
const MERGE = fileURLToPath(new URL('../src/runner/merge.js', import.meta.url));
const REPORT = fileURLToPath(new URL('../src/report/report.js', import.meta.url));
const GRIDS = fileURLToPath(new URL('../src/report/grids.js', import.meta.url));
const CELLS_PER_SHARD = 10000;

/**
 * Merges synthetic runs of 16, 32 and 64 shards of 10,000 cells, each merge in a fresh process
 * (peak RSS is the process's own), as `transferbench merge DIR` does it: the CSVs and manifest,
 * then the report (plots, grids, index.html), each timed.
 */
export async function mergeBenchmark(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<Record<string, unknown>> {
  const template = templateRecord(TEMPLATE);
  const runs: Record<string, unknown>[] = [];
  for (const shards of options.quick ? [4, 8] : [16, 32, 64]) {
    const dir = mkdtempSync(join(tmpdir(), `transferbench-merge-${shards}-`));
    try {
      writeSyntheticRun(dir, { shards, cellsPerShard: CELLS_PER_SHARD }, template);
      const bytes = resultFiles(dir).reduce((sum, f) => sum + statSync(f).size, 0);
      // What `transferbench merge DIR` does: merge, then the report from the CSVs and the grids' cells.
      const script = `import { mergeResults } from ${JSON.stringify(MERGE)};
import { writeReport } from ${JSON.stringify(REPORT)};
import { GridCollector } from ${JSON.stringify(GRIDS)};
const clock = () => ({ wall: performance.now(), cpu: process.cpuUsage() });
const since = (t) => {
  const used = process.cpuUsage(t.cpu);
  return { seconds: (performance.now() - t.wall) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
};
const start = clock();
const grids = new GridCollector();
const merged = mergeResults(${JSON.stringify(dir)}, { tables: false, grids });
const merge = since(start);
const reportStart = clock();
const files = await writeReport(${JSON.stringify(dir)}, { grids });
const report = since(reportStart);
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(JSON.stringify({ cells: merged.cells, merge, report, reportFiles: files.length, peakRssMiB }));`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      });
      if (child.status !== 0) throw new Error(`merge of ${shards} shards failed: ${child.stderr}`);
      type Phase = { seconds: number; cpuSeconds: number };
      const measured = JSON.parse(child.stdout) as {
        cells: number;
        merge: Phase;
        report: Phase;
        reportFiles: number;
        peakRssMiB: number;
      };
      const round = (x: number) => Math.round(x * 10) / 10;
      const page = statSync(join(dir, 'index.html')).size;
      const run = {
        shards,
        cells: measured.cells,
        inputGiB: Math.round((bytes / 2 ** 30) * 100) / 100,
        // Wall time moves with whatever else shares the machine; CPU time much less.
        seconds: round(measured.merge.seconds),
        cpuSeconds: round(measured.merge.cpuSeconds),
        cpuMicrosecondsPerCell: Math.round((measured.merge.cpuSeconds / measured.cells) * 1e6),
        reportSeconds: round(measured.report.seconds),
        reportCpuSeconds: round(measured.report.cpuSeconds),
        reportCpuMicrosecondsPerCell: Math.round((measured.report.cpuSeconds / measured.cells) * 1e6),
        reportFiles: measured.reportFiles,
        pageMiB: Math.round((page / 2 ** 20) * 10) / 10,
        peakRssMiB: Math.round(measured.peakRssMiB),
      };
      options.log(
        `merge ${shards} shards x ${CELLS_PER_SHARD} cells (${run.inputGiB} ` +
          `GiB of records): ${run.seconds} s wall, ${run.cpuSeconds} s ` +
          `CPU (${run.cpuMicrosecondsPerCell} us/cell); report ${run.reportSeconds} ` +
          `s wall, ${run.reportCpuSeconds} s CPU (${run.reportCpuMicrosecondsPerCell} ` +
          `us/cell); peak RSS ${run.peakRssMiB} MiB`,
      );
      runs.push(run);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return {
    machine: { cpus: availableParallelism(), loadAverage: loadavg().map((l) => Math.round(l * 10) / 10) },
    what:
      'transferbench merge with its report (CSVs and manifest, then ' +
      'plots, grids and index.html from the CSVs) of synthetic runs: ' +
      'every record a copy of a real repro-kurakin cell record with ' +
      'its 8 example images, its identity and counts varied per cell; ' +
      'shard files in reverse cell order',
    recordBytes: JSON.stringify(template).length,
    runs,
  };
}
