import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { appendJsonLine, readJsonLines } from '../common/files.js';
import type { CellExamples } from './examples.js';
import type { Rate } from './metrics.js';

/** One finished cell: the record every CSV is generated from (hyperfine-style, a comment per field). */
export interface CellResult {
  readonly cellId: string;
  /** Position in the suite's stable order. */
  readonly index: number;
  readonly suiteHash: string;
  /** Which replicate of the grid (0-based) and its seed; absent in records written before replicates (replicate 0). */
  readonly replicate?: number;
  readonly seed?: number;
  readonly target: string;
  /**
   * The substitute strategy with the parameters and training settings the suite set away from their defaults
   * ("dynamic-distillation(rounds=3)"): the key every leaderboard groups substitutes by.
   */
  readonly strategy: string;
  /** The strategy's every resolved parameter and training setting (an ensemble's: its members'). */
  readonly strategyParams?: Readonly<Record<string, unknown>>;
  readonly architecture: string;
  /** Substitute-training query budget. */
  readonly budget: number;
  /** White-box reference rows are upper bounds, not attack settings. */
  readonly reference: boolean;
  /**
   * The attack as the suite names it ("mi-fgsm+di+ti" for a composition given by `transforms`),
   * with the parameters the suite set away from their defaults ("pgd(steps=40)"): the key every
   * leaderboard groups attacks by.
   */
  readonly attack: string;
  /** Every parameter the attack (and its transformations) declares, as the cell resolved it. */
  readonly attackParams?: Readonly<Record<string, number | string | boolean>>;
  /** The gradient method and its input transformations ("mi-fgsm+di" for di-mi-fgsm); the attack's name otherwise. */
  readonly composition?: string;
  readonly attackKind: string;
  readonly eps: number;
  readonly labelSource: string;
  /** Evaluation images attacked. */
  readonly evaluated: number;
  /** Substitute accuracy on the clean evaluation images. */
  readonly substituteCleanAccuracy: Rate;
  /** Target accuracy on the clean evaluation images. */
  readonly targetCleanAccuracy: Rate;
  /** Share of adversarial images the substitute misclassifies (white-box success). */
  readonly whiteBoxSuccess: Rate;
  /** Share of adversarial images the target misclassifies. */
  readonly targetError: Rate;
  /** Kurakin et al.: of the adversarial images that fool the substitute, the share that fool the target. */
  readonly transferRate: Rate;
  /**
   * Of the images the target classifies correctly when clean, the share it misclassifies after the attack
   * (TransferAttack's attack success rate).
   */
  readonly attackSuccess?: Rate;
  /** Targeted cells: where the target classes came from (random, least-likely, csv). */
  readonly targetClass?: string;
  /** Targeted cells: of the images the target gets right when clean, the share it gives their target class. */
  readonly targetedSuccess?: Rate;
  /**
   * Mean probability the target gives its predicted class on the adversarial images (Goodfellow et al.'s confidence).
   */
  readonly targetMeanConfidence?: number;
  /** Queries the substitute cost (from the oracle's counts, or its cache record). */
  readonly substituteQueries: number;
  /** Substitute's agreement with the target on held-out images. */
  readonly substituteFidelity: number;
  readonly meanLinf: number;
  readonly maxLinf: number;
  readonly meanL2: number;
  readonly maxL2: number;
  /** The target's input defence (its descriptor's), and the model forward passes one query costs behind it. */
  readonly targetDefence?: string;
  readonly defencePassesPerQuery?: number;
  /** Mean PSNR (dB, peak 1, at most 100) and SSIM (Wang et al. 2004) of the adversarial images against the clean. */
  readonly meanPsnr?: number;
  readonly meanSsim?: number;
  /** Wall time of crafting alone, and the images crafted per second (they differ between runs and machines). */
  readonly craftingSeconds?: number;
  readonly imagesPerSecond?: number;
  /**
   * Which evaluation images' adversarial versions the target (and the substitute) misclassify, image i at bit i
   * (flagsHex): what paired comparisons of two cells on the same images read. Absent in records written before them.
   */
  readonly targetFooled?: string;
  readonly substituteFooled?: string;
  /** Wall time of the cell (attack and evaluation), not in the CSVs: it differs between runs. */
  readonly seconds: number;
  /** The first images of the cell, clean and adversarial, for the report's example grids. */
  readonly examples?: CellExamples;
}

/** A shard's file `<prefix>-K-of-N.jsonl`. */
export function shardFile(dir: string, prefix: string, shard: { k: number; n: number }): string {
  return join(dir, `${prefix}-${shard.k}-of-${shard.n}.jsonl`);
}

export function resultsFile(dir: string, shard: { k: number; n: number }): string {
  return shardFile(dir, 'results', shard);
}

export function appendResult(file: string, result: CellResult): void {
  appendJsonLine(file, result, 'the cell result');
}

export function readResults(file: string, repair = false): CellResult[] {
  return readJsonLines<CellResult>(file, repair);
}

/** The shard files `<prefix>-K-of-N.jsonl` in a folder, sorted. */
export function shardFiles(dir: string, prefix: string): string[] {
  if (!existsSync(dir)) return [];
  const pattern = new RegExp(`^${prefix}-\\d+-of-\\d+\\.jsonl$`);
  return readdirSync(dir)
    .filter((f) => pattern.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/** Every shard's results files in a folder. */
export function resultFiles(dir: string): string[] {
  return shardFiles(dir, 'results');
}
