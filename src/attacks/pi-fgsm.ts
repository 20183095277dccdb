import { gradientLoop, PLAIN, signOf, type GradientMethod, type LoopContext, type LoopState } from './gradient-loop.js';
import { DECAY_PARAMETER, SCHEDULE_PARAMETERS } from './mi-fgsm.js';
import { NON_NEGATIVE, param } from '../common/params.js';
import { defineAttack, type AttackParamsOf } from './types.js';

/**
 * Gao et al.'s settings (2007.06765, as TransferAttack runs PI-FGSM): 10 steps of eps/steps
 * amplified 10 times, no momentum (decay 1 is their MPI-FGSM), a 3x3 projection kernel, and
 * projected noise of size gamma = beta * stepSize as in the authors' code, which follows the
 * schedule (eps at 10 steps of eps/10). TransferAttack fixes gamma at 16/255 whatever eps and
 * the steps, which is the same number at its eps of 16/255 and 10 steps.
 */
export const PATCH_PARAMETERS = [
  ...SCHEDULE_PARAMETERS,
  { ...DECAY_PARAMETER, description: 'momentum decay mu (1: MPI-FGSM)', default: 0, defaultText: '0' },
  param({
    name: 'amplification',
    range: { type: 'number', minimum: 1 },
    description: 'PI-FGSM: amplification factor beta of the step (1: none)',
    default: 10,
  }),
  param({
    name: 'projectionKernel',
    range: { type: 'integer', minimum: 1, odd: true },
    description: 'PI-FGSM: side of the uniform kernel spreading the cut noise to its neighbours (odd)',
    default: 3,
  }),
  param({
    name: 'projectionFactor',
    range: NON_NEGATIVE,
    description: 'PI-FGSM: size gamma of the projected noise (0: none)',
    default: (p) => (p.amplification as number) * (p.stepSize as number),
    defaultText: 'amplification*stepSize',
  }),
];

type PatchParams = AttackParamsOf<typeof PATCH_PARAMETERS>;

/**
 * The projection kernel W_p applied per channel with zero padding: each pixel receives the mean
 * of its k x k neighbours, itself excluded (the kernel's centre is 0, the rest 1 / (k^2 - 1)).
 */
export function spreadToNeighbours(noise: Float32Array, shape: readonly number[], k: number): Float32Array {
  const [n, h, w, c] = shape as [number, number, number, number];
  const out = new Float32Array(noise.length);
  if (k === 1) return out;
  const r = (k - 1) / 2;
  const weight = Math.fround(1 / (k * k - 1));
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let ch = 0; ch < c; ch++) {
          let sum = 0;
          for (let dy = -r; dy <= r; dy++) {
            const yy = y + dy;
            if (yy < 0 || yy >= h) continue;
            for (let dx = -r; dx <= r; dx++) {
              const xx = x + dx;
              if ((dy === 0 && dx === 0) || xx < 0 || xx >= w) continue;
              sum += noise[((b * h + yy) * w + xx) * c + ch] as number;
            }
          }
          out[((b * h + y) * w + x) * c + ch] = Math.fround(sum * weight);
        }
      }
    }
  }
  return out;
}

/**
 * PI-FGSM's step: the amplified step beta * alpha * sign(g) accumulates into a; what of a lies
 * beyond eps (the cut noise, which the clip would throw away) is spread over its neighbours by
 * W_p and added as gamma * sign(W_p * cut) to both a and the perturbation, which is then clipped
 * into the eps-ball and [0, 1]. With beta 1 and gamma 0 this is the loop's plain L-inf step.
 */
function patchStep(params: PatchParams, context: LoopContext, state: LoopState, direction: Float32Array): Float32Array {
  const { batch } = context;
  const f = Math.fround;
  const eps = f(params.eps);
  const step = f(f(params.amplification * params.stepSize) * context.direction);
  const gamma = f(params.projectionFactor);
  const amplification = state.amplification ?? new Float32Array(direction.length);
  const moved = new Float32Array(direction.length);
  for (let i = 0; i < direction.length; i++) {
    moved[i] = f(signOf(direction[i] as number) * step);
    amplification[i] = f((amplification[i] as number) + (moved[i] as number));
  }
  const cut = amplification.map((a) => Math.sign(a) * Math.max(Math.abs(a) - eps, 0));
  const spread = spreadToNeighbours(cut, [batch.labels.length, ...batch.imageShape], params.projectionKernel);
  const out = new Float32Array(direction.length);
  for (let i = 0; i < out.length; i++) {
    const projection = f(gamma * Math.sign(spread[i] as number));
    amplification[i] = f((amplification[i] as number) + projection);
    const original = state.original[i] as number;
    // In the loop's order of float32 roundings (x + step, then - original), so beta 1 and gamma 0 give its images bit
    // for bit.
    const delta = Math.min(
      Math.max(f(f(f((state.x[i] as number) + (moved[i] as number)) - original) + projection), -eps),
      eps,
    );
    out[i] = Math.min(Math.max(f(original + delta), 0), 1);
  }
  state.amplification = amplification;
  return out;
}

const patchWise = (params: PatchParams): GradientMethod => ({
  gradient: PLAIN.gradient,
  step: (context, state, direction) => patchStep(params, context, state, direction),
});

/**
 * Patch-wise iterative FGSM (Gao et al. 2007.06765): amplified steps whose overflow beyond eps is projected onto
 * neighbouring pixels.
 */
export const piFgsm = defineAttack({
  name: 'pi-fgsm',
  kind: 'multi-step',
  description:
    'patch-wise iterative FGSM: amplified steps, the noise cut by ' +
    'the clip projected onto its neighbours (Gao et al. 2007.06765)',
  usesLabels: true,
  parameters: PATCH_PARAMETERS,
  transformable: true,
  craft: (batch, params, transforms) =>
    gradientLoop(batch, { ...params, norm: 'linf', randomStart: false }, { transforms, method: patchWise(params) }),
});
