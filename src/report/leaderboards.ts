import { substituteName } from '../records/aggregate.js';
import { round6 } from '../records/metrics.js';
import type { CellResult } from '../records/results.js';
import type { RubbishResult } from '../records/rubbish.js';
import { compareNeighbours, comparisonsTable, PairedFlags, ReplicatedPool, twoLevelColumns } from './comparisons.js';
import { entry, Pool } from './pool.js';
import { resultsTable } from './results-table.js';
import { TargetsBoard } from './targets-board.js';
import { optionalRateCells, rateCells, rateColumns, toCsv, type Table } from './table.js';

export { csvLines, rateCells, rateColumns, toCsv, type Table } from './table.js';
export {
  RESULTS_COLUMNS,
  resultsRow,
  resultsTable,
  VOLATILE_COLUMNS,
  withoutVolatileColumns,
} from './results-table.js';

interface AttackRow {
  readonly attack: string;
  readonly kind: string;
  readonly labelSource: string;
  /** From the group's first record. */
  readonly composition: string;
  cells: number;
  /** Sum of the cells' transfer rates, in record order (the mean is printed). */
  transferSum: number;
  readonly transfer: Pool;
  /** The pooled transfer rate by replicate (two-level interval) and the cells' per-image outcomes (pairing). */
  readonly replicated: ReplicatedPool;
  readonly flags: PairedFlags;
  /** The pooled transfer rate at each eps, for comparisons at one eps. */
  readonly byEps: Map<string, Pool>;
  readonly error: Pool;
  readonly whiteBox: Pool;
  readonly success: Pool;
  successCells: number;
  /** Targeted rows: where the target classes came from, and the pooled targeted success. */
  readonly targetClass: string;
  readonly targeted: Pool;
  /** Sums of the cells' mean PSNR and SSIM, and the cells that have them. */
  psnrSum: number;
  ssimSum: number;
  stealthCells: number;
}

/** How comparisons.csv names an attack row: the attack, its label source and target classes. */
const attackEntryName = (a: AttackRow) => `${a.attack} (${a.labelSource}${a.targetClass ? `, ${a.targetClass}` : ''})`;

/**
 * The summary leaderboards built one record at a time, with state per group (and, for the paired
 * comparisons, each cell's per-image flags: a quarter of a character per image): `merge` streams
 * a run of any size through it, and the table functions below run it over an array. Records must come in the order
 * the tables should see them (the suite's cell order for the merged leaderboards): first records, ties and
 * floating-point sums depend on it.
 */
export class LeaderboardBuilder {
  private readonly targets = new TargetsBoard();
  private readonly attacks = new Map<string, AttackRow>();
  private readonly substitutes = new Map<
    string,
    {
      first: Pick<CellResult, 'strategy' | 'architecture' | 'budget' | 'reference' | 'strategyParams'>;
      transfer: Pool;
      replicated: ReplicatedPool;
      flags: PairedFlags;
      error: Pool;
      queries: Map<string, number>;
      fidelitySum: number;
      cells: number;
    }
  >();
  private readonly matrix = new Map<string, Map<string, Pool>>();
  /** Targets in the order their first record came. */
  readonly targetOrder: string[] = [];

