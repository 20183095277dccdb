import { float } from '../../onnx-gradient/ir.js';
import type { NetworkBuilder } from '../builder.js';

/**
 * PyTorch's BatchNorm2d defaults (Ioffe and Szegedy 1502.03167): running averages at momentum 0.1 in its
 * convention.
 */
const EPSILON = 1e-5;
const MOMENTUM = 0.9;

/**
 * BatchNormalization over the channels (axis 1): scale 1, shift 0, running mean 0 and variance 1
 * to start. Inference reads the running statistics; the training engine rewrites it to the
 * batch's own (onnx-train/training-form.ts).
 */
export function batchNorm(b: NetworkBuilder, input = b.current): string {
  const channels = b.shape[0] as number;
  const out = b.emit.node(
    'BatchNormalization',
    [
      input,
      b.weight('bn_scale', [channels], 'ones'),
      b.weight('bn_shift', [channels], 'zeros'),
      b.statistic('bn_mean', channels, 0),
      b.statistic('bn_var', channels, 1),
    ],
    { epsilon: float(EPSILON), momentum: float(MOMENTUM) },
  );
  b.current = out;
  return out;
}
