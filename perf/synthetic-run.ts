import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { rate } from '../src/records/metrics.js';
import type { CellResult } from '../src/records/results.js';
import { resultsFile } from '../src/records/results.js';
import { gridCells, shardCells, suiteHash, type Cell } from '../src/runner/grid.js';
import { parseSuite, type Suite } from '../src/runner/suite.js';

/** The shape of a synthetic run: `shards` groups of `cellsPerShard` cells, one group per shard. */
export interface SyntheticShape {
  readonly shards: number;
  /** Must be 2 x (attacks x eps per attack); see syntheticSuite. */
  readonly cellsPerShard: number;
}

const ATTACKS = ['fgsm', 'step-ll', 'bim', 'iter-ll', 'pgd'] as const;
const BUDGETS_PER_TARGET = 4;

/**
 * A suite whose grid has exactly `shards` (target, substitute) groups of `cellsPerShard` cells:
 * shards / 4 targets x 4 static-distillation budgets, five attacks with equally many eps values,
 * two label sources. Its targets need not exist: merging reads only records.
 */
export function syntheticSuite(shape: SyntheticShape): Suite {
  const epsPerAttack = shape.cellsPerShard / (2 * ATTACKS.length);
  if (shape.shards % BUDGETS_PER_TARGET !== 0 || !Number.isInteger(epsPerAttack) || epsPerAttack < 1) {
    throw new Error(
      `synthetic run: shards must be a multiple of ${BUDGETS_PER_TARGET} ` +
        `and cells per shard a multiple of ${2 * ATTACKS.length} (got ` +
        `${shape.shards}, ${shape.cellsPerShard})`,
    );
  }
  const eps = Array.from({ length: epsPerAttack }, (_, i) => Math.round(((i + 1) / epsPerAttack) * 1e6) / 1e6);
  return parseSuite(
    {
      name: `synthetic-${shape.shards}x${shape.cellsPerShard}`,
      dataset: 'mnist-embedded',
      seed: 0,
      evaluationSize: 1000,
      targets: Array.from({ length: shape.shards / BUDGETS_PER_TARGET }, (_, i) => `target-${i}`),
      oracle: { mode: 'probabilities' },
      substitutes: [
        {
          strategy: 'static-distillation',
          architectures: ['mlp'],
          budgets: Array.from({ length: BUDGETS_PER_TARGET }, (_, i) => 1000 * (i + 1)),
        },
      ],
      attacks: ATTACKS.map((name) => ({ name, eps })),
      labelSources: ['true', 'predicted'],
    },
    'synthetic suite',
  );
}

/** A deterministic spread of counts, so sums, ranks and ties in the tables depend on every cell. */
function count(index: number, salt: number, of: number): number {
  return ((index + 1) * 2654435761 + salt * 40503) % (of + 1);
}

/** The record of `cell`: the template's fields and example images, with this cell's identity and counts. */
function recordOf(cell: Cell, hash: string, template: CellResult): Omit<CellResult, 'examples'> {
  const n = template.evaluated;
  const fooled = count(cell.index, 1, n);
  const { examples: _examples, ...fields } = template;
  return {
    ...fields,
    cellId: cell.id,
    index: cell.index,
    suiteHash: hash,
    target: cell.target,
    strategy: cell.substitute.strategy,
    architecture: cell.substitute.architecture,
    budget: cell.substitute.budget,
    reference: false,
    attack: cell.attack,
    eps: cell.eps,
    labelSource: cell.labelSource,
    targetError: rate(count(cell.index, 2, n), n),
    whiteBoxSuccess: rate(fooled, n),
    transferRate: rate(count(cell.index, 3, fooled), fooled),
    substituteQueries: cell.substitute.budget,
    substituteFidelity: count(cell.index, 4, 1000) / 1000,
    seconds: count(cell.index, 5, 100) / 10,
  };
}

/**
 * Writes a synthetic run into `dir` (suite.json and one results file per shard, each shard's
 * records in reverse cell order, as a resumed or parallel run leaves them), every record made
 * from `template`, a real cell record, example images included. Returns the suite.
 */
export function writeSyntheticRun(dir: string, shape: SyntheticShape, template: CellResult): Suite {
  const suite = syntheticSuite(shape);
  const hash = suiteHash(suite);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'suite.json'), `${JSON.stringify({ suiteHash: hash, suite }, null, 2)}\n`);
  // The example images are the same bytes in every record: serialised once, spliced in.
  const examples = template.examples === undefined ? '' : `,"examples":${JSON.stringify(template.examples)}`;
  const cells = [...gridCells(suite)];
  for (let k = 1; k <= shape.shards; k++) {
    const fd = openSync(resultsFile(dir, { k, n: shape.shards }), 'w');
    try {
      const lines = shardCells(cells, { k, n: shape.shards })
        .reverse()
        .map((cell) => `${JSON.stringify(recordOf(cell, hash, template)).slice(0, -1)}${examples}}\n`);
      for (let i = 0; i < lines.length; i += 500) writeSync(fd, lines.slice(i, i + 500).join(''));
    } finally {
      closeSync(fd);
    }
  }
  return suite;
}

/** The first record of a results file: the real cell a synthetic run is made from. */
export function templateRecord(file: string): CellResult {
  const first = readFileSync(file, 'utf8').split('\n')[0];
  if (first === undefined || first === '') throw new Error(`${file}: no record to make a synthetic run from`);
  return JSON.parse(first) as CellResult;
}