  add(r: CellResult): void {
    this.targets.add(r);
    if (!r.reference) {
      const a = entry(
        this.attacks,
        `${r.attack}\u0000${r.labelSource}\u0000${r.targetClass ?? ''}`,
        (): AttackRow => ({
          attack: r.attack,
          kind: r.attackKind,
          labelSource: r.labelSource,
          composition: r.composition ?? r.attack,
          cells: 0,
          transferSum: 0,
          transfer: new Pool(),
          replicated: new ReplicatedPool(),
          flags: new PairedFlags(),
          byEps: new Map<string, Pool>(),
          error: new Pool(),
          whiteBox: new Pool(),
          success: new Pool(),
          successCells: 0,
          targetClass: r.targetClass ?? '',
          targeted: new Pool(),
          psnrSum: 0,
          ssimSum: 0,
          stealthCells: 0,
        }),
      );
      a.cells++;
      if (r.attackSuccess !== undefined) {
        a.success.add(r.attackSuccess);
        a.successCells++;
      }
      if (r.targetedSuccess !== undefined) a.targeted.add(r.targetedSuccess);
      if (r.meanPsnr !== undefined && r.meanSsim !== undefined) {
        a.psnrSum += r.meanPsnr;
        a.ssimSum += r.meanSsim;
        a.stealthCells++;
      }
      a.transferSum += r.transferRate.value;
      a.transfer.add(r.transferRate);
      a.replicated.add(r.transferRate, r.replicate);
      // Paired with another attack's cell on the same target, substitute, eps and replicate: the same images.
      a.flags.add(
        `${r.target}\u0000${substituteName(r)}\u0000${r.eps}\u0000${r.replicate ?? 0}`,
        r.targetFooled,
        r.evaluated,
        r,
      );
      entry(a.byEps, String(r.eps), () => new Pool()).add(r.transferRate);
      a.error.add(r.targetError);
      a.whiteBox.add(r.whiteBoxSuccess);
    }
    const name = substituteName(r);
    const first = {
      strategy: r.strategy,
      architecture: r.architecture,
      budget: r.budget,
      reference: r.reference,
      ...(r.strategyParams !== undefined ? { strategyParams: r.strategyParams } : {}),
    };
    const s = entry(this.substitutes, name, () => ({
      first,
      transfer: new Pool(),
      replicated: new ReplicatedPool(),
      flags: new PairedFlags(),
      error: new Pool(),
      queries: new Map<string, number>(),
      fidelitySum: 0,
      cells: 0,
    }));
    s.transfer.add(r.transferRate);
    s.replicated.add(r.transferRate, r.replicate);
    // Paired with another substitute's cell of the same target, attack setting and replicate.
    s.flags.add(
      [r.target, r.attack, r.eps, r.labelSource, r.targetClass ?? '', r.replicate ?? 0].join('\u0000'),
      r.targetFooled,
      r.evaluated,
      r,
    );
    s.error.add(r.targetError);
    s.queries.set(r.target, r.substituteQueries);
    s.fidelitySum += r.substituteFidelity;
    s.cells++;
    if (!this.matrix.has(r.target)) this.targetOrder.push(r.target);
    entry(
      entry(this.matrix, r.target, () => new Map<string, Pool>()),
      name,
      () => new Pool(),
    ).add(r.transferRate);
  }

  /** Robustness: per target and eps, the worst target error over attack settings (white-box shown apart). */
  targetsTable(): Table {
    return this.targets.table();
  }

  /**
   * Attacks (by label source) ranked by pooled transfer rate over every non-reference cell (the
   * `ranked_by` column says so), with the pooled attack success rate on the images each target
   * classifies correctly when clean (TransferAttack's figure) beside it, when every cell has it.
   */
  attacksTable(): Table {
    const rows = [...this.attacks.values()].map((a) => {
      const transfer = a.transfer.rate();
      const success = a.successCells === a.cells ? rateCells(a.success.rate()) : optionalRateCells(undefined);
      return {
        transfer,
        row: a,
        cells: [
          a.attack,
          a.kind,
          a.labelSource,
          a.cells,
          round6(a.transferSum / a.cells),
          ...rateCells(transfer),
          ...a.replicated.cells(),
          ...rateCells(a.error.rate()),
          ...rateCells(a.whiteBox.rate()),
          a.composition,
          ...success,
          a.targetClass,
          ...rateCells(a.targeted.rate()),
          a.stealthCells === a.cells ? round6(a.psnrSum / a.cells) : '',
          a.stealthCells === a.cells ? round6(a.ssimSum / a.cells) : '',
          'pooled_transfer_rate',
        ],
      };
    });
    rows.sort(
      (a, b) =>
        b.transfer.value - a.transfer.value ||
        String(a.cells[0]).localeCompare(String(b.cells[0])) ||
        String(a.cells[2]).localeCompare(String(b.cells[2])),
    );
    const { groups } = compareNeighbours('leaderboard-attacks.csv', this.rankedAttacks());
    return {
      columns: [
        'rank',
        'attack',
        'kind',
        'label_source',
        'cells',
        'mean_transfer_rate',
        ...rateColumns('pooled_transfer_rate'),
        ...twoLevelColumns('pooled_transfer_rate'),
        ...rateColumns('pooled_target_error'),
        ...rateColumns('pooled_white_box_success'),
        'composition',
        ...rateColumns('pooled_attack_success'),
        'target_class',
        ...rateColumns('pooled_targeted_success'),
        'mean_psnr',
        'mean_ssim',
        'ranked_by',
        'rank_group',
      ],
      rows: rows.map((r, i) => [i + 1, ...r.cells, groups[i] as number]),
    };
  }

