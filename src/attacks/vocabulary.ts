import { BOOLEAN, param, type ParamsOf } from '../common/params.js';

/**
 * The vocabularies attacks and transformations use, and the parameters the harness sets on all of them: the bottom
 * of src/attacks, so transformations and attacks can all import it.
 */
export const NORMS = ['linf', 'l2'] as const;
export type Norm = (typeof NORMS)[number];

/**
 * Losses the gradient-loop attacks take (what `SURROGATE_LOSSES` offers them): cross-entropy, the logit loss -z_y of
 * Zhao et al. 2012.11207, which targeted transfer needs over 300 iterations, or Li et al.'s Po+Trip (CVPR 2020;
 * targeted, on tfjs surrogates).
 */
export const TRANSFER_LOSSES = ['cross-entropy', 'logit', 'po-trip'] as const;
export type TransferLoss = (typeof TRANSFER_LOSSES)[number];

/** Images with their labels (the attacker's own, for generative attacks to fit on and Admix to mix in). */
export interface LabelledImages {
  readonly images: Float32Array;
  readonly labels: Int32Array;
}

/**
 * Parameters the harness sets on every attack (the seed from the suite, targeted from the request), never a suite's
 * params: declared once here, resolved with every attack's own.
 */
export const HARNESS_PARAMETERS = [
  param({
    name: 'targeted',
    range: BOOLEAN,
    description: 'move towards the given labels',
    default: false,
    internal: true,
  }),
  param({
    name: 'seed',
    range: { type: 'integer' },
    description: 'seed of random starts and transformations',
    default: 0,
    internal: true,
  }),
];

/** What every attack reads besides its own parameters: the budget in its norm, and the harness's. */
export type Harness = ParamsOf<typeof HARNESS_PARAMETERS> & {
  /** Perturbation budget in the attack's norm (L-inf for the leaderboards). */
  readonly eps: number;
};
