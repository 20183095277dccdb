import * as tf from '@tensorflow/tfjs';
import { gradientLoop, type GradientMethod, type LoopContext, type LoopState } from './gradient-loop.js';
import { MOMENTUM_PARAMETERS } from './mi-fgsm.js';
import { defineAttack } from './types.js';
import { valuesOf } from '../compute/values.js';

/**
 * Nesterov's look-ahead (Lin et al. 1908.06281): x + direction * stepSize * decay * momentum,
 * the point TransferAttack's NI-FGSM takes the gradient at. With decay 0 (or before the first
 * step) it is x itself, so NI-FGSM with decay 0 is I-FGSM.
 */
export function lookAhead(context: LoopContext, state: LoopState): Float32Array {
  const { params } = context;
  if (state.momentum === undefined || params.decay === 0) return state.x;
  const shape: [number, number, number, number] = [context.batch.labels.length, ...context.batch.imageShape];
  const momentum = state.momentum;
  return valuesOf(
    tf.tidy(() =>
      tf
        .tensor4d(state.x, shape)
        .add(tf.tensor4d(momentum, shape).mul(context.direction * params.stepSize * params.decay)),
    ),
  );
}

export const NESTEROV: GradientMethod = {
  gradient: (context, state) => context.gradientAt(state, lookAhead(context, state)),
};

/** NI-FGSM: MI-FGSM with the gradient taken at Nesterov's look-ahead point. */
export const niFgsm = defineAttack({
  name: 'ni-fgsm',
  kind: 'multi-step',
  description: 'Nesterov iterative FGSM: MI-FGSM with the gradient at the look-ahead point (Lin et al. 1908.06281)',
  usesLabels: true,
  parameters: MOMENTUM_PARAMETERS,
  transformable: true,
  craft: (batch, params, transforms) =>
    gradientLoop(batch, { ...params, norm: 'linf', randomStart: false }, { transforms, method: NESTEROV }),
});