  /** The attack rows in rank order, each named as comparisons.csv names it. */
  private rankedAttacks() {
    const rows = [...this.attacks.values()];
    rows.sort(
      (a, b) =>
        b.transfer.rate().value - a.transfer.rate().value ||
        a.attack.localeCompare(b.attack) ||
        a.labelSource.localeCompare(b.labelSource),
    );
    return rows.map((a) => ({ name: attackEntryName(a), flags: a.flags }));
  }

  /** Substitute entries in the order substitutesTable ranks them. */
  private rankedSubstitutes() {
    return this.substituteOrder().map(({ name, s }) => ({ name, flags: s.flags }));
  }

  /** comparisons.csv: the neighbouring ranks of the attacks and the substitutes leaderboards, paired by image. */
  comparisonsTable(): Table {
    return comparisonsTable([
      compareNeighbours('leaderboard-attacks.csv', this.rankedAttacks()).rows,
      ...this.attacksByEps(),
      compareNeighbours('leaderboard-substitutes.csv', this.rankedSubstitutes()).rows,
    ]);
  }

  /**
   * The attacks at each eps (in increasing order), ranked by their pooled transfer rate there and compared as the
   * leaderboard's neighbours are: findings are often about one eps (single- vs multi-step at 0.3).
   */
  private attacksByEps() {
    const all = [...new Set([...this.attacks.values()].flatMap((a) => [...a.byEps.keys()]))]
      .map(Number)
      .sort((a, b) => a - b);
    return all.map((eps) => {
      const rows = [...this.attacks.values()].filter((a) => a.byEps.has(String(eps)));
      const value = (a: AttackRow) => (a.byEps.get(String(eps)) as Pool).rate().value;
      rows.sort(
        (a, b) => value(b) - value(a) || a.attack.localeCompare(b.attack) || a.labelSource.localeCompare(b.labelSource),
      );
      const entries = rows.map((a) => ({ name: attackEntryName(a), flags: a.flags }));
      return compareNeighbours(`leaderboard-attacks.csv@eps=${eps}`, entries, eps).rows;
    });
  }

  /**
   * Substitutes ranked by transfer per 1,000 queries: target errors caused per 1,000 queries the
   * substitute cost. Zero-query substitutes (ground truth, the white-box reference) have no such
   * figure and follow, ranked by their transfer rate.
   */
  substitutesTable(): Table {
    const ranked = this.substituteOrder();
    const { groups } = compareNeighbours('leaderboard-substitutes.csv', this.rankedSubstitutes());
    return {
      columns: [
        'rank',
        'strategy',
        'architecture',
        'budget',
        'reference',
        'mean_queries',
        'transfer_per_1000_queries',
        ...rateColumns('pooled_transfer_rate'),
        ...twoLevelColumns('pooled_transfer_rate'),
        ...rateColumns('pooled_target_error'),
        'mean_fidelity',
        'strategy_params',
        'rank_group',
      ],
      rows: ranked.map(({ s, per1000, transfer, queries }, i) => [
        i + 1,
        s.first.strategy,
        s.first.architecture,
        s.first.budget,
        s.first.reference,
        round6(queries),
        per1000,
        ...rateCells(transfer),
        ...s.replicated.cells(),
        ...rateCells(s.error.rate()),
        round6(s.fidelitySum / s.cells),
        s.first.strategyParams ? JSON.stringify(s.first.strategyParams) : '',
        groups[i] as number,
      ]),
    };
  }

