import { createHash } from 'node:crypto';
import type { LabelSource, TargetClassSource } from '../attacks/index.js';
import { TransferbenchError } from '../common/errors.js';
import { NETWORKS } from '../compute/network/architectures.js';
import { canonicalJson, ownedModelLabel, type TrainingConfig } from '../substitutes/index.js';
import { DEFAULT_TRAINING, replicateSeeds, retrainsTargets, type Suite } from './suite-types.js';

/** One substitute the grid needs: shared by every cell of its target. */
export interface SubstituteSpec {
  readonly strategy: string;
  readonly architecture: string;
  readonly budget: number;
  readonly params: Readonly<Record<string, number | string>>;
  readonly training: TrainingConfig;
  /** An ensemble's members (strategy "ensemble"): its architecture names them, its budget is their sum. */
  readonly members?: readonly SubstituteSpec[];
}

/** The substitute specs of a suite entry: one per architecture and budget, or one ensemble of its members. */
function substituteSpecs(entry: Suite['substitutes'][number]): SubstituteSpec[] {
  const spec = (
    strategy: string,
    architecture: string,
    budget: number,
    params?: Readonly<Record<string, number | string>>,
    training?: Partial<TrainingConfig>,
  ): SubstituteSpec => ({
    strategy,
    architecture,
    budget,
    params: params ?? {},
    // The architecture's usual settings (a preset) under what the suite says.
    training: {
      ...DEFAULT_TRAINING,
      ...(NETWORKS.has(architecture) ? NETWORKS.get(architecture).preset : {}),
      ...training,
    },
  });
  if (entry.members !== undefined) {
    const members = entry.members.map((m) => spec(m.strategy, m.architecture, m.budget, m.params, m.training));
    const name = members.map((m) => `${m.strategy}/${m.architecture}/${m.budget}`).join('+');
    // The combination enters the params only when set, so the default keeps its group keys.
    return [
      {
        ...spec(
          entry.strategy,
          name,
          members.reduce((s, m) => s + m.budget, 0),
          entry.combine ? { combine: entry.combine } : undefined,
        ),
        members,
      },
    ];
  }
  // A pretrained surrogate has no architecture of ours: it is named after its descriptor.
  const architectures =
    entry.architectures ?? (entry.strategy === 'pretrained' ? [ownedModelLabel(String(entry.params?.model))] : []);
  return architectures.flatMap((architecture) =>
    (entry.budgets ?? []).map((budget) => spec(entry.strategy, architecture, budget, entry.params, entry.training)),
  );
}

/** One cell of the grid: a target, a substitute, an attack at one eps, one label source. */
export interface Cell {
  /** Hash of the cell's full configuration (and the suite settings it depends on). */
  readonly id: string;
  /** Position in the suite's stable order. */
  readonly index: number;
  readonly target: string;
  readonly substitute: SubstituteSpec;
  readonly attack: string;
  /** Input transformations stacked on the attack (none when absent). */
  readonly transforms?: readonly string[];
  readonly attackParams: Readonly<Record<string, unknown>>;
  readonly eps: number;
  readonly labelSource: LabelSource;
  /** Targeted cells: where the target classes come from. */
  readonly targetClass?: TargetClassSource;
  /** Key of the (target, substitute, replicate) group: a shard runs whole groups, so substitutes train once. */
  readonly group: string;
  /** Which replicate (0-based, in the suite's order), and its seed: substitutes, attacks and evaluation images. */
  readonly replicate: number;
  readonly seed: number;
}

export function suiteHash(suite: Suite): string {
  const { output: _output, $schema: _schema, ...meaningful } = suite;
  return createHash('sha256').update(canonicalJson(meaningful)).digest('hex').slice(0, 16);
}

/**
 * A suite's cells one at a time, in a stable order: replicate, target, substitute, attack, eps,
 * label source. Merging a run of any size walks them without holding them all. The replicate
 * whose seed is the suite's has the cells (ids and indices) of the suite without replicates.
 */
export function* gridCells(suite: Suite): Generator<Cell> {
  let index = 0;
  const seeds = replicateSeeds(suite);
  for (const [replicate, seed] of seeds.entries()) {
    for (const cell of replicateCells(suite, replicate, seed, index)) {
      index++;
      yield cell;
    }
  }
}

/** The suite's oracle settings without `isolation`, which no answer depends on. */
function withoutIsolation(oracle: Suite['oracle']): Omit<Suite['oracle'], 'isolation'> {
  const { isolation: _, ...rest } = oracle;
  return rest;
}

