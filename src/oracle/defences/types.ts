import type { Random } from '../../common/random.js';

/**
 * An input defence a target may wrap its model in (its descriptor's `defence`): it runs inside the oracle's worker,
 * between the attacker's images and the model, so an attacker sees its answers and nothing else: not its kind, its
 * parameters or its randomness. The oracle's query count and budget are the same with or without one.
 */
export interface DefenceSpec {
  /** A name in DEFENCES. */
  readonly name: string;
  /** The defence's parameters; those absent take the defaults its entry declares. */
  readonly params?: Readonly<Record<string, number>>;
  /** Seed of a randomized defence's draws (resize-and-pad, smoothing's noise). Default 0. */
  readonly seed?: number;
}

/** One numeric parameter of a defence, with its default and range (integers when `integer`). */
export interface DefenceParameter {
  readonly name: string;
  readonly default: number;
  readonly minimum: number;
  readonly maximum: number;
  readonly integer?: boolean;
  readonly description: string;
}

/** What a defence transforms: one image, HWC in [0, 1]. */
export interface DefenceImage {
  readonly pixels: Float32Array;
  readonly shape: readonly [number, number, number];
}

export interface Defence {
  readonly name: string;
  /** One line with the paper it comes from. */
  readonly description: string;
  readonly parameters: readonly DefenceParameter[];
  /**
   * The images the model sees for one attacker image: one transformed image (JPEG, squeezing, smoothing,
   * resize-and-pad) or `copies` noisy ones (randomized smoothing), concatenated. `random` is the image's own stream.
   */
  readonly apply: (image: DefenceImage, params: Readonly<Record<string, number>>, random: Random) => Float32Array;
  /** Model inputs per attacker image: what the defence costs in forward passes. */
  readonly copies: (params: Readonly<Record<string, number>>) => number;
  /** How a multi-copy defence answers: a majority vote over the copies' top classes (randomized smoothing). */
  readonly vote?: boolean;
}
