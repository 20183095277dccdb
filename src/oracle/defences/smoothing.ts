import type { Defence } from './types.js';

/**
 * Randomized smoothing (Cohen et al. 1902.02918): the answer is the class the model gives most often under Gaussian
 * noise of sd sigma, over n noisy copies (their PREDICT with n = 100; sigma 0.25 is their middle setting). The answer
 * is the vote's shares, top class first; Cohen et al. abstain when a binomial test cannot separate the top two, an
 * oracle must answer, so here the top of the vote answers (ties to the lower class). Noise is not clipped to [0, 1],
 * as in their code. One attacker query is one answer; the n forward passes are the defence's cost.
 */
export const smoothingDefence: Defence = {
  name: 'smoothing',
  description: 'randomized smoothing: majority vote over n Gaussian-noise copies (Cohen et al. 1902.02918)',
  parameters: [
    { name: 'sigma', default: 0.25, minimum: 0, maximum: 4, description: 'noise standard deviation' },
    { name: 'samples', default: 100, minimum: 1, maximum: 100000, integer: true, description: 'noisy copies n' },
  ],
  copies: (params) => params.samples as number,
  vote: true,
  apply: ({ pixels }, params, random) => {
    const n = params.samples as number;
    const sigma = params.sigma as number;
    const out = new Float32Array(pixels.length * n);
    for (let j = 0; j < n; j++)
      for (let i = 0; i < pixels.length; i++)
        out[j * pixels.length + i] = (pixels[i] as number) + sigma * random.normal();
    return out;
  },
};
