import assert from 'node:assert/strict';
import { Random } from '../../src/common/random.js';
import { flagsHex, rate } from '../../src/records/metrics.js';
import type { CellResult } from '../../src/records/results.js';
import { leaderboardTables, type Table } from '../../src/report/leaderboards.js';
import { reportPage } from '../../src/report/html.js';

const IMAGES = 500;

/** A cell whose target is fooled exactly on `fooled` (substitute fooled on every image). */
function cell(index: number, attack: string, fooled: readonly boolean[], replicate = 0, target = 't'): CellResult {
  const n = fooled.filter(Boolean).length;
  return {
    cellId: `c${index}`,
    index,
    suiteHash: 'h',
    replicate,
    seed: replicate,
    target,
    strategy: 'ground-truth',
    architecture: 'mlp',
    budget: 0,
    reference: false,
    attack,
    attackKind: 'multi-step',
    eps: 0.1,
    labelSource: 'true',
    evaluated: fooled.length,
    substituteCleanAccuracy: rate(fooled.length, fooled.length),
    targetCleanAccuracy: rate(fooled.length, fooled.length),
    whiteBoxSuccess: rate(fooled.length, fooled.length),
    targetError: rate(n, fooled.length),
    transferRate: rate(n, fooled.length),
    targetFooled: flagsHex(fooled),
    substituteFooled: flagsHex(fooled.map(() => true)),
    substituteQueries: 0,
    substituteFidelity: 0.9,
    meanLinf: 0.1,
    maxLinf: 0.1,
    meanL2: 1,
    maxL2: 1,
    seconds: 1,
  };
}

const column = (table: Table, name: string) => table.columns.indexOf(name);
const rowsOf = (table: Table) =>
  table.rows.map((r) => Object.fromEntries(table.columns.map((c, i) => [c, r[i]])) as Record<string, unknown>);

