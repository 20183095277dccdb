import { Random } from '../common/random.js';
import type { Crafting } from './crafting.js';
import { gradientLoop, PLAIN, type GradientMethod, type LoopContext, type LoopState } from './gradient-loop.js';
import { MOMENTUM_PARAMETERS } from './mi-fgsm.js';
import { lookAhead } from './ni-fgsm.js';
import { NON_NEGATIVE, param } from '../common/params.js';
import { defineAttack, type AttackParamsOf } from './types.js';

/** Wang and He's defaults (2103.15571, as in TransferAttack): 20 neighbours within 1.5 eps. */
export const VARIANCE_PARAMETERS = [
  ...MOMENTUM_PARAMETERS,
  param({
    name: 'neighbours',
    range: { type: 'integer', minimum: 0 },
    description: 'neighbours sampled to estimate the gradient variance (0: none)',
    default: 20,
  }),
  param({
    name: 'neighbourhood',
    range: NON_NEGATIVE,
    description: 'radius of the neighbourhood, in units of eps (beta of Wang and He)',
    default: 1.5,
  }),
];

type VarianceParams = AttackParamsOf<typeof VARIANCE_PARAMETERS>;

/** A uniform point of the L-inf box of radius `radius` around each image, drawn per image id and evaluation. */
function neighbour(
  context: LoopContext,
  seed: number,
  point: Float32Array,
  radius: number,
  evaluation: number,
): Float32Array {
  const { batch } = context;
  const size = batch.imageShape[0] * batch.imageShape[1] * batch.imageShape[2];
  const out = new Float32Array(point.length);
  batch.ids.forEach((id, k) => {
    const random = new Random(seed).fork(`vmi:${evaluation}:${id}`);
    for (let i = k * size; i < (k + 1) * size; i++) out[i] = (point[i] as number) + (2 * random.next() - 1) * radius;
  });
  return out;
}

/**
 * Variance tuning: the step's gradient g at `point` plus the previous step's variance v; the new
 * v is the mean gradient of `neighbours` points sampled around `point`, minus g. With no
 * neighbours v stays 0 and the method is its base (MI-FGSM, or NI-FGSM with the look-ahead).
 */
export function varianceTuned(base: GradientMethod, atLookAhead: boolean, params: VarianceParams): GradientMethod {
  return {
    gradient: function* (context: LoopContext, state: LoopState): Crafting<Float32Array> {
      const g = yield* base.gradient(context, state);
      const tuned = state.variance === undefined ? g : g.map((v, i) => v + (state.variance?.[i] as number));
      if (params.neighbours > 0) {
        const point = atLookAhead ? lookAhead(context, state) : state.x;
        const sum = new Float32Array(g.length);
        for (let j = 0; j < params.neighbours; j++) {
          const around = neighbour(context, params.seed, point, params.neighbourhood * params.eps, state.evaluations);
          const gj = yield* context.gradientAt(state, around);
          for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (gj[i] as number);
        }
        state.variance = sum.map((s, i) => s / params.neighbours - (g[i] as number));
      }
      return tuned;
    },
  };
}

export const vmiFgsm = defineAttack({
  name: 'vmi-fgsm',
  kind: 'multi-step',
  description:
    'variance-tuned MI-FGSM: each gradient corrected by the gradient ' +
    'variance around the previous point (Wang and He 2103.15571)',
  usesLabels: true,
  parameters: VARIANCE_PARAMETERS,
  transformable: true,
  craft: (batch, params, transforms) =>
    gradientLoop(
      batch,
      { ...params, norm: 'linf', randomStart: false },
      { transforms, method: varianceTuned(PLAIN, false, params) },
    ),
});