function* replicateCells(suite: Suite, replicate: number, seed: number, first: number): Generator<Cell> {
  let index = first;
  const shared = {
    dataset: suite.dataset,
    seed: suite.seed,
    evaluationSize: suite.evaluationSize,
    // Not the isolation: where the sessions run changes no answer, so it must not change a cell's id.
    oracle: withoutIsolation(suite.oracle),
    // Only another replicate's seed enters the hash, so the suite's own keeps the ids of a run without replicates.
    ...(seed !== suite.seed ? { replicateSeed: seed } : {}),
    ...(seed !== suite.seed && retrainsTargets(suite) ? { retrainTargets: true } : {}),
  };
  for (const target of suite.targets) {
    for (const s of suite.substitutes) {
      for (const substitute of substituteSpecs(s)) {
        const group = createHash('sha256')
          .update(canonicalJson({ shared, target, substitute }))
          .digest('hex')
          .slice(0, 16);
        for (const attack of suite.attacks) {
          if (!runsOn(attack, substitute)) continue;
          const transforms = attack.transforms ?? [];
          for (const eps of attack.eps) {
            for (const labelSource of suite.labelSources) {
              // Transforms enter the configuration only when there are some, so cells without them keep their ids.
              const config = {
                shared,
                target,
                substitute,
                attack: attack.name,
                attackParams: attack.params ?? {},
                eps,
                labelSource,
                ...(transforms.length > 0 ? { transforms } : {}),
                ...(attack.targetClass !== undefined ? { targetClass: attack.targetClass } : {}),
              };
              const id = createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 16);
              yield {
                id,
                index: index++,
                target,
                substitute,
                attack: attack.name,
                transforms,
                attackParams: attack.params ?? {},
                eps,
                labelSource,
                ...(attack.targetClass !== undefined ? { targetClass: attack.targetClass } : {}),
                group,
                replicate,
                seed,
              };
            }
          }
        }
      }
    }
  }
}

/** Whether an attack entry runs on a substitute: every one, unless the entry lists architectures. */
function runsOn(attack: Suite['attacks'][number], substitute: SubstituteSpec): boolean {
  return attack.architectures === undefined || attack.architectures.includes(substitute.architecture);
}

/** The architectures of a suite's substitutes, as cells and leaderboards name them (what `architectures` matches). */
export function suiteArchitectures(suite: Suite): string[] {
  return [...new Set(suite.substitutes.flatMap((s) => substituteSpecs(s).map((spec) => spec.architecture)))];
}

/** How many cells a suite has, without expanding it. */
export function gridSize(suite: Suite): number {
  const perTarget = suite.substitutes
    .flatMap(substituteSpecs)
    .reduce((n, spec) => n + suite.attacks.filter((a) => runsOn(a, spec)).reduce((m, a) => m + a.eps.length, 0), 0);
  return replicateSeeds(suite).length * suite.targets.length * perTarget * suite.labelSources.length;
}

/** Expands a suite into its cells (see gridCells), refusing two cells with the same configuration. */
export function expandGrid(suite: Suite): Cell[] {
  const cells = [...gridCells(suite)];
  const seen = new Set<string>();
  for (const cell of cells) {
    if (seen.has(cell.id))
      throw new TransferbenchError(
        'BAD_CONFIG',
        `suite ${suite.name}: two cells have the same configuration (cell ${cell.index}); remove the repeated entry`,
      );
    seen.add(cell.id);
  }
  return cells;
}

export interface Shard {
  /** 1-based. */
  readonly k: number;
  readonly n: number;
  /**
   * Predicted work of each (target, substitute) group (see balance.ts): when given, groups are
   * dealt by cost instead of round robin. Every shard of a run must be given the same costs.
   */
  readonly costs?: ReadonlyMap<string, number>;
}

/**
 * The shard (0-based) of each group, groups given in the order they first appear. Round robin by
 * default; with costs, longest processing time first: groups by falling cost (ties in suite
 * order) each to the least loaded shard (ties to the lowest), which is deterministic and keeps
 * the largest shard within 4/3 of the best possible split.
 */
export function assignGroups(
  groups: readonly string[],
  n: number,
  costs?: ReadonlyMap<string, number>,
): Map<string, number> {
  if (costs === undefined) return new Map(groups.map((g, i) => [g, i % n]));
  const cost = (g: string) => costs.get(g) ?? 0;
  const order = groups.map((g, i) => ({ g, i })).sort((a, b) => cost(b.g) - cost(a.g) || a.i - b.i);
  const loads = new Array<number>(n).fill(0);
  const owner = new Map<string, number>();
  for (const { g } of order) {
    const lightest = loads.indexOf(Math.min(...loads));
    owner.set(g, lightest);
    loads[lightest] = (loads[lightest] ?? 0) + cost(g);
  }
  return owner;
}

export function parseShard(text: string | undefined): Shard {
  if (text === undefined) return { k: 1, n: 1 };
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const k = Number(match?.[1]);
  const n = Number(match?.[2]);
  if (!match || k < 1 || n < 1 || k > n)
    throw new TransferbenchError(
      'BAD_OPTION',
      `--shard: got ${JSON.stringify(text)}, expected K/N with 1 <= K <= N (e.g. 2/3)`,
    );
  return { k, n };
}

/**
 * The cells of shard k of n: whole (target, substitute) groups, so each substitute is trained by
 * one shard only, dealt round robin in the order they first appear or, with `shard.costs`, by
 * predicted cost (assignGroups).
 */
export function shardCells(cells: readonly Cell[], shard: Shard): Cell[] {
  const owner = assignGroups([...new Set(cells.map((c) => c.group))], shard.n, shard.costs);
  return cells.filter((c) => owner.get(c.group) === shard.k - 1);
}
