import { substituteName } from '../records/aggregate.js';
import { rate, round6, type Rate } from '../records/metrics.js';
import type { CellResult } from '../records/results.js';
import { ReplicatedPool, twoLevelColumns } from './comparisons.js';
import { entry, Pool } from './pool.js';
import { rateCells, rateColumns, type Table } from './table.js';

/** What the targets leaderboard keeps of one record: the worst is the first with the highest error. */
type Setting = Pick<CellResult, 'targetError' | 'attack' | 'labelSource' | 'strategy' | 'architecture' | 'budget'>;
const setting = (r: CellResult): Setting => ({
  targetError: r.targetError,
  attack: r.attack,
  labelSource: r.labelSource,
  strategy: r.strategy,
  architecture: r.architecture,
  budget: r.budget,
});
interface TargetEps {
  readonly target: string;
  readonly eps: number;
  /** The target's clean accuracy on each replicate's images (from its first record there). */
  readonly clean: Map<number, Rate>;
  /** Each attack setting's target error pooled over replicates, so the worst is not the luckiest replicate's. */
  readonly settings: Map<string, { first: Setting; reference: boolean; error: Pool; replicated: ReplicatedPool }>;
}

/** Of a target's settings (reference or not), the first with the highest pooled error, its error the pooled one. */
function worstOf(t: TargetEps, reference: boolean) {
  let worst: { setting: Setting; replicated: ReplicatedPool } | undefined;
  for (const s of t.settings.values()) {
    if (s.reference !== reference) continue;
    const error = s.error.rate();
    if (worst === undefined || error.value > worst.setting.targetError.value)
      worst = { setting: { ...s.first, targetError: error }, replicated: s.replicated };
  }
  return worst;
}

/**
 * leaderboard-targets.csv, built a record at a time: per target and eps, the worst target error
 * over attack settings (each pooled over replicates first), the white-box reference apart.
 */
export class TargetsBoard {
  private readonly byTargetEps = new Map<string, TargetEps>();

  add(r: CellResult): void {
    const t = entry(
      this.byTargetEps,
      `${r.target}\u0000${r.eps}`,
      (): TargetEps => ({ target: r.target, eps: r.eps, clean: new Map(), settings: new Map() }),
    );
    if (!t.clean.has(r.replicate ?? 0)) t.clean.set(r.replicate ?? 0, r.targetCleanAccuracy);
    const settingKey = [r.reference, r.attack, r.labelSource, substituteName(r), r.targetClass ?? ''].join('\u0000');
    const pooledSetting = entry(t.settings, settingKey, () => ({
      first: setting(r),
      reference: r.reference,
      error: new Pool(),
      replicated: new ReplicatedPool(),
    }));
    pooledSetting.error.add(r.targetError);
    pooledSetting.replicated.add(r.targetError, r.replicate);
  }

  table(): Table {
    const rows = [...this.byTargetEps.values()].map((t) => {
      const found = worstOf(t, false);
      const worst = found?.setting;
      const whiteBox = worstOf(t, true)?.setting;
      const clean = new Pool();
      for (const c of t.clean.values()) clean.add(c);
      return {
        target: t.target,
        eps: t.eps,
        worst,
        cells: [
          t.target,
          t.eps,
          ...rateCells(worst?.targetError ?? rate(0, 0)),
          ...(found?.replicated ?? new ReplicatedPool()).cells(),
          worst ? `${worst.attack} (${worst.labelSource}) from ${substituteName(worst)}` : '',
          ...rateCells(clean.rate()),
          whiteBox ? round6(whiteBox.targetError.value) : '',
        ],
      };
    });
    rows.sort((a, b) =>
      a.target === b.target
        ? a.eps - b.eps
        : (a.worst?.targetError.value ?? 0) - (b.worst?.targetError.value ?? 0) || a.target.localeCompare(b.target),
    );
    const order = [...new Set(rows.map((r) => r.target))];
    return {
      columns: [
        'rank',
        'target',
        'eps',
        ...rateColumns('worst_target_error'),
        ...twoLevelColumns('worst_target_error'),
        'worst_setting',
        ...rateColumns('clean_accuracy'),
        'white_box_error',
      ],
      rows: order.flatMap((t, i) => rows.filter((r) => r.target === t).map((r) => [i + 1, ...r.cells])),
    };
  }
}
