import { readJsonLines } from '../common/files.js';
import type { Rate } from './metrics.js';
import { shardFile, shardFiles } from './results.js';

/**
 * Goodfellow et al. (1412.6572, appendix): "rubbish class" inputs, pure noise that a model
 * nonetheless assigns to a class with high confidence. Shallow linear models are not resistant
 * to them; RBF networks are. One record per target.
 */
export interface RubbishResult {
  readonly target: string;
  readonly suiteHash: string;
  readonly samples: number;
  readonly mean: number;
  readonly std: number;
  readonly threshold: number;
  /** Share of noise images the target gives a class with probability above the threshold. */
  readonly classified: Rate;
  /** Mean probability of the top class over all noise images. */
  readonly meanConfidence: number;
  /** The class the target names most often for noise, and its share. */
  readonly topClass: string;
  readonly topClassShare: number;
}

export function rubbishFile(dir: string, shard: { k: number; n: number }): string {
  return shardFile(dir, 'rubbish', shard);
}

export function readRubbish(file: string, repair = false): RubbishResult[] {
  return readJsonLines<RubbishResult>(file, repair);
}

export function rubbishFiles(dir: string): string[] {
  return shardFiles(dir, 'rubbish');
}
