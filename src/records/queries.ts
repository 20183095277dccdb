import { readJsonLines } from '../common/files.js';
import type { Rate } from './metrics.js';
import type { QueryFigures } from './query-figures.js';
import { shardFile, shardFiles } from './results.js';

/** One finished query-attack cell (a query attack, or a hybrid, on one target at one eps). */
export interface QueryCellResult {
  readonly cellId: string;
  /** Position in the suite's stable order of query cells. */
  readonly index: number;
  readonly suiteHash: string;
  readonly target: string;
  /** What the oracle revealed to the attack. */
  readonly oracleMode: string;
  readonly attack: string;
  /** score-based, decision-based or hybrid. */
  readonly attackKind: string;
  readonly norm: string;
  readonly eps: number;
  /** "clean", or "transfer:<attack>" for a hybrid started from that attack's example on the substitute. */
  readonly start: string;
  /** The substitute a hybrid uses, as strategy/architecture/budget ("" for none). */
  readonly substitute: string;
  /** Queries that substitute cost (from the oracle's counts or its cache record); 0 without one. */
  readonly substituteQueries: number;
  /** Images attacked (the first of the evaluation set). */
  readonly images: number;
  /** Per-image budget the oracle enforced (the largest of the suite's budgets). */
  readonly budget: number;
  /** Success within the budget: the target answered "not the image's class" for a point inside the ball. */
  readonly success: Rate;
  /** Success within each of the suite's budgets (one run at the largest: the attacks do not depend on their budget). */
  readonly curve: readonly { readonly budget: number; readonly success: Rate }[];
  /** Queries to success per image, null where the image was not fooled within the budget (the curve at any budget). */
  readonly queriesToSuccess: readonly (number | null)[];
  /** Queries the oracle charged per image against its budget (absent in records written before it existed). */
  readonly queriesPerImage?: readonly number[];
  /**
   * Whether success-check queries spent the budget (the suite's countSuccessChecks; absent in older records, which
   * counted them), and how many were answered over all images (0 for attacks that make none).
   */
  readonly countSuccessChecks?: boolean;
  readonly successChecks?: number;
  /** At the cell's budget: the figures over fooled images and successes per query, with bootstrap intervals. */
  readonly figures?: QueryFigures;
  /** Queries the oracle charged per image: mean and median over all images, and over the fooled ones. */
  readonly meanQueries: number;
  readonly medianQueries: number;
  readonly meanQueriesSuccessful: number | null;
  readonly medianQueriesSuccessful: number | null;
  /** Queries per image including the substitute's queries shared over the images it served. */
  readonly queriesPerImageWithSubstitute: number;
  /**
   * Distance (in the attack's norm) of each result before projection: for decision-based attacks the final perturbation
   * norm.
   */
  readonly meanDistance: number;
  readonly medianDistance: number;
  /** Of the returned images (inside the ball). */
  readonly meanLinf: number;
  readonly meanL2: number;
  /**
   * Images stopped by the oracle at their budget, and images whose attack gave up (e.g. no first adversarial point).
   */
  readonly stoppedByBudget: number;
  readonly gaveUp: number;
  /** Oracle queries per second during the attack (wall time; not in the CSVs). */
  readonly queriesPerSecond: number;
  /** Wall time of the cell (not in the CSVs: it differs between runs). */
  readonly seconds: number;
}

export function queriesFile(dir: string, shard: { k: number; n: number }): string {
  return shardFile(dir, 'queries', shard);
}

export function readQueryResults(file: string, repair = false): QueryCellResult[] {
  return readJsonLines<QueryCellResult>(file, repair);
}

export function queryResultFiles(dir: string): string[] {
  return shardFiles(dir, 'queries');
}
