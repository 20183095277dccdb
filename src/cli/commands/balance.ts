import { groupCosts, shardBalance, zooCostModel } from '../../runner/balance.js';
import { expandGrid } from '../../runner/grid.js';
import { loadSuite } from '../../runner/suite.js';
import { badOption } from '../../common/errors.js';
import { useBackend } from '../../compute/backend.js';
import { formatTable, type Reporter } from '../reporter.js';
import { shippedZooFiles } from './suite-targets.js';

/** `transferbench balance SUITE N`: predicted work per shard, round robin against by cost. */
export async function balanceCommand(reporter: Reporter, suitePath: string, shardsText: string): Promise<number> {
  const n = Number(shardsText);
  if (!Number.isInteger(n) || n < 1) throw badOption('balance: N', shardsText, 'a positive integer number of shards');
  const suite = loadSuite(suitePath);
  // The networks are built to count their multiply-adds; any backend does.
  await useBackend('cpu');
  const cells = expandGrid(suite);
  const costs = groupCosts(suite, cells, zooCostModel(shippedZooFiles()));
  const roundRobin = shardBalance(cells, costs, n, false);
  const byCost = shardBalance(cells, costs, n, true);
  const giga = (x: number) => (x / 1e9).toFixed(1);
  reporter.info(
    `${suite.name}: ${costs.size} (target, substitute) groups, ${cells.length} ` +
      `cells; predicted work in G multiply-adds`,
  );
  const rows = [['shard', 'round robin', 'by cost']];
  for (let k = 0; k < n; k++) rows.push([String(k + 1), giga(roundRobin.work[k] ?? 0), giga(byCost.work[k] ?? 0)]);
  rows.push(['max/mean', roundRobin.maxOverMean.toFixed(2), byCost.maxOverMean.toFixed(2)]);
  reporter.info(formatTable(rows));
  return 0;
}
