import { TransferbenchError } from '../../common/errors.js';
import type { SurrogateLoss } from '../surrogate.js';
import type { Emitter } from './emit.js';
import { int, ints, onnx } from './ir.js';

export const LAYOUTS = ['NHWC', 'NCHW'] as const;
export const OUTPUT_KINDS = ['logits', 'probabilities', 'log-probabilities'] as const;

/**
 * How transferbench's images reach an ONNX classifier and how to read its output: the fields of
 * a target descriptor (src/targets/descriptor.ts) the gradient needs, without importing targets.
 */
export interface OnnxModelDescription {
  readonly inputName: string;
  readonly outputName: string;
  /** Memory layout the model expects; transferbench's images are NHWC. */
  readonly layout: (typeof LAYOUTS)[number];
  /** One image's shape in the model's layout, without the batch: [H, W, C] or [C, H, W]. */
  readonly inputShape: readonly [number, number, number];
  /** Pixels in [0, 1] are first mapped linearly onto this range... */
  readonly inputRange: readonly [number, number];
  /** ...then normalised per channel: (v - mean[c]) / std[c] (one value, or one per channel). */
  readonly normalization: { readonly mean: readonly number[]; readonly std: readonly number[] };
  readonly outputKind: (typeof OUTPUT_KINDS)[number];
  readonly classes: number;
}

/** Names of the generated model's inputs and outputs. */
export const GRADIENT_IO = {
  /** float32 [N, H, W, C] in [0, 1]. */
  images: 'images',
  /** int32 [N]: the class to move away from, or the target of a targeted loss. */
  labels: 'labels',
  /** float32 scalar []: C&W confidence margin (C&W losses only). */
  kappa: 'kappa',
  /** float32 [N, classes]: logits (log-probabilities for a model that outputs probabilities). */
  logits: 'logits',
  /** float32 [N]: per-image loss. */
  loss: 'loss',
  /** float32 [N, H, W, C]: d loss_i / d images_i. */
  gradient: 'gradient',
} as const;

export function imageShapeOf(d: Pick<OnnxModelDescription, 'layout' | 'inputShape'>): [number, number, number] {
  const [a, b, c] = d.inputShape;
  return d.layout === 'NHWC' ? [a, b, c] : [b, c, a];
}

/**
 * images (NHWC, [0, 1]) -> the model's input: one Mul and one Add fold the range and the
 * per-channel normalisation (scale (hi - lo) / std, offset (lo - mean) / std), each left out when
 * it is the identity, then a Transpose for an NCHW model.
 */
export function preprocessing(emit: Emitter, d: OnnxModelDescription): void {
  const channels = imageShapeOf(d)[2];
  const perChannel = (values: readonly number[], key: string) => {
    if (values.length !== 1 && values.length !== channels) {
      throw new TransferbenchError(
        'BAD_OPTION',
        `normalization.${key} has ${values.length} values; expected 1 or one per channel (${channels})`,
      );
    }
    return Array.from({ length: channels }, (_, c) => (values.length === 1 ? values[0] : values[c]) as number);
  };
  const mean = perChannel(d.normalization.mean, 'mean');
  const std = perChannel(d.normalization.std, 'std');
  const [lo, hi] = d.inputRange;
  const scale = std.map((s) => (hi - lo) / s);
  const offset = mean.map((m, c) => (lo - m) / (std[c] as number));
  // onnxruntime runs a Mul by 1 as any other (on model C at batch 256 it and its gradient took 4% of the gradient
  // graph's kernel time).
  const scaled = scale.every((v) => v === 1)
    ? GRADIENT_IO.images
    : emit.node('Mul', [GRADIENT_IO.images, emit.floats([channels], scale)]);
  const target = d.layout === 'NHWC' ? d.inputName : undefined;
  const normalised = offset.every((v) => v === 0)
    ? emit.node('Identity', [scaled], {}, target)
    : emit.node('Add', [scaled, emit.floats([channels], offset)], {}, target);
  if (d.layout === 'NCHW') emit.node('Transpose', [normalised], { perm: ints([0, 3, 1, 2]) }, d.inputName);
}

/**
 * The model's output -> `logits` and the per-image `loss`, returning the summed loss the
 * gradient is seeded from. Every node here is differentiated by the same builders as the model.
 */
export function lossHead(emit: Emitter, d: OnnxModelDescription, loss: SurrogateLoss): string {
  const out = d.outputName;
  const z =
    d.outputKind === 'probabilities'
      ? emit.node('Log', [emit.node('Clip', [out, emit.floats([], [1e-30])])], {}, GRADIENT_IO.logits)
      : emit.node('Identity', [out], {}, GRADIENT_IO.logits);
  const labels = emit.unsqueeze(GRADIENT_IO.labels, [1]);
  const classes = emit.int32s(
    [1, d.classes],
    Array.from({ length: d.classes }, (_, i) => i),
  );
  const oneHot = emit.node('Cast', [emit.node('Equal', [labels, classes])], {
    to: int(onnx.TensorProto.DataType.FLOAT),
  });
  let perImage: string;
  if (loss === 'cross-entropy') {
    const logProbabilities = emit.node('LogSoftmax', [z], { axis: int(1) });
    perImage = emit.node(
      'Neg',
      [emit.reduceSum(emit.node('Mul', [logProbabilities, oneHot]), [1], false)],
      {},
      GRADIENT_IO.loss,
    );
  } else if (loss === 'po-trip') {
    throw new TransferbenchError(
      'BAD_OPTION',
      'loss po-trip: not built into ONNX gradient graphs; use cross-entropy or logit, or a tfjs substitute',
    );
  } else if (loss === 'logit') {
    perImage = emit.node('Neg', [emit.reduceSum(emit.node('Mul', [z, oneHot]), [1], false)], {}, GRADIENT_IO.loss);
  } else {
    const own = emit.reduceSum(emit.node('Mul', [z, oneHot]), [1], false);
    // The label's logit pushed far below the others, so the max is over the other classes.
    const others = emit.node('Sub', [z, emit.node('Mul', [oneHot, emit.floats([], [1e9])])]);
    const margin = emit.node('Sub', [own, emit.reduce('ReduceMax', others, [1], false)]);
    const signed = loss === 'cw-untargeted' ? margin : emit.node('Neg', [margin]);
    perImage = emit.node('Max', [signed, emit.node('Neg', [GRADIENT_IO.kappa])], {}, GRADIENT_IO.loss);
  }
  return emit.reduceSum(perImage, [0], false);
}
