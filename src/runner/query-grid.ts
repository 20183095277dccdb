import { createHash } from 'node:crypto';
import { ATTACKS, NORMS, type Norm } from '../attacks/index.js';
import { QUERY_ATTACKS, resolveQueryParams } from '../query-attacks/index.js';
import { TransferbenchError } from '../common/errors.js';
import { ORACLE_MODES, type OracleMode } from '../oracle/oracle.js';
import { canonicalJson, ownedModelLabel, STRATEGIES } from '../substitutes/index.js';
import { DEFAULT_TRAINING, type Suite } from './suite-types.js';

export type { QueryAttackSpec, QuerySuiteSpec } from './suite-types.js';
import type { Shard, SubstituteSpec } from './grid.js';

/** One query-attack cell: a target, an oracle mode, an attack at one eps, with a substitute for hybrids. */
export interface QueryCell {
  readonly id: string;
  readonly index: number;
  readonly target: string;
  readonly oracleMode: OracleMode;
  readonly attack: string;
  readonly norm: Norm;
  readonly eps: number;
  readonly params: Readonly<Record<string, number | string>>;
  /** Transfer attack whose example the attack starts from (null: the clean image). */
  readonly start: string | null;
  readonly substitute: SubstituteSpec | null;
  /** Whether success checks spend the image's budget (else they are charged apart). */
  readonly countSuccessChecks: boolean;
  readonly budgets: readonly number[];
  readonly images: number;
  /** Cells sharing a target, mode and substitute run together; shards take whole groups. */
  readonly group: string;
}

export function querySuiteSchema(): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['budgets', 'attacks'],
    description: 'query attacks and hybrids, spending per-image budgets through the oracle',
    properties: {
      budgets: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { type: 'integer', minimum: 1 },
        description: 'per-image query budgets; the attacks run at the largest',
      },
      images: {
        type: 'integer',
        minimum: 1,
        description: 'images attacked (the first of the evaluation set; default all)',
      },
      oracles: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...ORACLE_MODES] } },
      attacks: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'eps'],
          properties: {
            name: { type: 'string', enum: QUERY_ATTACKS.names() },
            eps: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'number', exclusiveMinimum: 0 } },
            norm: { type: 'string', enum: [...NORMS] },
            params: { type: 'object', additionalProperties: { type: ['number', 'string'] } },
            start: {
              type: 'string',
              enum: ATTACKS.names(),
              description: "hybrid: start from this transfer attack's example on each substitute",
            },
            oracles: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { type: 'string', enum: [...ORACLE_MODES] },
              description: 'only these of the query oracle modes',
            },
            substitutes: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { type: 'string', enum: STRATEGIES.names() },
              description: 'hybrids: only the substitutes of these strategies',
            },
            ensemble: {
              type: 'boolean',
              description:
                'guided hybrids: one cell consulting all the chosen substitutes at once (default: one per substitute)',
            },
            budgets: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { type: 'integer', minimum: 1 },
              description: "this entry's budgets, some of queryAttacks.budgets (default all; it runs at its largest)",
            },
            countSuccessChecks: {
              type: 'boolean',
              description: 'whether success-check queries spend the budget (default true; false charges them apart)',
            },
          },
        },
      },
    },
  };
}