  /** Substitutes in rank order (see substitutesTable), with what their row shows. */
  private substituteOrder() {
    const rows = [...this.substitutes.entries()].map(([name, s]) => {
      const transfer = s.transfer.rate();
      const queries = [...s.queries.values()].reduce((sum, q) => sum + q, 0) / s.queries.size;
      const per1000: number | '' = queries > 0 ? round6((transfer.value * 1000) / queries) : '';
      return { name, s, per1000, transfer, queries };
    });
    rows.sort((a, b) => {
      if (a.per1000 === '' && b.per1000 !== '') return 1;
      if (b.per1000 === '' && a.per1000 !== '') return -1;
      if (typeof a.per1000 === 'number' && typeof b.per1000 === 'number' && a.per1000 !== b.per1000)
        return b.per1000 - a.per1000;
      return b.transfer.value - a.transfer.value || a.s.first.strategy.localeCompare(b.s.first.strategy);
    });
    return rows;
  }

  /** Pooled transfer rate, substitute (rows) x target (columns). */
  transferMatrix(): Table {
    const substitutes = [...this.substitutes.keys()];
    return {
      columns: ['substitute', ...this.targetOrder],
      rows: substitutes.map((s) => [
        s,
        ...this.targetOrder.map((t) => {
          const pool = this.matrix.get(t)?.get(s);
          return pool === undefined ? '' : round6(pool.rate().value);
        }),
      ]),
    };
  }
}

function built(results: readonly CellResult[]): LeaderboardBuilder {
  const builder = new LeaderboardBuilder();
  for (const r of results) builder.add(r);
  return builder;
}

export function targetsTable(results: readonly CellResult[]): Table {
  return built(results).targetsTable();
}
export function attacksTable(results: readonly CellResult[]): Table {
  return built(results).attacksTable();
}
export function substitutesTable(results: readonly CellResult[]): Table {
  return built(results).substitutesTable();
}
/** Targets and substitutes in the suite's order, whatever the order of `results`. */
export function transferMatrix(results: readonly CellResult[]): Table {
  return built([...results].sort((a, b) => a.index - b.index)).transferMatrix();
}

/** Rubbish-class inputs (Goodfellow et al.): per target, in the order given, how confidently it classifies noise. */
export function rubbishTable(results: readonly RubbishResult[], targetOrder: readonly string[]): Table {
  const sorted = [...results].sort((a, b) => targetOrder.indexOf(a.target) - targetOrder.indexOf(b.target));
  return {
    columns: [
      'target',
      'samples',
      'noise_mean',
      'noise_std',
      'threshold',
      ...rateColumns('classified'),
      'mean_confidence',
      'top_class',
      'top_class_share',
    ],
    rows: sorted.map((r) => [
      r.target,
      r.samples,
      r.mean,
      r.std,
      r.threshold,
      ...rateCells(r.classified),
      r.meanConfidence,
      r.topClass,
      r.topClassShare,
    ]),
  };
}

/**
 * Every leaderboard of a set of results, by file name, in the order a report shows them.
 * Results are put in the suite's cell order first: shards and parallel workers finish cells in
 * any order, and ties and floating-point sums must not depend on it. The rubbish-class table is
 * there when rubbish records are given; its targets follow the suite's order, the order targets
 * first appear in the cells.
 */
export function leaderboardTables(
  unordered: readonly CellResult[],
  rubbish?: readonly RubbishResult[],
): Record<string, Table> {
  const results = [...unordered].sort((a, b) => a.index - b.index);
  return { ...summaryTables(built(results), rubbish), 'results.csv': resultsTable(results) };
}

/** Every table but results.csv, from a builder that saw the records in the suite's order. */
export function summaryTables(builder: LeaderboardBuilder, rubbish?: readonly RubbishResult[]): Record<string, Table> {
  return {
    ...(rubbish !== undefined ? { 'rubbish.csv': rubbishTable(rubbish, builder.targetOrder) } : {}),
    'leaderboard-attacks.csv': builder.attacksTable(),
    'leaderboard-substitutes.csv': builder.substitutesTable(),
    'leaderboard-targets.csv': builder.targetsTable(),
    'transfer-matrix.csv': builder.transferMatrix(),
    'comparisons.csv': builder.comparisonsTable(),
  };
}

/** Every leaderboard as CSV bytes, by file name. */
export function leaderboards(
  results: readonly CellResult[],
  rubbish?: readonly RubbishResult[],
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(leaderboardTables(results, rubbish)).map(([name, table]) => [name, toCsv(table)]),
  );
}
