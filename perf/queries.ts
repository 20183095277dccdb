import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QUERY_ATTACKS, runQueryAttack } from '../src/query-attacks/index.js';
import type { Norm } from '../src/attacks/types.js';
import { Random } from '../src/common/random.js';
import { OraclePool, TargetOracle, type OracleMode } from '../src/oracle/index.js';
import { machineInfo, median } from './measure.js';
import { benchTarget } from './oracle.js';

/**
 * The `queries` part of `npm run bench:perf` (reports/perf/queries.json): oracle throughput while
 * a query attack runs, against the pool alone at the same batch. The eps is small enough that few
 * images succeed, so nearly every image spends its whole budget (the share is recorded).
 */
export async function queriesBenchmark(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<Record<string, unknown>> {
  const dir = join(tmpdir(), `transferbench-queries-bench-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const count = 256;
  const budget = options.quick ? 20 : 60;
  const repeats = options.quick ? 2 : 3;
  const random = new Random(0);
  const images = Float32Array.from({ length: count * 784 }, () => random.next());
  const ids = Array.from({ length: count }, (_, i) => i);
  const results: Record<string, unknown>[] = [];
  // Square and HopSkipJump at both stream counts and pool sizes; every other attack without a surrogate at the
  // default (2 streams) on the 2-worker pool, in its first norm, at an eps too small to succeed.
  const detailed = ['square-linf', 'hop-skip-jump'];
  const settings: { attack: string; norm: Norm; mode: OracleMode; eps: number }[] = [
    ...detailed,
    ...QUERY_ATTACKS.names().filter((name) => !detailed.includes(name)),
  ]
    .map((name) => QUERY_ATTACKS.get(name))
    .filter((a) => a.kind !== 'hybrid')
    .map((a) => {
      const norm = a.name === 'hop-skip-jump' ? 'l2' : (a.norms[0] as Norm);
      return {
        attack: a.name,
        norm,
        mode: a.kind === 'decision-based' ? 'label' : 'probabilities',
        eps: norm === 'linf' ? 1e-4 : 1e-9,
      };
    });
  for (const model of ['model-c', 'mlp'] as const) {
    const { target } = benchTarget(model, dir);
    for (const workers of [1, 2]) {
      const pool = new OraclePool({ workers, minChunk: 64 });
      try {
        const labels = (await new TargetOracle(pool, target, { mode: 'label' }).query(images, 'evaluation')).labels;
        const bare: number[] = [];
        for (let r = 0; r < repeats; r++) {
          const oracle = new TargetOracle(pool, target, { mode: 'probabilities' });
          const start = performance.now();
          for (let k = 0; k < budget; k++)
            await Promise.all([
              oracle.query(images.subarray(0, (count / 2) * 784), 'evaluation'),
              oracle.query(images.subarray((count / 2) * 784), 'evaluation'),
            ]);
          bare.push((budget * count) / ((performance.now() - start) / 1000));
        }
        results.push({
          model,
          workers,
          setting: `pool alone, ${count} images per round in 2 requests`,
          queriesPerSecond: { median: median(bare), samples: bare },
        });
        for (const s of settings) {
          if (!detailed.includes(s.attack) && workers !== 2) continue;
          for (const streams of detailed.includes(s.attack) ? [1, 2] : [2]) {
            const samples: number[] = [];
            const spentShare: number[] = [];
            for (let r = 0; r < repeats; r++) {
              const oracle = new TargetOracle(pool, target, { mode: s.mode });
              const start = performance.now();
              const outcome = await runQueryAttack({
                attack: s.attack,
                oracle: oracle.withImageBudget(budget),
                images,
                labels,
                ids,
                eps: s.eps,
                norm: s.norm,
                seed: r,
                streams,
              });
              const spent = outcome.images.reduce((n, i) => n + i.queries, 0);
              samples.push(spent / ((performance.now() - start) / 1000));
              spentShare.push(spent / (count * budget));
            }
            results.push({
              model,
              workers,
              setting: `${s.attack} (${s.mode}), ${count} images, ${streams} request stream(s)`,
              attack: s.attack,
              streams,
              queriesPerSecond: { median: median(samples), samples },
              // The attack's own work (everything but inference), as a share of the wall clock against the pool alone.
              overheadShare: Math.max(0, 1 - median(samples) / median(bare)),
              shareOfBudgetSpent: median(spentShare),
            });
            options.log(
              `queries ${model} pool${workers} ${s.attack} streams ${streams}: ` +
                `${median(samples).toFixed(0)} queries/s (pool alone ${median(bare).toFixed(0)})`,
            );
          }
        }
      } finally {
        await pool.close();
      }
    }
  }
  return {
    part: 'queries',
    measuredAt: new Date().toISOString(),
    machine: machineInfo(),
    imagesInFlight: count,
    perImageBudget: budget,
    results,
    notes: [
      'Untrained model C and MLP exported to ONNX (speed does not depend on the weights); uniform-noise images.',
      'Queries/s = queries the oracle charged / wall time of runQueryAttack, ' +
        "including the attack's own JS work between requests.",
      'HopSkipJump sends its gradient probes (100 per image) in one ' +
        'request per image; Square one row per image per request.',
    ],
  };
}
