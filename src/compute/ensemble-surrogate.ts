import * as tf from '@tensorflow/tfjs';
import { lossOfLogits } from './tfjs-surrogate.js';
import { TransferbenchError } from '../common/errors.js';
import { refuseVariant, type LossGradient, type LossRequest, type Surrogate } from './surrogate.js';

/** A surrogate that can also backpropagate any upstream gradient of its logits (a vector-Jacobian product). */
export interface LogitsDifferentiable extends Surrogate {
  logitsGradient(images: Float32Array, upstream: Float32Array): Promise<Float32Array>;
}

export function hasLogitsGradient(surrogate: Surrogate): surrogate is LogitsDifferentiable {
  return typeof (surrogate as Partial<LogitsDifferentiable>).logitsGradient === 'function';
}

/** Po+Trip and its gradient on given logits, by tfjs's autodiff of the tfjs surrogates' definition. */
function poTripOnLogits(logits: Float32Array, labels: Int32Array, classes: number, request: LossRequest) {
  return tf.tidy(() => {
    const z = tf.tensor2d(logits, [labels.length, classes]);
    const y = tf.tensor1d(labels, 'int32');
    const loss = lossOfLogits(z, y, request);
    const upstream = tf.grad((x: tf.Tensor) => lossOfLogits(x as tf.Tensor2D, y, request).sum())(z);
    return { loss: loss.dataSync() as Float32Array, upstream: upstream.dataSync() as Float32Array };
  });
}

/**
 * The losses of `SURROGATE_LOSSES` on given logits, with their gradient with respect to the
 * logits: what a combinator needs to differentiate a loss of combined logits.
 */
export function lossOnLogits(
  logits: Float32Array,
  labels: Int32Array,
  classes: number,
  request: LossRequest,
): { loss: Float32Array; upstream: Float32Array } {
  const count = labels.length;
  if (request.loss === 'po-trip') return poTripOnLogits(logits, labels, classes, request);
  const loss = new Float32Array(count);
  const upstream = new Float32Array(count * classes);
  const kappa = request.kappa ?? 0;
  for (let i = 0; i < count; i++) {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    const y = labels[i] as number;
    if (request.loss === 'cross-entropy') {
      const max = row.reduce((m, v) => Math.max(m, v), Number.NEGATIVE_INFINITY);
      let sum = 0;
      for (const v of row) sum += Math.exp(v - max);
      loss[i] = Math.log(sum) + max - (row[y] as number);
      for (let j = 0; j < classes; j++)
        upstream[i * classes + j] = Math.exp((row[j] as number) - max) / sum - (j === y ? 1 : 0);
      continue;
    }
    if (request.loss === 'logit') {
      loss[i] = -(row[y] as number);
      upstream[i * classes + y] = -1;
      continue;
    }
    let other = -1;
    for (let j = 0; j < classes; j++)
      if (j !== y && (other < 0 || (row[j] as number) > (row[other] as number))) other = j;
    const margin =
      request.loss === 'cw-untargeted'
        ? (row[y] as number) - (row[other] as number)
        : (row[other] as number) - (row[y] as number);
    // max(margin, -kappa): the clamp wins ties and passes no gradient.
    loss[i] = Math.max(margin, -kappa);
    if (margin > -kappa) {
      const sign = request.loss === 'cw-untargeted' ? 1 : -1;
      upstream[i * classes + y] = sign;
      upstream[i * classes + other] = -sign;
    }
  }
  return { loss, upstream };
}

/**
 * How an ensemble combines its members (Dong et al. 1710.06081 compare the three): `logits`
 * averages the logits and takes the loss on the mean (Liu et al. 1611.02770 average
 * probabilities, Dong et al. found logits best), `loss` averages the members' losses.
 */
export const ENSEMBLE_COMBINATIONS = ['logits', 'loss'] as const;
export type EnsembleCombination = (typeof ENSEMBLE_COMBINATIONS)[number];

/**
 * An ensemble of surrogates. With `logits` the loss is taken on the mean logits and its gradient
 * is the mean of the members' vector-Jacobian products with the loss's gradient with respect to
 * those mean logits (members must offer `logitsGradient`: tfjs ones do); with `loss` it is the
 * mean of the members' own losses and gradients, which any surrogate gives (onnxruntime ones).
 * Its logits are the mean logits either way. Disposing the ensemble disposes its members.
 */
export class EnsembleSurrogate implements Surrogate {
  readonly imageShape: readonly [number, number, number];
  readonly classes: number;

  private constructor(
    readonly name: string,
    private readonly members: readonly Surrogate[],
    readonly combination: EnsembleCombination,
  ) {
    const first = members[0];
    if (first === undefined)
      throw new TransferbenchError('BAD_CONFIG', `${name}: an ensemble needs at least one member`);
    for (const member of members) {
      if (member.imageShape.join('x') !== first.imageShape.join('x') || member.classes !== first.classes) {
        throw new TransferbenchError(
          'BAD_CONFIG',
          `${name}: member ${member.name} takes ${member.imageShape.join('x')} ` +
            `images into ${member.classes} classes, ${first.name} ${first.imageShape.join('x')} ` +
            `into ${first.classes}; ensemble members must agree`,
        );
      }
    }
    this.imageShape = first.imageShape;
    this.classes = first.classes;
  }

  /** An ensemble, its members checked for what the combination needs. */
  static of(
    name: string,
    members: readonly Surrogate[],
    combination: EnsembleCombination = 'logits',
  ): EnsembleSurrogate {
    const lacking = combination === 'logits' ? members.filter((m) => !hasLogitsGradient(m)) : [];
    if (lacking.length > 0) {
      throw new TransferbenchError(
        'BAD_CONFIG',
        `${name}: member(s) ${lacking.map((m) => m.name).join(', ')} ` +
          `cannot backpropagate a gradient of their logits (logitsGradient), ` +
          `which a logits ensemble needs; combine by "loss" instead`,
      );
    }
    return new EnsembleSurrogate(name, members, combination);
  }

  private mean(parts: readonly Float32Array[]): Float32Array {
    const out = new Float32Array((parts[0] as Float32Array).length);
    for (const part of parts)
      for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + (part[i] as number) / parts.length;
    return out;
  }

  async logits(images: Float32Array, count: number): Promise<Float32Array> {
    const parts: Float32Array[] = [];
    // One member at a time: members may share the same cores (onnxruntime, wasm).
    for (const member of this.members) parts.push(await member.logits(images, count));
    return this.mean(parts);
  }

  async lossGradient(images: Float32Array, labels: Int32Array, request: LossRequest): Promise<LossGradient> {
    if (this.combination === 'loss') {
      const answers: LossGradient[] = [];
      for (const member of this.members) answers.push(await member.lossGradient(images, labels, request));
      return {
        logits: this.mean(answers.map((a) => a.logits)),
        loss: this.mean(answers.map((a) => a.loss)),
        gradient: this.mean(answers.map((a) => a.gradient)),
      };
    }
    // The mean logits are the plain members': a variant reaches members only through their own losses.
    refuseVariant(this.name, request, 'averages its members\' plain logits (combine "logits"); combine by "loss"');
    const logits = await this.logits(images, labels.length);
    const { loss, upstream } = lossOnLogits(logits, labels, this.classes, request);
    const parts: Float32Array[] = [];
    for (const member of this.members)
      parts.push(await (member as LogitsDifferentiable).logitsGradient(images, upstream));
    return { logits, loss, gradient: this.mean(parts) };
  }

  async dispose(): Promise<void> {
    for (const member of this.members) await member.dispose();
  }
}
