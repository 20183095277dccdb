#!/usr/bin/env node
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { advganTrainingBenchmark } from './advgan-training.js';
import { attacksBenchmark } from './attacks.js';
import { computeBenchmark } from './compute.js';
import { mergeBenchmark } from './merge.js';
import { networkTrainingBenchmark } from './network-training.js';
import { onnxGradientBenchmark } from './onnx-gradient.js';
import { oracleBenchmark } from './oracle.js';
import { queriesBenchmark } from './queries.js';
import { surrogateBenchmark } from './surrogate.js';

/** The parts of `npm run bench:perf`; each writes reports/perf/<part>.json. */
const PARTS: Record<
  string,
  (options: {
    quick: boolean;
    log: (line: string) => void;
    modelC?: string;
    skipVit?: boolean;
  }) => Promise<Record<string, unknown>>
> = {
  compute: computeBenchmark,
  attacks: attacksBenchmark,
  oracle: oracleBenchmark,
  'onnx-gradient': onnxGradientBenchmark,
  queries: queriesBenchmark,
  merge: mergeBenchmark,
  surrogate: surrogateBenchmark,
  'advgan-training': advganTrainingBenchmark,
  'network-training': networkTrainingBenchmark,
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      part: { type: 'string', multiple: true },
      out: { type: 'string', default: join('reports', 'perf') },
      quick: { type: 'boolean', default: false },
      // surrogate part: model C's descriptor (e.g. the zoo's targets/model-c/target.json); default: untrained model C
      // exported here.
      'model-c': { type: 'string' },
      // surrogate part: leave out the ViT-small (its PyTorch leg alone takes over half an hour on this machine).
      'skip-vit': { type: 'boolean', default: false },
    },
  });
  const parts = values.part ?? Object.keys(PARTS);
  for (const part of parts) {
    if (PARTS[part] === undefined)
      throw new Error(`--part: unknown part "${part}"; known parts: ${Object.keys(PARTS).join(', ')}`);
  }
  mkdirSync(values.out, { recursive: true });
  for (const part of parts) {
    const report = await (PARTS[part] as (typeof PARTS)[string])({
      quick: values.quick,
      skipVit: values['skip-vit'],
      log: (line) => process.stdout.write(`${line}\n`),
      ...(values['model-c'] !== undefined ? { modelC: values['model-c'] } : {}),
    });
    const file = join(values.out, `${part}.json`);
    // Written beside and renamed, so an interrupted run never leaves half a file.
    writeFileSync(`${file}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
    process.stdout.write(`wrote ${file}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:perf: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