/** Checks what the schema cannot: norms and parameters per attack, eps against the evaluation-set size. */
export function checkQuerySuite(suite: Suite, source: string): void {
  const spec = suite.queryAttacks;
  if (spec === undefined) return;
  if (spec.images !== undefined && spec.images > suite.evaluationSize)
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${source}: queryAttacks.images is ${spec.images}, more than evaluationSize ${suite.evaluationSize}`,
    );
  spec.attacks.forEach((a, i) => {
    const attack = QUERY_ATTACKS.get(a.name);
    if (a.start !== undefined && (a.norm ?? attack.norms[0]) !== 'linf')
      throw new TransferbenchError(
        'BAD_CONFIG',
        `${source}: queryAttacks.attacks[${i}].start needs norm "linf" ` +
          `(transfer examples are crafted in the L-inf ball)`,
      );
    const needsSubstitute = attack.kind === 'hybrid' || a.start !== undefined;
    const strategies = suite.substitutes.filter((s) => guideArchitectures(s).length > 0).map((s) => s.strategy);
    const unknown = (a.substitutes ?? []).filter((s) => !strategies.includes(s));
    if (unknown.length > 0)
      throw new TransferbenchError(
        'BAD_CONFIG',
        `${source}: queryAttacks.attacks[${i}].substitutes names ${unknown.map((s) => `"${s}"`).join(', ')}, ` +
          "which the suite's substitutes do not have; " +
          `they have ${strategies.map((s) => `"${s}"`).join(', ') || 'none'}`,
      );
    if (a.ensemble === true && (attack.kind !== 'hybrid' || a.start !== undefined))
      throw new TransferbenchError(
        'BAD_CONFIG',
        `${source}: queryAttacks.attacks[${i}].ensemble needs a surrogate-guided hybrid without "start" ` +
          `(${a.name} ${attack.kind !== 'hybrid' ? `is ${attack.kind}` : 'starts from a transfer example'})`,
      );
    if (needsSubstitute && strategies.length === 0)
      throw new TransferbenchError(
        'BAD_CONFIG',
        `${source}: queryAttacks.attacks[${i}] (${a.name}${a.start !== undefined ? `, start "${a.start}"` : ''}) ` +
          `needs a substitute to start from or be guided by, and the suite has none but ensembles ` +
          `(give their members as substitutes of their own)`,
      );
    const unknownBudgets = (a.budgets ?? []).filter((b) => !spec.budgets.includes(b));
    if (unknownBudgets.length > 0)
      throw new TransferbenchError(
        'BAD_CONFIG',
        `${source}: queryAttacks.attacks[${i}].budgets has ${unknownBudgets.join(', ')}, ` +
          `not among queryAttacks.budgets (${spec.budgets.join(', ')})`,
      );
    for (const eps of a.eps) {
      try {
        resolveQueryParams(attack, a.norm ?? (attack.norms[0] as Norm), eps, [28, 28, 1], a.params ?? {});
      } catch (error) {
        throw new TransferbenchError(
          'BAD_CONFIG',
          `${source}: queryAttacks.attacks[${i}]: ${(error as Error).message}`,
        );
      }
    }
  });
}

/**
 * The architectures a suite substitute offers query cells: its own, or a pretrained surrogate's label; none for
 * ensembles.
 */
function guideArchitectures(entry: Suite['substitutes'][number]): readonly string[] {
  if (entry.members !== undefined) return [];
  return entry.architectures ?? (entry.strategy === 'pretrained' ? [ownedModelLabel(String(entry.params?.model))] : []);
}

const hash = (value: unknown) => createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);

/** Expands `queryAttacks` into cells, in a stable order: target, oracle mode, attack, eps, substitute. */
export function expandQueryGrid(suite: Suite): QueryCell[] {
  const spec = suite.queryAttacks;
  if (spec === undefined) return [];
  const cells: QueryCell[] = [];
  const shared = {
    dataset: suite.dataset,
    seed: suite.seed,
    evaluationSize: suite.evaluationSize,
    topK: suite.oracle.topK ?? 5,
  };
  const budgets = [...spec.budgets].sort((a, b) => a - b);
  const images = spec.images ?? suite.evaluationSize;
  const substitutes: SubstituteSpec[] = suite.substitutes.flatMap((s) =>
    // An ensemble has no architecture of its own: hybrids start from single substitutes (or consult several at once).
    guideArchitectures(s).flatMap((architecture) =>
      (s.budgets ?? []).map((budget) => ({
        strategy: s.strategy,
        architecture,
        budget,
        params: s.params ?? {},
        training: { ...DEFAULT_TRAINING, ...s.training },
      })),
    ),
  );
  for (const target of suite.targets) {
    for (const oracleMode of spec.oracles ?? [suite.oracle.mode]) {
      for (const a of spec.attacks) {
        const attack = QUERY_ATTACKS.get(a.name);
        if (
          (attack.kind !== 'decision-based' && oracleMode === 'label') ||
          (a.oracles !== undefined && !a.oracles.includes(oracleMode))
        )
          continue;
        const norm = a.norm ?? (attack.norms[0] as Norm);
        const cellBudgets = a.budgets ? [...a.budgets].sort((x, y) => x - y) : budgets;
        const needsSubstitute = attack.kind === 'hybrid' || a.start !== undefined;
        for (const eps of a.eps) {
          const chosen = substitutes.filter(
            (sub) => a.substitutes === undefined || a.substitutes.includes(sub.strategy),
          );
          const guides =
            a.ensemble === true
              ? [
                  {
                    strategy: 'ensemble',
                    architecture: chosen.map((m) => `${m.strategy}/${m.architecture}/${m.budget}`).join('+'),
                    budget: chosen.reduce((sum, m) => sum + m.budget, 0),
                    params: {},
                    training: DEFAULT_TRAINING,
                    members: chosen,
                  },
                ]
              : chosen;
          for (const substitute of needsSubstitute ? guides : [null]) {
            const countSuccessChecks = a.countSuccessChecks ?? true;
            const config = {
              // Only when off, so the ids of cells that count their checks (the default) stay as they were.
              ...(countSuccessChecks ? {} : { countSuccessChecks }),
              shared,
              target,
              oracleMode,
              attack: a.name,
              norm,
              eps,
              params: a.params ?? {},
              start: a.start ?? null,
              substitute,
              budgets: cellBudgets,
              images,
            };
            cells.push({
              id: hash(config),
              index: cells.length,
              target,
              oracleMode,
              attack: a.name,
              norm,
              eps,
              params: a.params ?? {},
              start: a.start ?? null,
              substitute,
              countSuccessChecks,
              budgets: cellBudgets,
              images,
              group: hash({ shared, target, oracleMode, substitute }),
            });
          }
        }
      }
    }
  }
  if (new Set(cells.map((c) => c.id)).size !== cells.length)
    throw new TransferbenchError(
      'BAD_CONFIG',
      `suite ${suite.name}: two query cells have the same configuration; remove the repeated queryAttacks entry`,
    );
  return cells;
}

/** The query cells of shard k of n: whole groups dealt round-robin, as for transfer cells. */
export function shardQueryCells(cells: readonly QueryCell[], shard: Shard): QueryCell[] {
  const groups = [...new Set(cells.map((c) => c.group))];
  const mine = new Set(groups.filter((_, i) => i % shard.n === shard.k - 1));
  return cells.filter((c) => mine.has(c.group));
}
