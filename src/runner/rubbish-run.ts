import { OraclePool, TargetOracle } from '../oracle/index.js';
import { loadTarget } from '../targets/descriptor.js';
import { targetDescriptorPath } from './targets.js';
import { expandGrid, shardCells, type Shard } from './grid.js';
import { appendJsonLine } from '../common/files.js';
import { readRubbish, rubbishFile } from '../records/rubbish.js';
import { measureRubbish } from './rubbish.js';
import type { Suite } from './suite.js';

/**
 * Measures the suite's rubbish-class inputs on the targets this shard owns: a target belongs to
 * the shard that runs its first (target, substitute) group, so merged shards hold each target
 * once, as a single run would. Targets already in the shard's file (a resumed run) are skipped.
 */
export async function measureRubbishOfShard(
  suite: Suite,
  hash: string,
  names: ReadonlyMap<string, string>,
  options: { shard: Shard; outDir: string; targetsDir: string },
): Promise<void> {
  const spec = suite.rubbish;
  if (spec === undefined) return;
  const all = expandGrid(suite);
  const mine = new Set(shardCells(all, options.shard).map((c) => c.group));
  const file = rubbishFile(options.outDir, options.shard);
  const done = new Set(readRubbish(file, true).map((r) => r.target));
  const owned = suite.targets.filter((t) => {
    const first = all.find((c) => c.target === t);
    return first !== undefined && mine.has(first.group) && !done.has(names.get(t) ?? t);
  });
  if (owned.length === 0) return;
  const pool = new OraclePool({ workers: 1, isolation: suite.oracle.isolation });
  try {
    for (const owner of owned) {
      const target = loadTarget(targetDescriptorPath(owner, options.targetsDir));
      const oracle = new TargetOracle(pool, target, { mode: 'probabilities' });
      const result = await measureRubbish(
        oracle,
        { name: target.descriptor.name, classNames: target.descriptor.classNames },
        spec,
        suite.seed,
        hash,
      );
      appendJsonLine(file, result);
    }
  } finally {
    await pool.close();
  }
}
