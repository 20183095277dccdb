import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TransferbenchError } from '../common/errors.js';
import { atomicWrite } from '../common/files.js';
import { assignGroups, type Cell, type Shard } from './grid.js';

/**
 * How a shard's groups were dealt, written when the shard starts (`shard-K-of-N.json`): every
 * shard of a run must be dealt the same way, or some groups run twice and others never.
 */
export interface ShardPlan {
  /** "K/N". */
  readonly shard: string;
  /** --shard-by: "round-robin" or "cost". */
  readonly shardBy: string;
  /** A hash of the whole suite's group -> shard dealing: equal in every shard of one run. */
  readonly dealing: string;
}

export function shardPlanFile(dir: string, shard: Pick<Shard, 'k' | 'n'>): string {
  return join(dir, `shard-${shard.k}-of-${shard.n}.json`);
}

export function shardPlan(cells: readonly Cell[], shard: Shard): ShardPlan {
  const owner = assignGroups([...new Set(cells.map((c) => c.group))], shard.n, shard.costs);
  return {
    shard: `${shard.k}/${shard.n}`,
    shardBy: shard.costs === undefined ? 'round-robin' : 'cost',
    dealing: createHash('sha256')
      .update(JSON.stringify([...owner.entries()]))
      .digest('hex')
      .slice(0, 16),
  };
}

function readPlan(file: string): ShardPlan {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ShardPlan;
  } catch {
    throw new TransferbenchError('BAD_CONFIG', `${file}: not a shard plan; the file was edited or corrupted`);
  }
}

/** Writes this shard's plan; a resumed shard must be dealt as it was when it started. */
export function recordShardPlan(dir: string, plan: ShardPlan, shard: Shard, resume: boolean): void {
  const file = shardPlanFile(dir, shard);
  if (resume && existsSync(file)) {
    const before = readPlan(file);
    if (before.shardBy !== plan.shardBy)
      throw new TransferbenchError(
        'BAD_OPTION',
        `${file}: shard ${plan.shard} was started with --shard-by ${before.shardBy}; ` +
          `resume it with --shard-by ${before.shardBy}, or --out another folder`,
      );
    if (before.dealing !== plan.dealing)
      throw new TransferbenchError(
        'BAD_OPTION',
        `${file}: shard ${plan.shard} was dealt by another cost model (the targets' descriptors changed since ` +
          'it started); resume it with the targets it started with, or --out another folder',
      );
    return;
  }
  atomicWrite(file, `${JSON.stringify(plan, null, 2)}\n`, 'the shard plan');
}

/**
 * Merge's first check: all shards of one N and dealt the same way. Without it, shards dealt
 * round robin and by cost overlap, and merge would report their cells as repeated.
 */
export function checkShardPlans(dir: string, shardFiles: readonly string[]): void {
  const counts = [...new Set(shardFiles.map((f) => /-of-(\d+)\.jsonl$/.exec(f)?.[1]).filter((n) => n !== undefined))];
  if (counts.length > 1)
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${dir}: holds shards of runs split ${counts.map((n) => `${n} ways`).join(' and ')}; every shard of a run ` +
        'must use the same --shard K/N: move the shards of the other run to their own folder',
    );
  const plans = readdirSync(dir)
    .filter((f) => /^shard-\d+-of-\d+\.json$/.test(f))
    .sort((a, b) => Number(/\d+/.exec(a)?.[0]) - Number(/\d+/.exec(b)?.[0]))
    .map((f) => readPlan(join(dir, f)));
  const first = plans[0];
  const other = plans.find((p) => p.shardBy !== first?.shardBy || p.dealing !== first?.dealing);
  if (first === undefined || other === undefined) return;
  const [k, n] = other.shard.split('/');
  throw new TransferbenchError(
    'BAD_CONFIG',
    other.shardBy !== first.shardBy
      ? `${dir}: shard ${other.shard} was dealt with --shard-by ${other.shardBy}, shard ${first.shard} with ` +
          `--shard-by ${first.shardBy}; every shard of a run must be dealt the same way: remove shard ` +
          `${other.shard}'s files (*-${k}-of-${n}.*) and rerun it with --shard-by ${first.shardBy}`
      : `${dir}: shards ${first.shard} and ${other.shard} were dealt by different cost models (the targets' ` +
          `descriptors differed); remove shard ${other.shard}'s files (*-${k}-of-${n}.*) and rerun it with ` +
          `the targets shard ${first.shard} used`,
  );
}