describe('paired comparisons in the leaderboards', () => {
  // Three attacks on the same 500 images: strong fools 0-299, close (to strong) 6-301 (6 images only
  // strong fools, 2 only close: not separated), weak 0-149 (152 images only close fools, 6 only weak).
  const random = new Random(3);
  const order = random.shuffle(Array.from({ length: IMAGES }, (_, i) => i));
  const by = (f: (i: number) => boolean) => order.map(f);
  const strong = by((i) => i < 300);
  const close = by((i) => (i >= 6 && i < 300) || i === 300 || i === 301);
  const weak = by((i) => i < 150);
  const records = [cell(0, 'strong', strong), cell(1, 'close', close), cell(2, 'weak', weak)];
  const tables = leaderboardTables(records);

  it('writes the paired difference of neighbouring ranks with its interval, McNemar and Holm', () => {
    const comparisons = rowsOf(tables['comparisons.csv'] as Table).filter(
      (r) => r.leaderboard === 'leaderboard-attacks.csv',
    );
    assert.deepEqual(
      comparisons.map((r) => [r.entry_a, r.entry_b, r.only_a_fooled, r.only_b_fooled, r.difference]),
      [
        ['strong (true)', 'close (true)', 6, 2, 0.008],
        ['close (true)', 'weak (true)', 152, 6, 0.292],
      ],
    );
    const [first, second] = comparisons;
    assert.ok(first && second);
    assert.ok((first.difference_ci_low as number) < 0 && (first.difference_ci_high as number) > 0.008);
    assert.equal(first.separated, false, `holm p ${first.holm_p}`);
    assert.equal(second.separated, true);
    assert.ok((second.difference_ci_low as number) > 0.2, 'paired: the interval is tight');
  });

  it('groups ranks a paired test does not separate, and the page shades the groups', () => {
    const board = tables['leaderboard-attacks.csv'] as Table;
    assert.deepEqual(
      board.rows.map((r) => [r[column(board, 'attack')], r[column(board, 'rank_group')]]),
      [
        ['strong', 1],
        ['close', 1],
        ['weak', 2],
      ],
    );
    const html = reportPage({ title: 't', tables: { 'leaderboard-attacks.csv': board }, plots: [], manifest: '{}' });
    assert.equal((html.match(/<tr class="group-odd">/g) ?? []).length, 2);
    assert.equal((html.match(/<tr class="group-even">/g) ?? []).length, 1);
    assert.match(html, /Rows shaded alike are one rank group/);
  });

  it('with replicates, shows the two-level interval beside the Wilson one, wider when replicates differ', () => {
    // Replicate r of each attack fools a different share of its own images (retraining moves it by 10 points).
    const shares = [0.3, 0.5, 0.4, 0.6, 0.35];
    const replicated = shares.flatMap((share, r) => {
      const fooled = Array.from({ length: 200 }, (_, i) => i < share * 200);
      return [cell(2 * r, 'a', fooled, r), cell(2 * r + 1, 'b', fooled, r)];
    });
    const board = rowsOf(leaderboardTables(replicated)['leaderboard-attacks.csv'] as Table)[0];
    assert.ok(board);
    assert.equal(board.replicates, 5);
    const wilson = [board.pooled_transfer_rate_ci_low as number, board.pooled_transfer_rate_ci_high as number];
    const twoLevel = [
      board.pooled_transfer_rate_two_level_low as number,
      board.pooled_transfer_rate_two_level_high as number,
    ];
    assert.ok((twoLevel[0] as number) < (wilson[0] as number) && (twoLevel[1] as number) > (wilson[1] as number));
    assert.ok((board.pooled_transfer_rate_retraining_share as number) > 0.8, 'the spread is retraining');
    // A single replicate has no two-level interval.
    const single = rowsOf(leaderboardTables(records)['leaderboard-attacks.csv'] as Table)[0];
    assert.deepEqual([single?.replicates, single?.pooled_transfer_rate_two_level_low], [1, '']);
  });

  it('with replicates, tests the difference at the replicate level: a gap retraining reverses is not separated', () => {
    // In each replicate 200 images; a beats b by 30 images in replicates 0, 2, 4 and loses by 25 in 1 and 3:
    // image by image (McNemar) the pooled +40 of 1,000 is clear, across replicates it is not.
    const gaps = [30, -25, 30, -25, 30];
    const cells = gaps.flatMap((gap, r) => {
      const a = Array.from({ length: 200 }, (_, i) => i < 100 + Math.max(0, gap));
      const b = Array.from({ length: 200 }, (_, i) => i < 100 + Math.max(0, -gap));
      return [cell(2 * r, 'a', a, r), cell(2 * r + 1, 'b', b, r)];
    });
    const tables = leaderboardTables(cells);
    const row = rowsOf(tables['comparisons.csv'] as Table).find((r) => r.leaderboard === 'leaderboard-attacks.csv');
    assert.ok(row);
    assert.equal(row.difference, 0.04);
    assert.ok((row.mcnemar_p as number) < 0.01, `mcnemar ${row.mcnemar_p}`);
    assert.equal(row.tested_by, 'replicates-t');
    assert.equal(row.replicates, 5);
    assert.ok((row.two_level_p as number) > 0.3, `two-level ${row.two_level_p}`);
    assert.ok((row.difference_two_level_low as number) < 0 && (row.difference_two_level_high as number) > 0.04);
    assert.equal(row.separated, false);
    // The same comparison at the one eps the cells have.
    const atEps = rowsOf(tables['comparisons.csv'] as Table).find(
      (r) => r.leaderboard === 'leaderboard-attacks.csv@eps=0.1',
    );
    assert.deepEqual([atEps?.entry_a, atEps?.entry_b, atEps?.two_level_p], [row.entry_a, row.entry_b, row.two_level_p]);
  });

  it('pools a target setting over replicates before taking the worst', () => {
    const low = Array.from({ length: 100 }, (_, i) => i < 20);
    const high = Array.from({ length: 100 }, (_, i) => i < 60);
    // Attack x is 20%, 60% over two replicates (40% pooled); y is 50%, 50%: y is the worse setting.
    const table = rowsOf(
      leaderboardTables([
        cell(0, 'x', low, 0),
        cell(
          1,
          'y',
          Array.from({ length: 100 }, (_, i) => i < 50),
          0,
        ),
        cell(2, 'x', high, 1),
        cell(
          3,
          'y',
          Array.from({ length: 100 }, (_, i) => i < 50),
          1,
        ),
      ])['leaderboard-targets.csv'] as Table,
    )[0];
    assert.equal(table?.worst_target_error, 0.5);
    assert.match(String(table?.worst_setting), /^y /);
  });
});
