import { createHash } from 'node:crypto';
import type { LabelSource } from '../attacks/index.js';
import { TransferbenchError } from '../common/errors.js';
import { canonicalJson, ownedModelLabel, type TrainingConfig } from '../substitutes/index.js';
import { DEFAULT_TRAINING, type Suite } from './suite.js';

/** One substitute the grid needs: shared by every cell of its target. */
export interface SubstituteSpec {
  readonly strategy: string;
  readonly architecture: string;
  readonly budget: number;
  readonly params: Readonly<Record<string, number | string>>;
  readonly training: TrainingConfig;
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
  /** Input transformations stacked on the attack (none for most). */
  readonly transforms: readonly string[];
  readonly attackParams: Readonly<Record<string, unknown>>;
  readonly eps: number;
  readonly labelSource: LabelSource;
  /** Key of the (target, substitute) group: a shard runs whole groups, so substitutes train once. */
  readonly group: string;
}

export function suiteHash(suite: Suite): string {
  const { output: _output, $schema: _schema, ...meaningful } = suite;
  return createHash('sha256').update(canonicalJson(meaningful)).digest('hex').slice(0, 16);
}

/** Expands a suite into its cells, in a stable order: target, substitute, attack, eps, label source. */
export function expandGrid(suite: Suite): Cell[] {
  const cells: Cell[] = [];
  const shared = { dataset: suite.dataset, seed: suite.seed, evaluationSize: suite.evaluationSize, oracle: suite.oracle };
  for (const target of suite.targets) {
    for (const s of suite.substitutes) {
      for (const architecture of s.architectures ?? [ownedModelLabel(String(s.params?.['model']))]) {
        for (const budget of s.budgets) {
          const substitute: SubstituteSpec = { strategy: s.strategy, architecture, budget, params: s.params ?? {}, training: { ...DEFAULT_TRAINING, ...s.training } };
          const group = createHash('sha256').update(canonicalJson({ shared, target, substitute })).digest('hex').slice(0, 16);
          for (const attack of suite.attacks) {
            for (const eps of attack.eps) {
              for (const labelSource of suite.labelSources) {
                const transforms = attack.transforms ?? [];
                // Transforms enter the configuration only when there are some, so cells without them keep their ids.
                const config = { shared, target, substitute, attack: attack.name, attackParams: attack.params ?? {}, eps, labelSource, ...(transforms.length > 0 ? { transforms } : {}) };
                const id = createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 16);
                cells.push({ id, index: cells.length, target, substitute, attack: attack.name, transforms, attackParams: attack.params ?? {}, eps, labelSource, group });
              }
            }
          }
        }
      }
    }
  }
  const seen = new Set<string>();
  for (const cell of cells) {
    if (seen.has(cell.id)) throw new TransferbenchError('BAD_CONFIG', `suite ${suite.name}: two cells have the same configuration (cell ${cell.index}); remove the repeated entry`);
    seen.add(cell.id);
  }
  return cells;
}

export interface Shard {
  /** 1-based. */
  readonly k: number;
  readonly n: number;
}

export function parseShard(text: string | undefined): Shard {
  if (text === undefined) return { k: 1, n: 1 };
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const k = Number(match?.[1]);
  const n = Number(match?.[2]);
  if (!match || k < 1 || n < 1 || k > n) throw new TransferbenchError('BAD_OPTION', `--shard: got ${JSON.stringify(text)}, expected K/N with 1 <= K <= N (e.g. 2/3)`);
  return { k, n };
}

/**
 * The cells of shard k of n: whole (target, substitute) groups dealt round-robin in the order
 * they first appear, so each substitute is trained by one shard only and shards are balanced.
 */
export function shardCells(cells: readonly Cell[], shard: Shard): Cell[] {
  const groups = [...new Set(cells.map((c) => c.group))];
  const mine = new Set(groups.filter((_, i) => i % shard.n === shard.k - 1));
  return cells.filter((c) => mine.has(c.group));
}
