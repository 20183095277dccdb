import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resultFiles } from '../../records/results.js';
import { templateRecord, writeSyntheticRun } from './synthetic-run.js';

/** A real cell record (8 example images, as the default `examples` keeps) to build the runs from. */
const TEMPLATE = fileURLToPath(new URL('../../../../reports/repro-kurakin/results-1-of-1.jsonl', import.meta.url));
const MERGE = fileURLToPath(new URL('../merge.js', import.meta.url));
const CELLS_PER_SHARD = 10000;

/**
 * Merges synthetic runs of 16, 32 and 64 shards of 10,000 cells, each merge in a fresh process
 * (peak RSS is the process's own), timing mergeResults alone; the report page is not written.
 */
export async function mergeBenchmark(options: { quick: boolean; log: (line: string) => void }): Promise<Record<string, unknown>> {
  const template = templateRecord(TEMPLATE);
  const runs: Record<string, unknown>[] = [];
  for (const shards of options.quick ? [4, 8] : [16, 32, 64]) {
    const dir = mkdtempSync(join(tmpdir(), `transferbench-merge-${shards}-`));
    try {
      writeSyntheticRun(dir, { shards, cellsPerShard: CELLS_PER_SHARD }, template);
      const bytes = resultFiles(dir).reduce((sum, f) => sum + statSync(f).size, 0);
      const script = `import { mergeResults } from ${JSON.stringify(MERGE)};
const started = performance.now();
const cpu = process.cpuUsage();
const merged = mergeResults(${JSON.stringify(dir)}, { tables: false });
const seconds = (performance.now() - started) / 1000;
const used = process.cpuUsage(cpu);
process.stdout.write(JSON.stringify({ cells: merged.cells, seconds, cpuSeconds: (used.user + used.system) / 1e6, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (child.status !== 0) throw new Error(`merge of ${shards} shards failed: ${child.stderr}`);
      const measured = JSON.parse(child.stdout) as { cells: number; seconds: number; cpuSeconds: number; peakRssMiB: number };
      const run = {
        shards,
        cells: measured.cells,
        inputGiB: Math.round((bytes / 2 ** 30) * 100) / 100,
        // Wall time moves with whatever else shares the machine; CPU time much less.
        seconds: Math.round(measured.seconds * 10) / 10,
        cpuSeconds: Math.round(measured.cpuSeconds * 10) / 10,
        cpuMicrosecondsPerCell: Math.round((measured.cpuSeconds / measured.cells) * 1e6),
        peakRssMiB: Math.round(measured.peakRssMiB),
      };
      options.log(`merge ${shards} shards x ${CELLS_PER_SHARD} cells (${run.inputGiB} GiB of records): ${run.seconds} s wall, ${run.cpuSeconds} s CPU (${run.cpuMicrosecondsPerCell} us/cell), peak RSS ${run.peakRssMiB} MiB`);
      runs.push(run);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return {
    machine: { cpus: availableParallelism(), loadAverage: loadavg().map((l) => Math.round(l * 10) / 10) },
    what: 'transferbench merge (CSVs and manifest, no report page) of synthetic runs: every record a copy of a real repro-kurakin cell record with its 8 example images, its identity and counts varied per cell; shard files in reverse cell order',
    recordBytes: JSON.stringify(template).length,
    runs,
  };
}
